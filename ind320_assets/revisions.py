"""Revisions: Elhub's `lastUpdatedTime`, which orders every write to every store.

Elhub bumps `lastUpdatedTime` whenever it republishes an hour. So the newest
revision of a row is the one with the latest `last_updated_time`, and every
store keeps that one, whichever run writes last (README, "Newest revision wins"):
- Cassandra: each row is written with `cassandra_write_time(last_updated_time)`
  as its cell write time, and Cassandra keeps the cell with the highest;
- MongoDB: a document carries `revision`, its rows' latest `last_updated_time`,
  and `revision_sum`, the sum of them; it is replaced only where the stored
  `revision_sum` is not larger. Each row only ever moves to a newer revision, so
  a document built later holds every row at least as new, and a larger sum. A
  document built from a read in the middle of another run's write mixes two
  revisions: it has the newer `revision` but a smaller sum than the complete
  one, so it can never replace it;
- a withdrawn row or document is deleted only by a writer whose partition
  revision (its latest `last_updated_time` in that partition) is not older
  than the row, and in Cassandra with that revision as the tombstone's time.

A partition's fingerprint is its latest `lastUpdatedTime` and its row count (a
count change means hours were added or withdrawn). The raw asset records these
fingerprints in its materializations; the revision sensor compares them with
what Elhub serves now, and the raw asset's `rows_not_withdrawn` check with
what it loads.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from ind320_assets.partition_slice import PartitionSlice

REVISIONS_METADATA_KEY = "revisions"
REVISION_COLUMN = "last_updated_time"  # every row's revision
REVISION_FIELD = "revision"  # a MongoDB document's revision: its rows' latest
REVISION_SUM_FIELD = "revision_sum"  # and the sum of its rows' revisions, in ms: orders replaces

# Cassandra write times are microseconds, by convention since the epoch, and the
# driver's own writes use the wall clock. Revisions are written this far above
# it, so that no wall-clock write (a row written before revision write times, or
# by hand in cqlsh) can outlive a revision, and revisions still order among
# themselves. 2**60 us is ~36,500 years, and a write time is a signed 64-bit number.
REVISION_WRITE_TIME_BASE = 1 << 60


def cassandra_write_time(last_updated: pd.Series) -> pd.Series:
    """The Cassandra write time (int64 microseconds) of rows with these `last_updated_time`s."""
    return last_updated.dt.as_unit("us").astype("int64") + REVISION_WRITE_TIME_BASE


def revision_ms(last_updated: pd.Series) -> pd.Series:
    """Revisions as int64 milliseconds since the epoch, the unit of a document's `revision_sum`."""
    return last_updated.dt.as_unit("ms").astype("int64")


def partition_revisions(stored_rows: pd.DataFrame) -> dict[tuple[str, str], pd.Timestamp]:
    """{(price_area, month): the latest `last_updated_time` of its rows}: how new a writer's
    view of each partition is."""
    if stored_rows.empty:
        return {}
    latest = stored_rows.groupby(["price_area", "month"])[REVISION_COLUMN].max()
    return {(area, month): pd.Timestamp(value) for (area, month), value in latest.items()}

Fingerprints = dict[str, dict]  # {partition key: {"last_updated": ISO time, "rows": n}}


def revision_fingerprints(frame: pd.DataFrame, partitions: PartitionSlice) -> Fingerprints:
    if frame.empty:
        return {}
    keyed = frame.assign(_partition=partitions.row_keys(frame))
    return {
        str(partition): {"last_updated": rows[REVISION_COLUMN].max().isoformat(), "rows": len(rows)}
        for partition, rows in keyed.groupby("_partition", sort=True)
    }


def materialized_fingerprints(instance: DagsterInstance, raw_key: AssetKey, keys: list[str]) -> Fingerprints:
    """What the latest materialization of each partition recorded about its revision."""
    found: Fingerprints = {}
    for key in keys:
        records = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=raw_key, asset_partitions=[key]), limit=1
        ).records
        if not records:
            continue
        recorded = records[0].asset_materialization.metadata.get(REVISIONS_METADATA_KEY)
        if recorded is not None and key in recorded.value:
            found[key] = recorded.value[key]
    return found

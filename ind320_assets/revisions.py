"""What identifies a revision of a partition: Elhub's latest `lastUpdatedTime` and the row count.

Elhub bumps `lastUpdatedTime` whenever it republishes an hour, and a row count
change means hours were added or withdrawn. The raw asset records these
fingerprints in its materializations; the revision sensor compares them with
what Elhub serves now, and the raw asset's `rows_not_withdrawn` check with
what it loads.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance

from ind320_assets.partition_slice import PartitionSlice

REVISIONS_METADATA_KEY = "revisions"

Fingerprints = dict[str, dict]  # {partition key: {"last_updated": ISO time, "rows": n}}


def revision_fingerprints(frame: pd.DataFrame, partitions: PartitionSlice) -> Fingerprints:
    if frame.empty:
        return {}
    keyed = frame.assign(_partition=partitions.row_keys(frame))
    return {
        str(partition): {"last_updated": rows["last_updated_time"].max().isoformat(), "rows": len(rows)}
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

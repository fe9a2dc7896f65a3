"""Read what a store really holds, with its plain client, for the write checks.

These bypass our IO managers on purpose: a check that reads through the code
it checks would share its bugs. Each reads a slice's rows as a frame; `summarize`
makes them {(partition key, group): (rows, kWh)}, to compare with what the asset
handed its IO manager. A partition the store holds a newer revision of than the
run wrote is not compared: another run wrote it, and the newer revision wins.
"""

from __future__ import annotations

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue

from ind320_assets.frame_summary import SummaryKey, describe_differences, summarize
from ind320_assets.mongo_documents import read_partitions
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.revisions import REVISION_COLUMN, revision_fingerprints
from ind320_assets.row_schema import RowSchema

Summary = dict[SummaryKey, tuple[int, float]]


def _series_columns(schema: RowSchema) -> list[str]:
    """What names a stored row's series in a summary: its partition and its group."""
    return ["price_area", "month", *schema.series_columns[1:]]


def cassandra_summary(cassandra: CassandraResource, table: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    return summarize(cassandra_rows(cassandra, table, schema, partitions), partitions, schema.group_column, schema.quantity_columns)


def cassandra_rows(cassandra: CassandraResource, table: str, schema: RowSchema, partitions: PartitionSlice) -> pd.DataFrame:
    """The slice's rows in Cassandra: series, revision and quantities."""
    session = cassandra.session()
    columns = [*_series_columns(schema), REVISION_COLUMN, *schema.quantity_columns]
    select = session.prepare(
        f"SELECT {', '.join(columns)} FROM {cassandra.keyspace}.{table} WHERE price_area = ? AND month = ?"
    )
    results = execute_concurrent_with_args(session, select, partitions.pairs, concurrency=8, raise_on_first_error=True)
    frame = pd.DataFrame([row for _, result in results for row in result], columns=columns)
    frame[REVISION_COLUMN] = pd.to_datetime(frame[REVISION_COLUMN], utc=True)  # the driver's are naive UTC
    return frame


def mongo_summary(mongo: MongoResource, collection: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    return summarize(mongo_rows(mongo, collection, schema, partitions), partitions, schema.group_column, schema.quantity_columns)


def mongo_rows(mongo: MongoResource, collection: str, schema: RowSchema, partitions: PartitionSlice) -> pd.DataFrame:
    """One row per element of a day document's hour arrays: series, revision and quantities.
    A document missing a field, or with arrays of unequal length, fails the check naming its `_id`."""
    series, start = _series_columns(schema), schema.row_key[-1]
    per_hour = [REVISION_COLUMN, *schema.quantity_columns]
    projection = {c: 1 for c in [*series, start, *per_hour]}
    rows = []
    for doc in read_partitions(mongo.db()[collection], schema, partitions, projection):
        try:
            named = [doc[c] for c in series]
            hours = list(zip(doc[start], *(doc[f] for f in per_hour), strict=True))
        except KeyError as missing:
            raise ValueError(f"MongoDB document {doc['_id']!r} has no field {missing}") from None
        except ValueError:
            raise ValueError(f"MongoDB document {doc['_id']!r} has hour arrays of unequal length") from None
        rows.extend((*named, *values) for _, *values in hours)
    frame = pd.DataFrame(rows, columns=[*series, *per_hour])
    frame[REVISION_COLUMN] = pd.to_datetime(frame[REVISION_COLUMN], utc=True)
    return frame


def superseded(written: pd.DataFrame, stored: pd.DataFrame, partitions: PartitionSlice) -> list[str]:
    """The partitions a store holds a newer revision of than `written`: another run's, which wins."""
    ours, stores = revision_fingerprints(written, partitions), revision_fingerprints(stored, partitions)
    return sorted(
        key for key, theirs in stores.items()
        if key in ours and pd.Timestamp(theirs["last_updated"]) > pd.Timestamp(ours[key]["last_updated"])
    )


def matches(
    check_name: str, asset_key: AssetKey, written: pd.DataFrame, stored: pd.DataFrame, partitions: PartitionSlice,
    schema: RowSchema,
) -> AssetCheckResult:
    """Passes when every (partition, series) holds the same rows and kWh in the rows the run
    wrote and in those the store holds, but in partitions the store holds a newer revision of."""
    newer = superseded(written, stored, partitions)
    expected, actual = (
        {key: value for key, value in summarize(frame, partitions, schema.group_column, schema.quantity_columns).items()
         if key[0] not in newer}
        for frame in (written, stored)
    )
    differences = describe_differences(expected, actual)
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not differences,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "series_compared": len(expected),
            "differences": MetadataValue.md("\n".join(f"- {d}" for d in differences[:50]) or "none"),
            "superseded_by_newer_revision": MetadataValue.json(newer),
        },
    )

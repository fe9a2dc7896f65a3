"""Read what a store really holds, with its plain client, for the write checks.

These bypass our IO managers on purpose: a check that reads through the code
it checks would share its bugs. Each returns {(partition key, group): (rows,
kWh)}, to compare with what the asset handed its IO manager.
"""

from __future__ import annotations

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args
from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue

from ind320_assets.frame_summary import SummaryKey, describe_differences, summarize
from ind320_assets.mongo_sync import read_partitions
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.row_schema import RowSchema

Summary = dict[SummaryKey, tuple[int, float]]


def _summed_columns(schema: RowSchema) -> list[str]:
    """What a summary reads of a stored row: its partition, its series and its quantities."""
    return ["price_area", "month", *schema.series_columns[1:], *schema.quantity_columns]


def cassandra_summary(cassandra: CassandraResource, table: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    session = cassandra.session()
    columns = _summed_columns(schema)
    select = session.prepare(
        f"SELECT {', '.join(columns)} FROM {cassandra.keyspace}.{table} WHERE price_area = ? AND month = ?"
    )
    results = execute_concurrent_with_args(session, select, partitions.pairs, concurrency=8, raise_on_first_error=True)
    frame = pd.DataFrame([row for _, result in results for row in result], columns=columns)
    return summarize(frame, partitions, schema.group_column, schema.quantity_columns)


def mongo_summary(mongo: MongoResource, collection: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    columns = _summed_columns(schema)
    projection = {"_id": 0, **{c: 1 for c in columns}}
    documents = read_partitions(mongo.db()[collection], schema, partitions, projection)
    return summarize(pd.DataFrame(documents, columns=columns), partitions, schema.group_column, schema.quantity_columns)


def matches(check_name: str, asset_key: AssetKey, expected: Summary, actual: Summary) -> AssetCheckResult:
    """Passes when every (partition, series) holds the same rows and kWh in both."""
    differences = describe_differences(expected, actual)
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not differences,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "series_compared": len(expected),
            "differences": MetadataValue.md("\n".join(f"- {d}" for d in differences[:50]) or "none"),
        },
    )

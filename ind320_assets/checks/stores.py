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
from ind320_assets.mongo_documents import read_partitions
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.row_schema import RowSchema

Summary = dict[SummaryKey, tuple[int, float]]


def _series_columns(schema: RowSchema) -> list[str]:
    """What names a stored row's series in a summary: its partition and its group."""
    return ["price_area", "month", *schema.series_columns[1:]]


def cassandra_summary(cassandra: CassandraResource, table: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    session = cassandra.session()
    columns = [*_series_columns(schema), *schema.quantity_columns]
    select = session.prepare(
        f"SELECT {', '.join(columns)} FROM {cassandra.keyspace}.{table} WHERE price_area = ? AND month = ?"
    )
    results = execute_concurrent_with_args(session, select, partitions.pairs, concurrency=8, raise_on_first_error=True)
    frame = pd.DataFrame([row for _, result in results for row in result], columns=columns)
    return summarize(frame, partitions, schema.group_column, schema.quantity_columns)


def mongo_summary(mongo: MongoResource, collection: str, schema: RowSchema, partitions: PartitionSlice) -> Summary:
    """One row per element of a day document's hour arrays. A document missing a
    field, or with arrays of unequal length, fails the check naming its `_id`."""
    series, quantities, start = _series_columns(schema), list(schema.quantity_columns), schema.row_key[-1]
    projection = {c: 1 for c in [*series, start, *quantities]}
    rows = []
    for doc in read_partitions(mongo.db()[collection], schema, partitions, projection):
        try:
            named = [doc[c] for c in series]
            hours = list(zip(doc[start], *(doc[q] for q in quantities), strict=True))
        except KeyError as missing:
            raise ValueError(f"MongoDB document {doc['_id']!r} has no field {missing}") from None
        except ValueError:
            raise ValueError(f"MongoDB document {doc['_id']!r} has hour arrays of unequal length") from None
        rows.extend((*named, *values) for _, *values in hours)
    frame = pd.DataFrame(rows, columns=[*series, *quantities])
    return summarize(frame, partitions, schema.group_column, schema.quantity_columns)


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

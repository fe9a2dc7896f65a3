"""One Cassandra table: make sure it exists, replace a slice of it, read a slice back.

Replacing a slice is an upsert followed by a targeted delete, never a truncate:
1. append the new rows with the connector, each with its revision as its write
   time (`revisions.cassandra_write_time`): Cassandra keeps the cell with the
   highest write time, so an older revision written later never replaces a
   newer one, and readers see old or new values, never a gap;
2. for each (price_area, month) partition that held rows before the write,
   delete the rows whose keys are no longer in the new data and that are not
   newer than it (a newer row is one this writer has not seen yet), with a
   tombstone at the partition's revision: a row re-sent later by an older
   writer stays deleted, one republished later by Elhub comes back.
A rerun with the same data writes the same cells and deletes nothing, so it
converges; so do runs of different revisions, in any order.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F

from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_assets.revisions import REVISION_COLUMN, REVISION_WRITE_TIME_BASE, cassandra_write_time, partition_revisions
from ind320_assets.row_schema import PARTITION_COLUMNS, RowSchema

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"
WHERE_PARTITION = " AND ".join(f"{c} = ?" for c in PARTITION_COLUMNS)
# The connector's `writetime` option names a column of the frame holding each row's
# write time; the column itself is not stored.
WRITE_TIME_COLUMN = "revision_write_time"

StoredKey = tuple  # (price_area, month, *clustering values)
StoredRow = tuple  # (*StoredKey, last_updated_time)


def stale_keys(
    stored: Iterable[StoredRow], wanted: pd.DataFrame, schema: RowSchema, revisions: dict[tuple[str, str], pd.Timestamp]
) -> list[tuple[int, *StoredKey]]:
    """(tombstone write time, *key) for the stored rows that `wanted` (a frame with the primary
    key columns) no longer holds and that are not newer than their partition's revision in
    `revisions` ({(area, month): latest last_updated_time}); a row newer than that was written
    by a writer of a later revision than this one, so it is not ours to delete."""
    keep = set(map(tuple, wanted[list(schema.primary_key)].itertuples(index=False)))
    found = []
    for *key, last_updated in stored:
        comparable = tuple(_comparable(v) for v in key)
        revision = revisions.get(comparable[:2])
        if comparable in keep or revision is None or _comparable(last_updated) > revision:
            continue
        found.append((_write_time(revision), *key))
    return found


def _write_time(revision: pd.Timestamp) -> int:
    return int(cassandra_write_time(pd.Series([revision])).iloc[0])


def _comparable(value: object) -> object:
    """A driver value made comparable with the pandas key it was written from."""
    if hasattr(value, "tzinfo") and value.tzinfo is None:  # the driver returns naive UTC datetimes
        return pd.Timestamp(value, tz="UTC")
    return value


class CassandraTable:
    def __init__(
        self, spark: SparkCassandraResource, cassandra: CassandraResource, table: str, schema: RowSchema
    ) -> None:
        self.spark, self.cassandra, self.table, self.schema = spark, cassandra, table, schema

    @property
    def qualified_name(self) -> str:
        return f"{self.cassandra.keyspace}.{self.table}"

    def ensure_exists(self) -> None:
        # Through the connector's own session, so that it sees the table at once.
        self.spark.execute_cql(self.cassandra.create_keyspace_cql())
        self.spark.execute_cql(self.schema.create_table_cql(self.qualified_name))

    def replace_slice(self, rows: SparkDataFrame, keys: pd.DataFrame, partitions: PartitionSlice) -> int:
        """Make the slice's partitions hold exactly `rows` (whose primary keys are `keys`);
        returns how many stale rows were deleted."""
        self.ensure_exists()
        # Only partitions that held rows before this write can hold stale ones; on a
        # first backfill that skips reading every key back.
        occupied = self._occupied(partitions.pairs)
        write_time = F.unix_micros(F.col(REVISION_COLUMN)) + F.lit(REVISION_WRITE_TIME_BASE)
        rows.withColumn(WRITE_TIME_COLUMN, write_time).write.format(CASSANDRA_FORMAT).options(
            keyspace=self.cassandra.keyspace, table=self.table, writetime=WRITE_TIME_COLUMN
        ).mode("append").save()
        stale = stale_keys(self._stored_rows(occupied), keys, self.schema, partition_revisions(keys))
        if stale:
            session = self.cassandra.session()
            delete = session.prepare(
                f"DELETE FROM {self.qualified_name} USING TIMESTAMP ? WHERE "
                + " AND ".join(f"{c} = ?" for c in self.schema.primary_key)
            )
            delete.consistency_level = self.cassandra.consistency_level("write")
            execute_concurrent_with_args(session, delete, stale, concurrency=64, raise_on_first_error=True)
        return len(stale)

    def read_slice(self, partitions: PartitionSlice) -> SparkDataFrame:
        """Only the slice's partitions: `price_area = ? AND month IN (...)` per area,
        which the connector pushes down to Cassandra as partition-key lookups."""
        table = (
            self.spark.spark_session.read.format(CASSANDRA_FORMAT)
            .options(keyspace=self.cassandra.keyspace, table=self.table)
            .load()
        )
        slices = [
            table.filter((F.col("price_area") == area) & F.col("month").isin(months))
            for area, months in partitions.months_by_area().items()
        ]
        return reduce(SparkDataFrame.unionByName, slices)

    def _occupied(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        session = self.cassandra.session()
        probe = session.prepare(f"SELECT price_area FROM {self.qualified_name} WHERE {WHERE_PARTITION} LIMIT 1")
        results = execute_concurrent_with_args(session, probe, pairs, concurrency=16, raise_on_first_error=True)
        return [pair for pair, (_, rows) in zip(pairs, results) if rows.one() is not None]

    def _stored_rows(self, pairs: list[tuple[str, str]]) -> list[StoredRow]:
        if not pairs:
            return []
        session = self.cassandra.session()
        select = session.prepare(
            f"SELECT {', '.join([*self.schema.primary_key, REVISION_COLUMN])} FROM {self.qualified_name} "
            f"WHERE {WHERE_PARTITION}"
        )
        results = execute_concurrent_with_args(session, select, pairs, concurrency=8, raise_on_first_error=True)
        return [tuple(row) for _, rows in results for row in rows]

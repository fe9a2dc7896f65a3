"""Cassandra tables written and read through Spark and the Spark Cassandra Connector.

Writing is an upsert followed by a targeted delete, never a truncate:
1. append the new rows with the connector (rows with the same primary key are
   overwritten in place, so readers see old or new values, never a gap);
2. for each written (price_area, month) partition, delete only the rows whose
   keys are no longer in the new data.
A rerun with the same data writes the same cells and deletes nothing, so it
converges. Each Cassandra partition is one (price_area, month) pair, so many
Dagster partitions are handled pair by pair, never as a cross product.
"""


from collections import defaultdict
from functools import reduce

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pyspark.sql import DataFrame as SparkDataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ind320_assets.frame_summary import sums_per_group
from ind320_assets.partitions import ElhubPartition, parse_partition_keys
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.spark import SparkCassandraResource

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"
PARTITION_COLUMNS = ("price_area", "month")
WHERE_PARTITION = " AND ".join(f"{c} = ?" for c in PARTITION_COLUMNS)  # one Cassandra partition

# Asset metadata the IO manager reads.
TABLE_KEY = "cassandra/table"
CLUSTERING_KEY = "cassandra/clustering_columns"
GROUP_COLUMN_KEY = "elhub/group_column"

_CQL_TYPES = {
    T.StringType: "text",
    T.TimestampType: "timestamp",
    T.DoubleType: "double",
    T.LongType: "bigint",
    T.IntegerType: "int",
    T.BooleanType: "boolean",
}


def cql_type(spark_type: T.DataType) -> str:
    try:
        return _CQL_TYPES[type(spark_type)]
    except KeyError:
        raise TypeError(f"No CQL type for Spark type {spark_type}") from None


def create_table_cql(keyspace: str, table: str, schema: T.StructType, clustering: list[str]) -> str:
    columns = ", ".join(f"{f.name} {cql_type(f.dataType)}" for f in schema.fields)
    key = f"(({', '.join(PARTITION_COLUMNS)}), {', '.join(clustering)})"
    return f"CREATE TABLE IF NOT EXISTS {keyspace}.{table} ({columns}, PRIMARY KEY {key})"


def read_back_cql(keyspace: str, table: str, partitions: list[ElhubPartition]) -> str:
    """The CQL a person can paste into cqlsh to see what was written."""
    return "\n".join(
        f"SELECT * FROM {keyspace}.{table} WHERE price_area = '{p.price_area}' AND month = '{p.month}';"
        for p in partitions
    )


def spark_to_pandas(frame: SparkDataFrame) -> pd.DataFrame:
    """toPandas with timestamps as UTC-aware values (Spark hands back naive UTC)."""
    pdf = frame.toPandas()
    for field in frame.schema.fields:
        if isinstance(field.dataType, T.TimestampType):
            pdf[field.name] = pd.to_datetime(pdf[field.name]).dt.tz_localize("UTC")
    return pdf


class CassandraSparkIOManager(ConfigurableIOManager):
    """Stores partitioned frames in `<keyspace>.<asset's cassandra/table>` through Spark."""

    spark: ResourceDependency[SparkCassandraResource]
    cassandra: ResourceDependency[CassandraResource]  # also names the keyspace

    @property
    def keyspace(self) -> str:
        return self.cassandra.keyspace

    # --- writing ------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: pd.DataFrame | SparkDataFrame) -> None:
        table = context.definition_metadata[TABLE_KEY]
        clustering = list(context.definition_metadata[CLUSTERING_KEY])
        partitions = parse_partition_keys(context.asset_partition_keys)
        session = self.spark.spark_session

        frame = obj if isinstance(obj, SparkDataFrame) else session.createDataFrame(obj)
        # Keys and values are small (a year is ~215k rows), so one collect serves
        # the partition check, the stale-row delete and the metadata.
        key_columns = [*PARTITION_COLUMNS, *clustering]
        if isinstance(obj, SparkDataFrame):
            keys = spark_to_pandas(frame.select(*key_columns, "quantity_kwh"))
        else:
            keys = obj[[*key_columns, "quantity_kwh"]]
        _check_rows_belong_to(keys, partitions)

        self.spark.execute_cql(self.cassandra.create_keyspace_cql(self.keyspace))
        self.spark.execute_cql(create_table_cql(self.keyspace, table, frame.schema, clustering))
        # Only partitions that held rows before this write can hold stale ones; on a
        # first backfill that skips reading every key back.
        occupied = self._occupied_partitions(table, partitions)
        frame.write.format(CASSANDRA_FORMAT).options(keyspace=self.keyspace, table=table).mode("append").save()
        deleted = self._delete_stale_rows(table, clustering, occupied, keys)

        group_column = context.definition_metadata.get(GROUP_COLUMN_KEY, clustering[0])
        context.add_output_metadata({
            "dagster/row_count": len(keys),
            "dagster/table_name": f"{self.keyspace}.{table}",
            "partitions_written": len(partitions),
            "stale_rows_deleted": deleted,
            "read_back_cql": MetadataValue.md(f"```sql\n{read_back_cql(self.keyspace, table, partitions)}\n```"),
            "sums_kwh_per_group": MetadataValue.json(sums_per_group(keys, group_column)),
        })

    def _occupied_partitions(self, table: str, partitions: list[ElhubPartition]) -> list[ElhubPartition]:
        session = self.cassandra.session()
        probe = session.prepare(f"SELECT {PARTITION_COLUMNS[0]} FROM {self.keyspace}.{table} WHERE {WHERE_PARTITION} LIMIT 1")
        results = execute_concurrent_with_args(
            session, probe, [(p.price_area, p.month) for p in partitions], concurrency=16, raise_on_first_error=True
        )
        return [p for p, (_, rows) in zip(partitions, results) if rows.one() is not None]

    def _delete_stale_rows(
        self, table: str, clustering: list[str], partitions: list[ElhubPartition], new_keys: pd.DataFrame
    ) -> int:
        session = self.cassandra.session()
        select = session.prepare(f"SELECT {', '.join(clustering)} FROM {self.keyspace}.{table} WHERE {WHERE_PARTITION}")
        delete = session.prepare(
            f"DELETE FROM {self.keyspace}.{table} WHERE {WHERE_PARTITION} AND "
            + " AND ".join(f"{c} = ?" for c in clustering)
        )
        wanted = {
            (area, month): set(map(tuple, rows[clustering].itertuples(index=False)))
            for (area, month), rows in new_keys.groupby(list(PARTITION_COLUMNS))
        }
        stale = []
        for p in partitions:
            keep = wanted.get((p.price_area, p.month), set())
            for row in session.execute(select, (p.price_area, p.month)):
                key = tuple(_normalize(v) for v in row)
                if key not in keep:
                    stale.append((p.price_area, p.month, *row))
        if stale:
            execute_concurrent_with_args(session, delete, stale, concurrency=64, raise_on_first_error=True)
        return len(stale)

    # --- reading ------------------------------------------------------------------------
    def load_input(self, context: InputContext) -> pd.DataFrame | SparkDataFrame:
        upstream = context.upstream_output
        table = upstream.definition_metadata[TABLE_KEY]
        partitions = parse_partition_keys(context.asset_partition_keys)
        frame = self.read_partitions(table, partitions)
        wants_spark = context.dagster_type.typing_type is SparkDataFrame
        return frame if wants_spark else spark_to_pandas(frame)

    def read_partitions(self, table: str, partitions: list[ElhubPartition]) -> SparkDataFrame:
        """Only the requested partitions: `price_area = ? AND month IN (...)` per area,
        which the connector pushes down to Cassandra as partition-key lookups."""
        table_frame = (
            self.spark.spark_session.read.format(CASSANDRA_FORMAT)
            .options(keyspace=self.keyspace, table=table)
            .load()
        )
        months_by_area: dict[str, list[str]] = defaultdict(list)
        for p in partitions:
            months_by_area[p.price_area].append(p.month)
        slices = [
            table_frame.filter((F.col("price_area") == area) & F.col("month").isin(months))
            for area, months in sorted(months_by_area.items())
        ]
        return reduce(SparkDataFrame.unionByName, slices)


def _normalize(value: object) -> object:
    """Make a driver value comparable with the pandas key it was written from."""
    if hasattr(value, "tzinfo") and value.tzinfo is None:  # the driver returns naive UTC datetimes
        return pd.Timestamp(value, tz="UTC")
    return value


def _check_rows_belong_to(keys: pd.DataFrame, partitions: list[ElhubPartition]) -> None:
    allowed = {(p.price_area, p.month) for p in partitions}
    found = set(zip(keys["price_area"], keys["month"]))
    outside = sorted(found - allowed)
    if outside:
        raise ValueError(f"Refusing to write rows outside this run's partitions: {outside[:5]}")

"""The configurable Cassandra-via-Spark IO manager: asset metadata in, table client out."""

from __future__ import annotations

from dagster import (
    ConfigurableIOManagerFactory,
    InputContext,
    IOManager,
    MetadataValue,
    OutputContext,
)

from ind320_assets.frame_summary import sums_per_group
from ind320_assets.io_managers.cassandra_spark.table import CassandraTable
from ind320_assets.io_managers.cassandra_spark.type_handlers import handler_for
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_assets.row_schema import CASSANDRA_TABLE_KEY, schema_from_metadata


class CassandraSparkIOManager(ConfigurableIOManagerFactory):
    """Stores an asset's partitions in `<keyspace>.<its cassandra/table>` through Spark.

    The asset declares its table (`cassandra/table`) and its columns and row key
    (`dagster/column_schema`, from `ind320_assets.row_schema`).
    """

    spark: SparkCassandraResource
    cassandra: CassandraResource  # also names the keyspace

    def create_io_manager(self, context) -> IOManager:  # noqa: ANN001 - Dagster's signature
        return _CassandraSparkIOManager(self.spark, self.cassandra)


class _CassandraSparkIOManager(IOManager):
    def __init__(self, spark: SparkCassandraResource, cassandra: CassandraResource) -> None:
        self.spark, self.cassandra = spark, cassandra

    def _table(self, metadata: dict) -> CassandraTable:
        return CassandraTable(self.spark, self.cassandra, metadata[CASSANDRA_TABLE_KEY], schema_from_metadata(metadata))

    def handle_output(self, context: OutputContext, obj) -> None:  # noqa: ANN001 - pandas or Spark
        table = self._table(context.definition_metadata)
        partitions = PartitionSlice.from_keys(context.asset_partition_keys)
        handler = handler_for(type(obj))
        # Keys and kWh are small (a year is ~215k rows): one collect serves the
        # guard, the stale-row diff and the metadata.
        keys = handler.keys(obj, table.schema)
        partitions.guard(keys)
        rows = handler.to_spark(obj, table.schema, self.spark.spark_session)
        deleted = table.replace_slice(rows, keys, partitions)
        context.add_output_metadata({
            "dagster/row_count": len(keys),
            "dagster/table_name": table.qualified_name,
            "partitions_written": len(partitions),
            "stale_rows_deleted": deleted,
            "read_back_cql": MetadataValue.md(f"```sql\n{partitions.cql_read_back(table.qualified_name)}\n```"),
            "sums_kwh_per_group": MetadataValue.json(
                sums_per_group(keys, table.schema.group_column, table.schema.quantity_columns)
            ),
        })

    def load_input(self, context: InputContext):  # noqa: ANN201 - pandas or Spark, as the input wants
        table = self._table(context.upstream_output.definition_metadata)
        frame = table.read_slice(PartitionSlice.from_keys(context.asset_partition_keys))
        return handler_for(context.dagster_type.typing_type).from_spark(frame)

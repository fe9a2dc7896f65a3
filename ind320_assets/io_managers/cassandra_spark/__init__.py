"""Cassandra tables written and read through Spark and the Spark Cassandra Connector.

Shaped like Dagster's DbIOManager family: `table.py` is the client (ensure the
schema, replace one slice, read one slice), `type_handlers.py` turns pandas or
Spark frames into what the client writes, and `io_manager.py` is the small
configurable factory that the definitions bind.
"""

from ind320_assets.io_managers.cassandra_spark.io_manager import CassandraSparkIOManager

__all__ = ["CassandraSparkIOManager"]

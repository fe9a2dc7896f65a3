"""The code location, and the one place that reads the environment.

Every resource field is bound with `EnvVar` when its variable is set, and
keeps its own declared default otherwise, so each setting has one default (in
the resource class) and secrets never pass through code or files. The table in
`resources/environment.py` is the whole configuration contract; the README lists it too.
"""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar, in_process_executor

from ind320_assets.assets.datasets import SPECS, elhub_assets
from ind320_assets.console_logger import console_logger
from ind320_assets.io_managers.cassandra_spark import CassandraSparkIOManager
from ind320_assets.io_managers.mongo import MongoIOManager
from ind320_assets.io_managers.parquet import ParquetIOManager
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.resources.environment import ENVIRONMENT, INT_FIELDS
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_assets.sensors.current_month_schedule import build_current_month_schedule
from ind320_assets.sensors.elhub_revisions import build_revision_sensor



def from_environment(resource: str) -> dict[str, EnvVar]:
    """`EnvVar`s for the fields of `resource` whose variables are set."""
    return {
        field: EnvVar.int(name) if field in INT_FIELDS else EnvVar(name)
        for field, name in ENVIRONMENT[resource].items()
        if os.environ.get(name)
    }


def build_resources(**overrides: dict[str, object]) -> dict[str, object]:
    """Every resource the assets need, bound from the environment.

    Tests and benchmarks pass their own values per resource, e.g.
    `build_resources(cassandra={"keyspace": "t1"}, mongo={"database": "t1"})`.
    """

    def fields(resource: str) -> dict[str, object]:
        return {**from_environment(resource), **overrides.get(resource, {})}

    cassandra = CassandraResource(**fields("cassandra"))
    spark = SparkCassandraResource(cassandra=cassandra, **fields("spark"))
    mongo = MongoResource(**fields("mongo"))
    return {
        "elhub": ElhubResource(**fields("elhub")),
        "spark": spark,
        "cassandra": cassandra,
        "mongo": mongo,
        "parquet_io_manager": ParquetIOManager(**fields("parquet_io_manager")),
        "cassandra_io_manager": CassandraSparkIOManager(spark=spark, cassandra=cassandra),
        "mongo_io_manager": MongoIOManager(mongo=mongo),
    }


defs = Definitions(
    assets=elhub_assets,
    # One process per run: the Cassandra and MongoDB steps share one Spark JVM
    # instead of starting one each (a Spark start costs ~10 s here).
    executor=in_process_executor,
    # Dagster's console logger, but a bad setting's failure prints as one line (console_logger.py).
    loggers={"console": console_logger},
    resources=build_resources(),
    sensors=[
        build_revision_sensor(
            spec,
            lookback=int(os.environ.get("ELHUB_SENSOR_LOOKBACK_MONTHS", "4")),
            minimum_interval_seconds=int(os.environ.get("ELHUB_SENSOR_INTERVAL_S", "3600")),
        )
        for spec in SPECS
    ],
    schedules=[build_current_month_schedule(spec) for spec in SPECS],
)

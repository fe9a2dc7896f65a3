"""The code location: Elhub assets with resources bound from the environment.

Non-secret endpoints follow `ind320_assets.settings` (defaults: the embedded
local services). Credentials are bound only through `EnvVar`, and only when
the variable is set, so nothing secret is ever read from code or files.
"""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar, in_process_executor

from ind320_assets.assets.datasets import SPECS, elhub_assets
from ind320_assets.io_managers.cassandra_spark import CassandraSparkIOManager
from ind320_assets.io_managers.mongo import MongoIOManager
from ind320_assets.io_managers.parquet import ParquetIOManager
from ind320_devkit.local_services.paths import LOCAL_DIR
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_assets.sensors.current_month_schedule import build_current_month_schedule
from ind320_assets.sensors.elhub_revisions import build_revision_sensor
from ind320_assets.settings import ServiceSettings


def _secret(name: str) -> EnvVar | None:
    return EnvVar(name) if os.environ.get(name) else None


def build_resources(
    *,
    keyspace: str | None = None,
    mongo_database: str | None = None,
    raw_dir: str | None = None,
    elhub_base_url: str | None = None,
    settings: ServiceSettings | None = None,
) -> dict[str, object]:
    """Every resource the assets need. Tests and benchmarks pass their own keyspace,
    database, raw folder and replay server; everyone else gets the environment's."""
    settings = settings or ServiceSettings.from_env()
    username, password = _secret("CASSANDRA_USERNAME"), _secret("CASSANDRA_PASSWORD")
    replication = os.environ.get("CASSANDRA_REPLICATION")
    cassandra = CassandraResource.from_settings(
        settings,
        keyspace=keyspace or os.environ.get("CASSANDRA_KEYSPACE", "elhub"),
        username=username,
        password=password,
        **({"replication": replication} if replication else {}),
    )
    spark = SparkCassandraResource.from_settings(
        settings,
        cassandra_username=username,
        cassandra_password=password,
        driver_memory=os.environ.get("SPARK_DRIVER_MEMORY", "2g"),
    )
    mongo = MongoResource(
        uri=_secret("MONGO_URI") or settings.mongo_uri, database=mongo_database or settings.mongo_db
    )
    return {
        "elhub": ElhubResource(base_url=elhub_base_url),
        "spark": spark,
        "cassandra": cassandra,
        "mongo": mongo,
        "parquet_io_manager": ParquetIOManager(
            base_dir=raw_dir or os.environ.get("ELHUB_RAW_DIR", str(LOCAL_DIR / "elhub_raw"))
        ),
        "cassandra_io_manager": CassandraSparkIOManager(spark=spark, cassandra=cassandra),
        "mongo_io_manager": MongoIOManager(mongo=mongo),
    }


defs = Definitions(
    assets=elhub_assets,
    # One process per run: the Cassandra and MongoDB steps share one Spark JVM
    # instead of starting one each (a Spark start costs ~10 s here).
    executor=in_process_executor,
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

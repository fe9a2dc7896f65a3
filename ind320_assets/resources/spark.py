"""A lazily started Spark session that can talk to Cassandra.

The Spark config is built from typed fields (so a password can come from an
`EnvVar`; secrets do not resolve inside dict-typed fields), then handed to
dagster-pyspark's `LazyPySparkResource`. The JVM starts in the background when
a run that uses Spark begins (`start_early`), or when a step first asks for it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, InitResourceContext
from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr
from pyspark.sql import SparkSession

from ind320_assets.local_services.java import REQUIRED_MAJOR, find_java17_home, java_major_version
from ind320_assets.local_services.spark_connector import connector_jars
from ind320_assets.settings import ServiceSettings


class SparkCassandraResource(ConfigurableResource):
    """Spark with the Cassandra connector on its classpath, session time zone UTC."""

    master: str = "local[2]"
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = 9042
    cassandra_username: str | None = None
    cassandra_password: str | None = None
    driver_memory: str = "2g"
    shuffle_partitions: int = 4
    # Comma-separated jars to use instead of the ones `make services-up` fetched.
    jars: str | None = None
    # Boot the JVM in the background as soon as a run that uses Spark starts, so it
    # starts while the raw step fetches instead of after it.
    start_early: bool = True

    _lazy: LazyPySparkResource | None = PrivateAttr(default=None)
    _starting: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        if self.start_early:
            threading.Thread(target=self._start_quietly, name="spark-early-start", daemon=True).start()

    def _start_quietly(self) -> None:
        try:
            self.spark_session
        except Exception:  # noqa: BLE001 - the step that needs Spark starts it again and reports the error
            pass

    @classmethod
    def from_settings(cls, settings: ServiceSettings | None = None, **overrides: Any) -> SparkCassandraResource:
        settings = settings or ServiceSettings.from_env()
        fields = dict(
            master=settings.spark_master,
            cassandra_hosts=",".join(settings.cassandra_hosts),
            cassandra_port=settings.cassandra_port,
        )
        return cls(**{**fields, **overrides})

    def spark_config(self) -> dict[str, str]:
        jars = self.jars or ",".join(str(j) for j in connector_jars())
        config = {
            "spark.master": self.master,
            "spark.app.name": "ind320_assets",
            "spark.jars": jars,
            "spark.driver.memory": self.driver_memory,
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.extensions": "com.datastax.spark.connector.CassandraSparkExtensions",
            "spark.ui.enabled": "false",
            # Local mode talks to itself; stay on loopback whatever the hostname resolves to.
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.cassandra.connection.host": self.cassandra_hosts,
            "spark.cassandra.connection.port": str(self.cassandra_port),
        }
        if self.cassandra_username:
            config["spark.cassandra.auth.username"] = self.cassandra_username
            config["spark.cassandra.auth.password"] = self.cassandra_password or ""
        return config

    @property
    def spark_session(self) -> SparkSession:
        with self._starting:  # the early start and a step may ask at once
            if self._lazy is None:
                _ensure_java17()
                self._lazy = LazyPySparkResource(spark_config=self.spark_config())
            return self._lazy.spark_session

    def execute_cql(self, statement: str) -> None:
        """Run DDL through the connector's own Java driver session.

        The connector caches table metadata per session; a table created by
        another client can stay invisible to it for a while ("Couldn't find
        keyspace.table"). DDL sent through its own session refreshes that cache
        before returning.
        """
        spark = self.spark_session
        connector = spark._jvm.com.datastax.spark.connector.cql.CassandraConnector.apply(
            spark.sparkContext._jsc.sc().getConf()
        )
        session = connector.openSession()
        try:
            session.execute(statement)
        finally:
            session.close()


def _ensure_java17() -> None:
    """Spark 3.5 needs Java 17; never let it pick up the machine's newer JDK."""
    home = os.environ.get("JAVA_HOME")
    if home and java_major_version(Path(home)) == REQUIRED_MAJOR:
        return
    os.environ["JAVA_HOME"] = str(find_java17_home())

"""A lazily started Spark session that can talk to Cassandra.

The Spark config is built from typed fields (so a password can come from an
`EnvVar`; secrets do not resolve inside dict-typed fields), then handed to
dagster-pyspark's `LazyPySparkResource`. The JVM starts in the background when
a run that uses Spark begins (`start_early`), or when a step first asks for it.

Nothing here knows where the connector comes from: a deployment names the jars
(`jars`, shipped to every executor by Spark) or Maven coordinates (`packages`),
and the dev kit fills `jars` with the ones `make services-up` fetched.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlsplit

from dagster import ConfigurableResource, InitResourceContext
from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr
from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.errors import setting_failure

CONNECTOR_PACKAGE = "com.datastax.spark:spark-cassandra-connector_2.12:3.5.1"
# How long to wait for a standalone master to accept a TCP connection before starting
# the JVM; Spark itself would retry for a minute and then fail with a stopped context.
MASTER_CONNECT_TIMEOUT_S = 5.0


class SparkCassandraResource(ConfigurableResource):
    """Spark with the Cassandra connector on its classpath, session time zone UTC."""

    cassandra: CassandraResource  # where the connector connects, with the same credentials
    master: str = "local[2]"
    driver_memory: str = "2g"
    # Loopback suits local mode and a cluster on this machine, whatever the hostname
    # resolves to; on a real cluster, the driver's address that executors can reach.
    driver_host: str = "127.0.0.1"
    # Per executor, on a cluster; local mode runs everything in the driver.
    executor_memory: str = "1g"
    executor_cores: int = 1
    shuffle_partitions: int = 4
    # The connector: comma-separated jar paths or URLs, or Maven coordinates that
    # Spark resolves at start (e.g. CONNECTOR_PACKAGE). One of the two is needed.
    jars: str = ""
    packages: str = ""
    # Spark 3.5 runs on Java 17; set this when the machine's default Java is another.
    java_home: str = ""
    # Where Spark writes its event log (for a history server, or to see which executor
    # ran which task); empty writes none.
    event_log_dir: str = ""
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

    def check_master(self) -> None:
        """Fail with one line naming SPARK_MASTER when no standalone master accepts a connection.

        Only `spark://host:port[,host:port...]` is probed (any one answering will do);
        `local[...]` and other masters are left to Spark.
        """
        if not self.master.startswith("spark://"):
            return
        reasons = []
        for address in self.master.removeprefix("spark://").split(","):
            parts = urlsplit(f"//{address}")
            try:
                with socket.create_connection((parts.hostname, parts.port or 7077), MASTER_CONNECT_TIMEOUT_S):
                    return
            except (OSError, ValueError) as error:
                reasons.append(f"{address}: {getattr(error, 'strerror', None) or error}")
        raise setting_failure("spark", "master", self.master, f"no Spark master accepts connections ({'; '.join(reasons)})")

    def spark_config(self) -> dict[str, str]:
        if not (self.jars or self.packages):
            raise ValueError(
                "Spark needs the Cassandra connector: set SPARK_JARS (comma-separated jars) or "
                f"SPARK_PACKAGES (Maven coordinates, e.g. {CONNECTOR_PACKAGE})."
            )
        config = {
            "spark.master": self.master,
            "spark.app.name": "ind320_assets",
            "spark.driver.memory": self.driver_memory,
            "spark.executor.memory": self.executor_memory,
            "spark.executor.cores": str(self.executor_cores),
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.extensions": "com.datastax.spark.connector.CassandraSparkExtensions",
            "spark.ui.enabled": "false",
            # Executors connect back to the driver here: an address they can reach.
            "spark.driver.host": self.driver_host,
            "spark.driver.bindAddress": self.driver_host,
            "spark.cassandra.connection.host": self.cassandra.hosts,
            "spark.cassandra.connection.port": str(self.cassandra.port),
            "spark.cassandra.output.consistency.level": self.cassandra.consistency("write"),
            "spark.cassandra.input.consistency.level": self.cassandra.consistency("read"),
        }
        if self.event_log_dir:
            config["spark.eventLog.enabled"] = "true"
            config["spark.eventLog.dir"] = self.event_log_dir
        if self.cassandra.local_datacenter:
            config["spark.cassandra.connection.localDC"] = self.cassandra.local_datacenter
        if self.jars:
            config["spark.jars"] = self.jars
        if self.packages:
            config["spark.jars.packages"] = self.packages
        if self.cassandra.username:
            config["spark.cassandra.auth.username"] = self.cassandra.username
            config["spark.cassandra.auth.password"] = self.cassandra.password or ""
        return config

    @property
    def spark_session(self) -> SparkSession:
        with self._starting:  # the early start and a step may ask at once
            if self._lazy is None:
                self.check_master()
                self.cassandra.check_contact_points()
                if self.java_home:
                    # pyspark's launcher starts the JVM from JAVA_HOME.
                    os.environ["JAVA_HOME"] = self.java_home
                self._lazy = LazyPySparkResource(spark_config=self.spark_config())
            return self._lazy.spark_session

    def stop(self) -> None:
        if self._lazy is not None:
            self._lazy.spark_session.stop()
            self._lazy = None

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
        try:
            session = connector.openSession()
        except Py4JJavaError as error:
            # e.g. "Failed to open native connection to Cassandra at {...} :: <driver's reason>"
            raise self.cassandra.connection_failure(Exception(str(error.java_exception.toString()))) from error
        try:
            session.execute(statement)
        finally:
            session.close()

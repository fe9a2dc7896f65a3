"""A single-node Cassandra 5.0 on 127.0.0.1:9042, from Maven Central jars."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ind320_devkit.local_services.java import find_java17_home
from ind320_devkit.local_services.maven import resolve_jars
from ind320_devkit.local_services.paths import LOCAL_DIR, LOG_DIR, SERVICES_SOURCE
from ind320_devkit.local_services.process import ManagedService, port_is_open

HOME = LOCAL_DIR / "cassandra"
LIB_DIR = HOME / "lib"
CONF_DIR = HOME / "conf"
DATA_DIR = HOME / "data"
POM = SERVICES_SOURCE / "cassandra" / "pom.xml"

# A laptop-sized single node: one token, no snapshots on DROP/TRUNCATE (tests
# drop keyspaces all the time), and the Cassandra 5 storage format from day one.
# The cluster in `ind320_devkit.cluster` fills the same template with its own
# names, addresses, tokens and snitch, and appends its extra settings.
CASSANDRA_YAML = """\
cluster_name: {cluster_name}
num_tokens: {num_tokens}
initial_token: {initial_token}
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: {snitch}
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{seeds}"
listen_address: {address}
rpc_address: {address}
storage_port: {storage_port}
native_transport_port: {port}
start_native_transport: true
data_file_directories: [{data}/data]
commitlog_directory: {data}/commitlog
saved_caches_directory: {data}/saved_caches
hints_directory: {data}/hints
cdc_raw_directory: {data}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
storage_compatibility_mode: NONE
authenticator: {authenticator}
authorizer: {authorizer}
concurrent_reads: 8
concurrent_writes: 16
{extra}"""

LOGBACK_XML = """\
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{log}</file>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %logger{{0}} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"""

# What Cassandra 5.0's own conf/jvm17-server.options opens up on Java 17.
JAVA17_MODULE_FLAGS = [
    "-Djava.security.manager=allow",
    *(f"--add-exports={m}=ALL-UNNAMED" for m in (
        "java.base/jdk.internal.misc", "java.base/jdk.internal.ref", "java.base/sun.nio.ch",
        "java.management.rmi/com.sun.jmx.remote.internal.rmi", "java.rmi/sun.rmi.registry",
        "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
        "jdk.unsupported/sun.misc",
    )),
    *(f"--add-opens={m}=ALL-UNNAMED" for m in (
        "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
        "java.base/jdk.internal.reflect", "java.base/jdk.internal.math", "java.base/jdk.internal.module",
        "java.base/jdk.internal.util.jar", "jdk.management/com.sun.management.internal",
        "java.base/sun.nio.ch", "java.base/java.io", "java.base/java.nio",
        "java.base/java.util.concurrent", "java.base/java.util", "java.base/java.util.concurrent.atomic",
        "java.base/java.lang", "java.base/java.math", "java.base/java.lang.reflect", "java.base/java.net",
    )),
]


def cassandra_yaml(
    *,
    port: int,
    storage_port: int,
    data: Path,
    address: str = "127.0.0.1",
    seeds: str | None = None,
    cluster_name: str = "ind320-local",
    num_tokens: int = 1,
    initial_token: str = "0",
    snitch: str = "SimpleSnitch",
    extra: str = "",
    authenticator: str = "AllowAllAuthenticator",
    authorizer: str = "AllowAllAuthorizer",
) -> str:
    """cassandra.yaml for one node; the defaults are the single local node's.

    `authenticator="PasswordAuthenticator"` (with `authorizer="CassandraAuthorizer"`)
    makes clients log in; the node then creates the default superuser cassandra/cassandra.
    """
    return CASSANDRA_YAML.format(
        cluster_name=cluster_name, num_tokens=num_tokens, initial_token=initial_token, snitch=snitch,
        seeds=seeds or f"{address}:{storage_port}", address=address,
        port=port, storage_port=storage_port, data=data, extra=extra,
        authenticator=authenticator, authorizer=authorizer,
    )


def cassandra_command(
    *,
    heap: str,
    conf_dir: Path,
    lib_dir: Path,
    data_dir: Path,
    log_dir: Path,
    direct_memory: str = "512M",
    system_properties: Sequence[str] = (),
) -> list[str]:
    """The CassandraDaemon command line on Java 17, without Cassandra's shell scripts."""
    java_home = find_java17_home()
    jamm = next(lib_dir.glob("jamm-*.jar"))
    return [
        str(java_home / "bin" / "java"),
        f"-Xms{heap}", f"-Xmx{heap}", "-Xss256k",
        "-XX:+UseG1GC", f"-XX:MaxDirectMemorySize={direct_memory}", "-XX:+HeapDumpOnOutOfMemoryError",
        f"-javaagent:{jamm}",  # Cassandra measures memtable sizes with jamm
        *JAVA17_MODULE_FLAGS,
        f"-Dcassandra.config=file://{conf_dir / 'cassandra.yaml'}",
        f"-Dlogback.configurationFile={conf_dir / 'logback.xml'}",
        f"-Dcassandra.logdir={log_dir}",
        f"-Dcassandra.storagedir={data_dir}",
        "-Dcassandra-foreground=yes",
        *system_properties,
        "-cp", f"{conf_dir}:{lib_dir}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]


class Cassandra(ManagedService):
    name = "cassandra"
    start_timeout_s = 180.0

    def __init__(self) -> None:
        self.port = int(os.environ.get("CASSANDRA_PORT", "9042"))
        self.storage_port = int(os.environ.get("CASSANDRA_STORAGE_PORT", "7000"))
        self.heap = os.environ.get("CASSANDRA_HEAP", "1G")

    def prepare(self) -> None:
        resolve_jars(POM, LIB_DIR)
        CONF_DIR.mkdir(parents=True, exist_ok=True)
        (CONF_DIR / "cassandra.yaml").write_text(
            cassandra_yaml(port=self.port, storage_port=self.storage_port, data=DATA_DIR)
        )
        (CONF_DIR / "logback.xml").write_text(LOGBACK_XML.format(log=LOG_DIR / "cassandra-system.log"))

    def command(self) -> list[str]:
        return cassandra_command(
            heap=self.heap, conf_dir=CONF_DIR, lib_dir=LIB_DIR, data_dir=DATA_DIR, log_dir=LOG_DIR,
            system_properties=[
                # A single fresh node has no one to gossip with; don't wait for it.
                "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "-Dcassandra.superuser_setup_delay_ms=0",
            ],
        )

    def is_ready(self) -> bool:
        """Ready means a CQL client gets an answer from system.local."""
        if not port_is_open(self.host, self.port):
            return False
        return cassandra_release_version(self.host, self.port) is not None


# The superuser a fresh PasswordAuthenticator node creates (Cassandra's own default).
DEFAULT_SUPERUSER = ("cassandra", "cassandra")


class PasswordCassandra(ManagedService):
    """A single node that makes clients log in (PasswordAuthenticator, CassandraAuthorizer),
    on ports and in a folder of its own, beside the shared node: for credential tests.

    Ready means the default superuser cassandra/cassandra can log in and query, which
    on Cassandra 5.0 comes a moment after the native port opens.
    """

    start_timeout_s = 240.0

    def __init__(
        self, home: Path, *, port: int, storage_port: int, jmx_port: int, heap: str = "768M", name: str = "cassandra-auth"
    ) -> None:
        self.name, self.home, self.port, self.storage_port, self.jmx_port, self.heap = (
            name, home, port, storage_port, jmx_port, heap,
        )
        self.run_dir = self.log_dir = home
        self.ownership_marker = f"{home}/"

    def prepare(self) -> None:
        resolve_jars(POM, LIB_DIR)  # the single node's jars
        conf = self.home / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "cassandra.yaml").write_text(cassandra_yaml(
            cluster_name="ind320-auth", port=self.port, storage_port=self.storage_port, data=self.home / "data",
            authenticator="PasswordAuthenticator", authorizer="CassandraAuthorizer",
            extra="file_cache_size: 64MiB\nkey_cache_size: 16MiB\nconcurrent_compactors: 1\n",
        ))
        (conf / "logback.xml").write_text(LOGBACK_XML.format(log=self.home / f"{self.name}-system.log"))

    def command(self) -> list[str]:
        return cassandra_command(
            heap=self.heap, conf_dir=self.home / "conf", lib_dir=LIB_DIR, data_dir=self.home / "data",
            log_dir=self.home, direct_memory="256M",
            system_properties=[
                "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "-Dcassandra.superuser_setup_delay_ms=0",
                f"-Dcassandra.jmx.local.port={self.jmx_port}",
            ],
        )

    def is_ready(self) -> bool:
        if not port_is_open(self.host, self.port):
            return False
        return cassandra_release_version(self.host, self.port, credentials=DEFAULT_SUPERUSER) is not None


def cassandra_release_version(host: str, port: int, credentials: tuple[str, str] | None = None) -> str | None:
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    auth = PlainTextAuthProvider(*credentials) if credentials else None
    cluster = Cluster([host], port=port, connect_timeout=5, control_connection_timeout=5, auth_provider=auth)
    try:
        session = cluster.connect()
        row = session.execute("SELECT release_version FROM system.local").one()
        return row.release_version if row else None
    except Exception:  # noqa: BLE001 - while starting, any failure just means "not yet"
        return None
    finally:
        cluster.shutdown()

"""A three-node Cassandra 5.0 ring on 127.0.0.1-3, from the single node's jars and JVM flags.

Choices, and why:
- GossipingPropertyFileSnitch with `dc=datacenter1`: the production snitch, so
  NetworkTopologyStrategy and LOCAL_QUORUM behave as they would on real machines.
- `auto_bootstrap: false` with four tokens per node spread evenly by hand: a
  brand-new ring has no data to stream, so a node joins as soon as it gossips,
  instead of sleeping through bootstrap's ring delays; a restarted node keeps
  the tokens it saved on first boot.
- Nodetool-equivalent operations go through each node's local JMX port, with
  NodeTool from the same cassandra-all jar.
"""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ind320_devkit.cluster.layout import (
    CASSANDRA_DATACENTER,
    CASSANDRA_HEAP,
    CASSANDRA_JMX_BASE_PORT,
    CASSANDRA_NATIVE_PORT,
    CASSANDRA_NODE_COUNT,
    CASSANDRA_RACK,
    CASSANDRA_STORAGE_PORT,
    CLUSTER_DIR,
    LOG_DIR,
    RUN_DIR,
    cassandra_node_address,
)
from ind320_devkit.local_services.cassandra import (
    JAVA17_MODULE_FLAGS,
    LIB_DIR,
    LOGBACK_XML,
    POM,
    cassandra_command,
    cassandra_yaml,
)
from ind320_devkit.local_services.java import find_java17_home
from ind320_devkit.local_services.maven import resolve_jars
from ind320_devkit.local_services.process import ManagedService, ServiceError, port_is_open

TOKENS_PER_NODE = 4
SEED = f"{cassandra_node_address(1)}:{CASSANDRA_STORAGE_PORT}"
RING_JOIN_TIMEOUT_S = 120.0
NODETOOL_TIMEOUT_S = 600.0

# Appended to the single node's cassandra.yaml. Small caches keep three nodes and
# the single node inside a laptop's memory; one compactor leaves CPU for the rest.
CLUSTER_YAML_EXTRA = """\
auto_bootstrap: false
file_cache_size: 64MiB
networking_cache_size: 32MiB
key_cache_size: 16MiB
concurrent_compactors: 1
"""

# Join without the waits a production ring needs to let a large gossip settle.
FAST_JOIN_PROPERTIES = [
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.ring_delay_ms=1000",
    "-Dcassandra.superuser_setup_delay_ms=0",
]

# nodetool's own logging stays on stderr and quiet.
TOOLS_LOGBACK_XML = """\
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
"""


def spread_tokens(node_index: int, node_count: int = CASSANDRA_NODE_COUNT, per_node: int = TOKENS_PER_NODE) -> list[int]:
    """Murmur3 tokens for node `node_index` (1-based), interleaved so each node owns an equal share."""
    slots = node_count * per_node
    step = 2**64 // slots
    return [-(2**63) + (k * node_count + node_index - 1) * step for k in range(per_node)]


class CassandraNode(ManagedService):
    """One ring member: its own address, data folder, log, PID file and JMX port."""

    run_dir = RUN_DIR
    log_dir = LOG_DIR
    start_timeout_s = 240.0

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = f"cassandra-{index}"
        self.host = cassandra_node_address(index)
        self.port = CASSANDRA_NATIVE_PORT
        self.jmx_port = CASSANDRA_JMX_BASE_PORT + index
        self.home = CLUSTER_DIR / self.name
        self.ownership_marker = f"{self.home}/"

    @property
    def address(self) -> str:
        return self.host

    @property
    def pid(self) -> int | None:
        return self.own_pid()

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def prepare(self) -> None:
        resolve_jars(POM, LIB_DIR)  # the single node's jars: one download serves both
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "cassandra.yaml").write_text(cassandra_yaml(
            cluster_name="ind320-cluster",
            address=self.host,
            port=CASSANDRA_NATIVE_PORT,
            storage_port=CASSANDRA_STORAGE_PORT,
            seeds=SEED,
            data=self.data_dir,
            num_tokens=TOKENS_PER_NODE,
            initial_token=",".join(str(token) for token in spread_tokens(self.index)),
            snitch="GossipingPropertyFileSnitch",
            extra=CLUSTER_YAML_EXTRA,
        ))
        (self.conf_dir / "cassandra-rackdc.properties").write_text(
            f"dc={CASSANDRA_DATACENTER}\nrack={CASSANDRA_RACK}\n"
        )
        (self.conf_dir / "logback.xml").write_text(LOGBACK_XML.format(log=LOG_DIR / f"{self.name}-system.log"))
        (self.conf_dir / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)

    def command(self) -> list[str]:
        return cassandra_command(
            heap=CASSANDRA_HEAP, conf_dir=self.conf_dir, lib_dir=LIB_DIR, data_dir=self.data_dir, log_dir=LOG_DIR,
            direct_memory="256M",
            system_properties=[*FAST_JOIN_PROPERTIES, f"-Dcassandra.jmx.local.port={self.jmx_port}"],
        )

    def is_ready(self) -> bool:
        """Ready means this node answers CQL on its own address (the ring may not agree yet)."""
        return port_is_open(self.host, self.port) and node_answers(self.host)

    # --- failure tests ---------------------------------------------------------
    def start(self) -> str:
        """Start the node (again) and wait until the ring reports it Up/Normal."""
        started = time.monotonic()
        message = self.up()
        wait_until_ring_agrees()
        return f"{message}; Up/Normal in the ring after {time.monotonic() - started:.1f}s"

    # --- nodetool ----------------------------------------------------------------
    def nodetool(self, *arguments: str, timeout_s: float = NODETOOL_TIMEOUT_S) -> str:
        """Run `nodetool <arguments>` against this node's JMX port; its standard output."""
        java = find_java17_home() / "bin" / "java"
        command = [
            str(java), "-Xmx128m", *JAVA17_MODULE_FLAGS,
            f"-Dlogback.configurationFile={self.conf_dir / 'logback-tools.xml'}",
            f"-Dcassandra.storagedir={self.data_dir}",
            "-cp", f"{LIB_DIR}/*",
            "org.apache.cassandra.tools.NodeTool", "-h", "127.0.0.1", "-p", str(self.jmx_port), *arguments,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if result.returncode != 0:
            raise ServiceError(
                f"nodetool {' '.join(arguments)} on {self.name} failed ({result.returncode}):\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        return result.stdout

    def repair(self, keyspace: str) -> str:
        """A full repair of `keyspace`'s ranges on this node, as `nodetool repair -full` does."""
        return self.nodetool("repair", "-full", keyspace)


def node_answers(address: str) -> bool:
    """Whether the node at `address` answers a CQL query itself (no other node involved)."""
    from cassandra.cluster import Cluster
    from cassandra.policies import WhiteListRoundRobinPolicy

    cluster = Cluster(
        [address], port=CASSANDRA_NATIVE_PORT, load_balancing_policy=WhiteListRoundRobinPolicy([address]),
        connect_timeout=5, control_connection_timeout=5, protocol_version=5,
    )
    try:
        return cluster.connect().execute("SELECT release_version FROM system.local").one() is not None
    except Exception:  # noqa: BLE001 - while starting, any failure just means "not yet"
        return False
    finally:
        cluster.shutdown()


NODETOOL_STATUS_LINE = re.compile(r"^([UD])([NLJM])\s+(\d+\.\d+\.\d+\.\d+)", re.MULTILINE)
STATE_NAMES = {"N": "NORMAL", "L": "LEAVING", "J": "JOINING", "M": "MOVING"}


def ring_states(nodes: list[CassandraNode] | None = None) -> dict[str, str]:
    """The ring's view of every member: address -> 'UP' or 'DOWN'.

    Asked of the first live node through `nodetool status` (its gossip and failure
    detector); a member that is up but still joining, leaving or moving is not 'UP'.
    Empty when no node runs.
    """
    for node in nodes or cassandra_nodes():
        if node.own_pid() is None or not port_is_open(node.host, node.port):
            continue
        try:
            output = node.nodetool("status", timeout_s=60)
        except (ServiceError, subprocess.TimeoutExpired):
            continue
        return {
            address: "UP" if liveness == "U" and state == "N" else "DOWN"
            for liveness, state, address in NODETOOL_STATUS_LINE.findall(output)
        }
    return {}


def ring_view_of(node: CassandraNode) -> dict[str, str]:
    """`nodetool status` as one node sees it: address -> 'UN', 'DN', 'UJ', ..."""
    output = node.nodetool("status", timeout_s=60)
    return {address: liveness + state for liveness, state, address in NODETOOL_STATUS_LINE.findall(output)}


def wait_until_ring_agrees(nodes: list[CassandraNode] | None = None, timeout_s: float = RING_JOIN_TIMEOUT_S) -> None:
    """Wait until every running node sees every running node Up/Normal.

    Every node is asked, not one: a QUORUM write coordinated by any of them,
    or a repair started on any of them, needs that node's own failure detector
    to agree. The nodes are asked at once; each answer costs a nodetool JVM.
    """
    nodes = nodes or cassandra_nodes()
    deadline = time.monotonic() + timeout_s
    disagreement = "no node asked yet"
    while time.monotonic() < deadline:
        running = [node for node in nodes if node.own_pid() is not None]
        with ThreadPoolExecutor(max_workers=max(len(running), 1)) as pool:
            disagreements = list(pool.map(lambda node: _disagreement(node, running), running))
        disagreement = "; ".join(filter(None, disagreements))
        if not disagreement:
            return
        time.sleep(1.0)
    raise ServiceError(f"the Cassandra ring did not agree within {timeout_s:.0f}s: {disagreement}")


def _disagreement(node: CassandraNode, running: list[CassandraNode]) -> str:
    """What `node` sees differently from "all of `running` Up/Normal"; empty when it agrees."""
    try:
        view = ring_view_of(node)
    except (ServiceError, subprocess.TimeoutExpired) as error:
        return f"{node.address} did not answer nodetool: {str(error)[:200]}"
    expected = {other.address for other in running}
    not_normal = {address: state for address, state in view.items() if address in expected and state != "UN"}
    missing = sorted(expected - view.keys())
    if not_normal or missing:
        return f"{node.address} sees {not_normal} missing {missing}"
    return ""


def cassandra_nodes() -> list[CassandraNode]:
    return [CassandraNode(index) for index in range(1, CASSANDRA_NODE_COUNT + 1)]

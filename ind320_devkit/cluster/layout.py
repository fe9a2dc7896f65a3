"""Where the cluster lives on disk, and the addresses and ports it takes.

Everything sits beside the single-node services without touching them: the
single node holds 127.0.0.1:9042 and :7000, so the ring uses 9142 and 7100 on
each node's own loopback address (Linux routes all of 127.0.0.0/8 to `lo`).
"""

from __future__ import annotations

from ind320_devkit.local_services.paths import LOCAL_DIR

CLUSTER_DIR = LOCAL_DIR / "cluster"
RUN_DIR = CLUSTER_DIR / "run"
LOG_DIR = CLUSTER_DIR / "logs"
# Every cluster process names a folder under CLUSTER_DIR on its command line or
# runs inside one; `down` uses this to prove nothing is left behind.
CLUSTER_MARKER = f"{CLUSTER_DIR}/"

CASSANDRA_NODE_COUNT = 3
CASSANDRA_NATIVE_PORT = 9142
CASSANDRA_STORAGE_PORT = 7100
CASSANDRA_JMX_BASE_PORT = 7200  # node N listens for nodetool on 127.0.0.1:720N
CASSANDRA_DATACENTER = "datacenter1"
CASSANDRA_RACK = "rack1"
CASSANDRA_HEAP = "768M"

SPARK_HOST = "127.0.0.1"
SPARK_MASTER_PORT = 7077
SPARK_MASTER_WEB_PORT = 8080
SPARK_WORKER_COUNT = 2
SPARK_WORKER_WEB_BASE_PORT = 8080  # worker N serves its UI on 808N
SPARK_WORKER_CORES = 1
SPARK_WORKER_MEMORY = "1g"
# What an executor may take of its worker's 1g: the whole of it is accounted
# against the worker, and the JVM's own overhead comes on top.
SPARK_EXECUTOR_MEMORY = "768m"
SPARK_DAEMON_MEMORY = "256m"  # master and worker heaps; they only schedule


def cassandra_node_address(index: int) -> str:
    return f"127.0.0.{index}"

"""The whole cluster as one object: bring it up in order, report on it, tear it down completely."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from ind320_devkit.cluster.cassandra_ring import (
    CassandraNode,
    cassandra_nodes,
    ring_states,
    wait_until_ring_agrees,
)
from ind320_devkit.cluster.layout import (
    CASSANDRA_DATACENTER,
    CASSANDRA_NATIVE_PORT,
    CLUSTER_MARKER,
    SPARK_EXECUTOR_MEMORY,
    SPARK_WORKER_CORES,
)
from ind320_devkit.cluster.spark_standalone import MASTER_URL, SparkMaster, SparkWorker, spark_workers
from ind320_devkit.local_services.process import (
    ManagedService,
    ServiceError,
    ServiceStatus,
    kill_process_tree,
    processes_marked,
)


class ClusterTopology:
    """Three Cassandra nodes and a Spark master with two workers, beside the single-node services."""

    def __init__(self) -> None:
        self.cassandra_nodes: list[CassandraNode] = cassandra_nodes()
        self.spark_master = SparkMaster()
        self.spark_workers: list[SparkWorker] = spark_workers()

    @property
    def master_url(self) -> str:
        return MASTER_URL

    @property
    def processes(self) -> list[ManagedService]:
        return [*self.cassandra_nodes, self.spark_master, *self.spark_workers]

    # --- lifecycle ---------------------------------------------------------------
    def up(self) -> str:
        """Start whatever is not running, in order, and wait for each part; a report, one line per process.

        Cassandra nodes start one after another: each joins a ring that already
        agrees on its members, which is what keeps joining quick and safe.
        """
        started = time.monotonic()
        lines = []
        any_node_started = False
        for node in self.cassandra_nodes:
            node_started = time.monotonic()
            was_running = node.own_pid() is not None
            message = node.up()
            if not was_running:
                # Each newcomer waits until every running node sees every running
                # node Up/Normal, before the next one starts.
                wait_until_ring_agrees(self.cassandra_nodes)
                any_node_started = True
                message += f"; Up/Normal in the ring after {time.monotonic() - node_started:.1f}s"
            lines.append(message)
        if not any_node_started:
            ring_checked = time.monotonic()
            wait_until_ring_agrees(self.cassandra_nodes)
            lines.append(f"cassandra ring: all nodes Up/Normal ({time.monotonic() - ring_checked:.1f}s to ask each node)")
        for daemon in (self.spark_master, *self.spark_workers):
            lines.append(daemon.up())
        lines.append(f"cluster up in {time.monotonic() - started:.1f}s")
        return "\n".join(lines)

    def down(self) -> str:
        """Stop everything at once, then make sure no process of the cluster remains."""
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
            lines = list(pool.map(lambda process: process.down(), self.processes))
        stragglers = self.leftover_processes()
        for straggler in stragglers:  # e.g. an executor whose worker was killed by a test
            kill_process_tree(straggler.pid)
        if stragglers:
            lines.append(f"killed {len(stragglers)} leftover process(es): {[p.pid for p in stragglers]}")
        remaining = self.leftover_processes()
        if remaining:
            raise ServiceError(f"cluster processes still alive after down: {[p.pid for p in remaining]}")
        lines.append(f"cluster down in {time.monotonic() - started:.1f}s; no cluster process remains")
        return "\n".join(lines)

    def leftover_processes(self) -> list[psutil.Process]:
        """Live cluster processes: the daemons, and the Spark executors and Python workers they spawned.

        An executor names no cluster folder on its command line but runs inside
        its worker's work dir. Only JVMs and PySpark's Python workers count: a
        shell standing in a cluster folder, or a `tail -f` of a cluster log, is
        left alone.
        """
        found = []
        for process in processes_marked(CLUSTER_MARKER):
            try:
                if process.status() == psutil.STATUS_ZOMBIE:
                    continue
                is_jvm = process.name() == "java"
                is_pyspark_worker = any("pyspark" in argument for argument in process.cmdline())
            except psutil.Error:
                continue
            if is_jvm or is_pyspark_worker:
                found.append(process)
        return found

    # --- inspection ----------------------------------------------------------------
    def is_up(self) -> bool:
        return all(process.own_pid() is not None and process.is_ready() for process in self.processes)

    def status(self) -> list[ServiceStatus]:
        return [process.status() for process in self.processes]

    def ring_states(self) -> dict[str, str]:
        """The ring's view of its nodes: address -> 'UP' or 'DOWN' (empty when no node runs)."""
        return ring_states(self.cassandra_nodes)

    def environment(self) -> dict[str, str]:
        """What points the platform at this cluster (`eval "$(make -s cluster-env)"`)."""
        return {
            "SPARK_MASTER": MASTER_URL,
            "SPARK_EXECUTOR_MEMORY": SPARK_EXECUTOR_MEMORY,
            "SPARK_EXECUTOR_CORES": str(SPARK_WORKER_CORES),
            "CASSANDRA_HOSTS": ",".join(node.address for node in self.cassandra_nodes),
            "CASSANDRA_PORT": str(CASSANDRA_NATIVE_PORT),
            "CASSANDRA_LOCAL_DC": CASSANDRA_DATACENTER,
            "CASSANDRA_REPLICATION": f"{{'class': 'NetworkTopologyStrategy', '{CASSANDRA_DATACENTER}': 3}}",
            "CASSANDRA_WRITE_CONSISTENCY": "LOCAL_QUORUM",
            "CASSANDRA_READ_CONSISTENCY": "LOCAL_QUORUM",
            # Executors run Python UDFs and Arrow conversions with what the driver
            # names here; a bare `python3` on PATH may lack pandas and pyarrow.
            "PYSPARK_PYTHON": sys.executable,
        }

"""The same code on a Spark standalone cluster and a three-node Cassandra ring, by configuration only, under failure.

Each run goes through the README's `dagster asset materialize` command in a
subprocess whose environment is the dev kit's cluster environment (what
`eval "$(make -s cluster-env)"` exports), so nothing in the runtime knows it
runs on a cluster.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import DCAwareRoundRobinPolicy, WhiteListRoundRobinPolicy
from dagster import DagsterEventType, DagsterInstance
from pymongo import MongoClient

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.domain import PRICE_AREAS, PRODUCTION
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets_tests import stored_rows
from ind320_devkit.cluster import ClusterTopology
from ind320_devkit.local_services.paths import prepare_dagster_home

pytestmark = [pytest.mark.services, pytest.mark.e2e, pytest.mark.cluster]

DAGSTER = str(Path(sys.executable).with_name("dagster"))
TABLE, COLLECTION = PRODUCTION_SPEC.cassandra_table, PRODUCTION_SPEC.mongo_collection
GROUP = PRODUCTION_SPEC.group_column


@pytest.fixture(scope="module")
def topology():
    """The cluster, brought up for this module and down after it unless it was already up."""
    cluster = ClusterTopology()
    was_up = cluster.is_up()
    print(f"\ncluster up: {cluster.up()}")
    yield cluster
    if not was_up:
        cluster.down()


@pytest.fixture(scope="module")
def namespace(topology):
    name = f"ind320_cluster_{uuid.uuid4().hex[:8]}"
    yield name
    with quorum_session(topology, ConsistencyLevel.QUORUM) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}")
    MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017")).drop_database(name)


class quorum_session:
    """A driver session on the ring that reads at `level`, whatever the runtime's defaults."""

    def __init__(self, topology: ClusterTopology, level: int, only: str | None = None) -> None:
        env = topology.environment()
        policy = WhiteListRoundRobinPolicy([only]) if only else DCAwareRoundRobinPolicy(local_dc=env["CASSANDRA_LOCAL_DC"])
        profile = ExecutionProfile(load_balancing_policy=policy, consistency_level=level)
        self.cluster = Cluster(env["CASSANDRA_HOSTS"].split(","), port=int(env["CASSANDRA_PORT"]),
                               execution_profiles={EXEC_PROFILE_DEFAULT: profile})

    def __enter__(self):
        return self.cluster.connect()

    def __exit__(self, *exc: object) -> None:
        self.cluster.shutdown()


class ClusterRun:
    """`dagster asset materialize` in the cluster's environment; calls back on each step start."""

    def __init__(self, topology, namespace: str, replay_url: str, home: Path) -> None:
        self.home = prepare_dagster_home(home)
        self.event_logs = home / "spark-events"
        self.event_logs.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            **topology.environment(),
            "ELHUB_API_URL": replay_url,
            "CASSANDRA_KEYSPACE": namespace,
            "MONGO_DB": namespace,
            "ELHUB_RAW_DIR": str(home / "raw"),
            "DAGSTER_HOME": str(home),
            "SPARK_DRIVER_MEMORY": "1g",
            "SPARK_EVENT_LOG_DIR": f"file://{self.event_logs}",
        }

    def __call__(self, partition_range: str, on_step_start=None) -> tuple[int, float, str]:
        started = time.monotonic()
        command = [DAGSTER, "asset", "materialize", "-m", "ind320_assets.definitions",
                   "--select", f"group:{PRODUCTION_SPEC.group_name}", "--partition-range", partition_range]
        output = []
        with subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            for line in proc.stdout:
                output.append(line)
                if "STEP_START" in line and on_step_start is not None:
                    on_step_start(line)
        return proc.returncode, time.monotonic() - started, "".join(output)

    def last_run_checks(self) -> dict[str, bool]:
        os.environ["DAGSTER_HOME"], previous = str(self.home), os.environ.get("DAGSTER_HOME")
        try:
            with DagsterInstance.get() as instance:
                run = instance.get_runs(limit=1)[0]
                events = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
                return {e.dagster_event.event_specific_data.check_name: e.dagster_event.event_specific_data.passed
                        for e in events}
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME")
            else:
                os.environ["DAGSTER_HOME"] = previous

    def spark_events(self) -> list[dict]:
        """Spark's event log of the newest application (what its REST API would show)."""
        newest = max(self.event_logs.iterdir(), key=lambda p: p.stat().st_mtime)
        return [json.loads(line) for line in newest.read_text().splitlines()]

    def tasks_per_executor(self, outcome: str = "Success") -> Counter:
        """Which executor ran each task that ended with `outcome`."""
        return Counter(
            e["Task Info"]["Executor ID"] for e in self.spark_events()
            if e["Event"] == "SparkListenerTaskEnd" and e["Task End Reason"]["Reason"] == outcome
        )


def expected_summary(replay, months: list[date]) -> dict[tuple[str, str, str], tuple[int, float]]:
    """{(month, area, group): (rows, kWh)} straight from the replay."""
    frame = replay.frame(PRODUCTION, months[0], PartitionSlice.of(months[-1:]).partitions[0].month_end, areas=PRICE_AREAS)
    frame = frame.assign(month=frame["start_time"].dt.tz_convert("Europe/Oslo").dt.strftime("%Y-%m"))
    return {(m, a, g): (len(rows), math.fsum(rows["quantity_kwh"]))
            for (m, a, g), rows in frame.groupby(["month", "price_area", GROUP])}


def stored_summary(topology, namespace: str, months: list[date], level: int, only: str | None = None) -> dict:
    found = {}
    with quorum_session(topology, level, only) as session:
        select = session.prepare(f"SELECT {GROUP}, quantity_kwh FROM {namespace}.{TABLE} WHERE price_area = ? AND month = ?")
        for area, month in PartitionSlice.of(months).pairs:
            rows = pd.DataFrame(list(session.execute(select, (area, month))), columns=[GROUP, "quantity_kwh"])
            for group, part in rows.groupby(GROUP):
                found[(month, area, group)] = (len(part), math.fsum(part["quantity_kwh"]))
    return found


def mongo_summary(namespace: str, months: list[date]) -> dict:
    documents = MongoClient(os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017"))[namespace][COLLECTION]
    labels = [m.strftime("%Y-%m") for m in months]
    frame = stored_rows.mongo_rows(documents, PRODUCTION_SPEC, {"month": {"$in": labels}})
    return {(m, a, g): (len(rows), math.fsum(rows["quantity_kwh"])) for (m, a, g), rows in frame.groupby(["month", "price_area", GROUP])}


class KillWhenTasksRun:
    """Once the Cassandra step starts, SIGKILLs `victim` as soon as a Spark task starts on one of
    the `watched` workers' executors: the failure lands while the run's Spark job works."""

    def __init__(self, victim, watched) -> None:  # noqa: ANN001 - a node or a worker; worker handles
        self.victim, self.watched, self.done = victim, watched, False
        self.armed = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _tasks_started(self) -> int:
        logs = [log for worker in self.watched for log in worker.work_dir.glob("*/*/stderr")]
        return sum(log.read_text(errors="replace").count("Running task") for log in logs)

    def _watch(self) -> None:
        self.armed.wait()
        before = self._tasks_started()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self._tasks_started() > before:
                self.victim.kill()
                self.done = True
                return
            time.sleep(0.05)

    def __call__(self, step_start_line: str) -> None:
        if "elhub_production_cassandra" in step_start_line:
            self.armed.set()


ALL_CHECKS_GREEN = {"hours_complete": True, "rows_not_withdrawn": True, "matches_raw": True, "matches_cassandra": True}


@pytest.fixture(scope="module")
def cluster_replay():
    from ind320_devkit.replay import ReplayServer

    server = ReplayServer(port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cluster_run(topology, namespace, cluster_replay, tmp_path_factory):
    return ClusterRun(topology, namespace, cluster_replay.url, tmp_path_factory.mktemp("cluster"))


def months_of(first: int, last: int) -> list[date]:
    return [date(2021, m, 1) for m in range(first, last + 1)]


def test_a_backfill_runs_on_the_workers_executors_and_lands_exactly(topology, namespace, cluster_replay, cluster_run):
    months = months_of(1, 3)
    code, took, output = cluster_run("2021-01-01|NO1...2021-03-01|NO5")
    print(f"cluster backfill of 15 partitions: {took:.1f}s")
    assert code == 0, output[-4000:]
    tasks = cluster_run.tasks_per_executor()
    print(f"tasks per executor: {dict(tasks)}")
    assert sum(tasks.values()) > 0 and "driver" not in tasks, tasks  # executors on the workers, never the driver
    want = expected_summary(cluster_replay, months)
    assert len(want) == 3 * 5 * 5 - 3  # NO5 wind starts in June: no rows in these months
    assert stored_summary(topology, namespace, months, ConsistencyLevel.QUORUM) == want
    assert mongo_summary(namespace, months) == want
    assert cluster_run.last_run_checks() == ALL_CHECKS_GREEN


def test_a_cassandra_node_killed_during_the_write_loses_nothing(topology, namespace, cluster_replay, cluster_run):
    months = months_of(4, 6)
    victim = topology.cassandra_nodes[-1]
    kill = KillWhenTasksRun(victim, watched=topology.spark_workers)
    code, took, output = cluster_run("2021-04-01|NO1...2021-06-01|NO5", on_step_start=kill)
    assert kill.done
    print(f"run with {victim.address} killed during the write: exit {code} in {took:.1f}s")
    if code != 0:  # a clear failure is allowed: a rerun with the node still down must converge
        code, rerun_took, output = cluster_run("2021-04-01|NO1...2021-06-01|NO5")
        print(f"rerun with the node still down: exit {code} in {rerun_took:.1f}s")
    assert code == 0, output[-4000:]
    want = expected_summary(cluster_replay, months)
    assert stored_summary(topology, namespace, months, ConsistencyLevel.QUORUM) == want
    assert mongo_summary(namespace, months) == want
    assert cluster_run.last_run_checks() == ALL_CHECKS_GREEN

    restarted = time.monotonic()
    victim.start()
    print(f"{victim.address} back Up/Normal in {time.monotonic() - restarted:.1f}s")
    # What the restarted node holds by itself before any repair: what hinted handoff brought back.
    alone = stored_summary(topology, namespace, months, ConsistencyLevel.ONE, only=victim.address)
    print(f"before repair, {victim.address} alone holds {sum(n for n, _ in alone.values())} of "
          f"{sum(n for n, _ in want.values())} rows")
    repaired = time.monotonic()
    victim.repair(namespace)
    print(f"repair of {namespace} on {victim.address}: {time.monotonic() - repaired:.1f}s")
    assert stored_summary(topology, namespace, months, ConsistencyLevel.ALL) == want


def test_a_spark_worker_killed_during_a_run_is_replaced_by_the_other(topology, namespace, cluster_replay, cluster_run):
    months = months_of(7, 9)
    victim = topology.spark_workers[-1]
    kill = KillWhenTasksRun(victim, watched=[victim])
    try:
        code, took, output = cluster_run("2021-07-01|NO1...2021-09-01|NO5", on_step_start=kill)
    finally:
        victim.start()
    assert kill.done
    print(f"run with a Spark worker killed: exit {code} in {took:.1f}s")
    assert code == 0, output[-4000:]
    succeeded, lost = cluster_run.tasks_per_executor(), cluster_run.tasks_per_executor("ExecutorLostFailure")
    removed = [e for e in cluster_run.spark_events() if e["Event"] == "SparkListenerExecutorRemoved"]
    print(f"tasks succeeded per executor: {dict(succeeded)}; lost with the worker: {dict(lost)}; "
          f"executors removed: {[e['Executor ID'] for e in removed]}")
    assert removed  # the application lost an executor during the run, and finished on the other
    assert sum(succeeded.values()) > 0 and "driver" not in succeeded
    want = expected_summary(cluster_replay, months)
    assert stored_summary(topology, namespace, months, ConsistencyLevel.QUORUM) == want
    assert mongo_summary(namespace, months) == want
    assert cluster_run.last_run_checks() == ALL_CHECKS_GREEN

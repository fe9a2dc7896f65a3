"""Whatever the order of runs, their instances or a SIGKILL, every store and view ends with the newest revision.

Each test drives `dagster asset materialize` for one partition of the production
chain, from replay servers that serve an older or a newer revision of it, and
then reads Cassandra, MongoDB and the views with their plain clients: they hold
exactly the newest revision's rows, stamped with its `lastUpdatedTime`.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import psutil
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.instance.ref import InstanceRef
from pymongo.database import Database

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.checks.stores import cassandra_rows, cassandra_summary, mongo_rows, mongo_summary
from ind320_assets.domain import OSLO_TZ, PRODUCTION
from ind320_assets.frame_summary import summarize
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.revisions import REVISION_COLUMN, REVISION_FIELD, cassandra_write_time
from ind320_assets.views.refresh import ViewCollections
from ind320_assets_tests.cli_fixtures import cli_environment, materialize_command, started_run, wait_until
from ind320_devkit.replay import ReplayServer

pytestmark = [pytest.mark.services, pytest.mark.e2e]

MONTH, AREA = "2021-05", "NO4"
PARTITION = f"{MONTH}-01|{AREA}"
SLICE = PartitionSlice.from_keys([PARTITION])
COMMAND = materialize_command(
    "--select", ",".join(key.to_user_string() for key in PRODUCTION_SPEC.asset_keys), "--partition", PARTITION
)
RAW_STEP, CASSANDRA_STEP, MONGO_STEP = (
    PRODUCTION_SPEC.key(name).to_python_identifier() for name in ("raw", "cassandra", "mongo")
)
RUN_TIMEOUT_S = 600  # a run that waits for a slot nobody frees fails the test here instead of hanging it
GROUP = PRODUCTION_SPEC.group_column
VIEWS = ViewCollections(PRODUCTION_SPEC.mongo_collection, GROUP)



# --- the stores' services, clean for every test ------------------------------------------------


@dataclass(frozen=True)
class Stores:
    cassandra: CassandraResource
    mongo: MongoResource
    db: Database

    def env(self, elhub_url: str, root: Path) -> dict[str, str]:
        """The environment of one Dagster instance (DAGSTER_HOME and raw dir under `root`) on these stores."""
        return cli_environment(elhub_url, self.cassandra.keyspace, self.mongo.database, root)


@pytest.fixture
def stores(cassandra, cassandra_keyspace, cql, mongo, mongo_db) -> Stores:
    """The session's keyspace and database; `cql` and `mongo_db` drop what a test wrote, so the
    next test's older revision does not meet this one's newer rows."""
    return Stores(cassandra, mongo, mongo_db)


@pytest.fixture
def servers() -> Iterator[tuple[ReplayServer, ReplayServer, pd.Timestamp]]:
    """(old, new, new's stamp): two Elhub replays; `new` serves revision N+1 of the partition."""
    old, new = ReplayServer(port=0).start(), ReplayServer(port=0).start()
    revision = new.publish_revision(PRODUCTION.dataset_id, MONTH, [AREA], factor=1.25)
    yield old, new, revision.last_updated
    old.stop()
    new.stop()


# --- CLI runs in the background, watched through their instance's event log -----------------------


def instance_of(env: dict[str, str]) -> DagsterInstance:
    """The instance of `env`'s DAGSTER_HOME, opened (its storage created) before a CLI run uses it."""
    return DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))


@contextmanager
def start(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The production chain's CLI run of PARTITION, in its own process group (the Spark JVM is in it
    too), its output in `log`; the group is killed if the test ends before the run does."""
    with log.open("w") as out:
        process = subprocess.Popen(COMMAND, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            kill_group(process)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the run's whole process group, and wait until none of it lives on."""
    group = process.pid  # start_new_session: the CLI leads its own group
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()

    def none_left() -> bool:
        living = []
        for p in psutil.process_iter(["pid", "status"]):
            try:
                if os.getpgid(p.info["pid"]) == group and p.info["status"] != psutil.STATUS_ZOMBIE:
                    living.append(p)
            except ProcessLookupError:
                continue
        return not living

    wait_until("the killed run's process group to die", none_left, 60)


def output_tail(process: subprocess.Popen, chars: int = 4000) -> str:
    return process.log.read_text(errors="replace")[-chars:]


def wait_for_step(instance: DagsterInstance, step_key: str, process: subprocess.Popen) -> str:
    """The id of the run whose `step_key` has started."""
    return wait_until(f"STEP_START of {step_key}", lambda: started_run(instance, step_key), RUN_TIMEOUT_S, process)


def finish(process: subprocess.Popen) -> float:
    """Waits for a CLI run (at most RUN_TIMEOUT_S) and asserts it exited 0; returns when it ended."""
    try:
        process.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise AssertionError(f"the run did not end within {RUN_TIMEOUT_S} s:\n{output_tail(process)}") from None
    assert process.returncode == 0, output_tail(process)
    return time.monotonic()


def the_successful_run(instance: DagsterInstance, run_id: str | None = None) -> str:
    """The id of run `run_id` (by default the instance's only run), which succeeded with every
    asset check passing."""
    (run,) = [instance.get_run_by_id(run_id)] if run_id else instance.get_runs()
    assert run.status == DagsterRunStatus.SUCCESS, run.status
    evaluations = check_evaluations(instance, run.run_id)
    assert set(evaluations) == {"hours_complete", "rows_not_withdrawn", "matches_raw", "matches_cassandra"}
    failed = {name for name, e in evaluations.items() if not e.passed}
    assert not failed - {"rows_not_withdrawn"}, failed  # a WARN check may fail without failing the run
    return run.run_id


def check_evaluations(instance: DagsterInstance, run_id: str) -> dict:
    """{check name: its AssetCheckEvaluation} of a run."""
    entries = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [e.dagster_event.event_specific_data for e in entries]
    return {e.check_name: e for e in evaluations}


def superseded(instance: DagsterInstance, run_id: str, check_name: str) -> list[str]:
    """The partitions a run's store check skipped because the store held a newer revision."""
    return check_evaluations(instance, run_id)[check_name].metadata["superseded_by_newer_revision"].value


# --- what the stores hold ---------------------------------------------------------------------------


def utc(value: datetime) -> pd.Timestamp:
    """pymongo's dates are naive UTC; the driver's and pandas' may be aware."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def assert_newest(stores: Stores, newest: pd.DataFrame, stamp: pd.Timestamp) -> None:
    """Cassandra, MongoDB and the three views hold exactly `newest`, the rows of revision `stamp`."""
    assert newest[REVISION_COLUMN].max() == stamp and len(newest)
    expected = summarize(newest, SLICE, GROUP)
    spec = PRODUCTION_SPEC
    assert cassandra_summary(stores.cassandra, spec.cassandra_table, spec.stored_schema, SLICE) == expected
    assert mongo_summary(stores.mongo, spec.mongo_collection, spec.stored_schema, SLICE) == expected

    # Every stored row is the newest revision's, and Cassandra wrote it at that revision's write time.
    for rows in (
        cassandra_rows(stores.cassandra, spec.cassandra_table, spec.stored_schema, SLICE),
        mongo_rows(stores.mongo, spec.mongo_collection, spec.stored_schema, SLICE),
    ):
        assert set(rows[REVISION_COLUMN]) == {stamp}
    session = stores.cassandra.session()
    write_times = session.execute(
        f"SELECT WRITETIME(quantity_kwh) FROM {stores.cassandra.keyspace}.{spec.cassandra_table} "
        "WHERE price_area = %s AND month = %s",
        SLICE.pairs[0],
    )
    assert {row[0] for row in write_times} == {int(cassandra_write_time(pd.Series([stamp])).iloc[0])}
    day_documents = list(stores.db[spec.mongo_collection].find({}, {REVISION_FIELD: 1}))
    assert day_documents and {utc(d[REVISION_FIELD]) for d in day_documents} == {stamp}

    day = newest["start_time"].dt.tz_convert(OSLO_TZ).dt.strftime("%Y-%m-%d")
    daily = {
        f"{AREA}|{group}|{d}": round(math.fsum(rows["quantity_kwh"]), 3)
        for (group, d), rows in newest.groupby([GROUP, day])
    }
    daily_documents = list(stores.db[VIEWS.daily_totals].find())
    assert {d["_id"]: d["quantity_kwh"] for d in daily_documents} == daily
    assert {utc(d[REVISION_FIELD]) for d in daily_documents} == {stamp}

    yearly = {
        f"{AREA}|{group}|{MONTH[:4]}": round(math.fsum(v for k, v in daily.items() if k.split("|")[1] == group), 3)
        for group in newest[GROUP].unique()
    }
    yearly_documents = list(stores.db[VIEWS.yearly_totals].find())
    assert {d["_id"]: d["quantity_kwh"] for d in yearly_documents} == yearly
    assert {utc(d[REVISION_FIELD]) for d in yearly_documents} == {stamp}

    series = stores.db[VIEWS.hourly_series].find_one({"_id": f"{AREA}|{MONTH}"})
    by_group = newest.sort_values("start_time").groupby(GROUP)["quantity_kwh"]
    assert series["series"] == {group: list(values) for group, values in by_group}
    assert utc(series[REVISION_FIELD]) == utc(series["last_updated_time"]) == stamp


def served(server: ReplayServer) -> pd.DataFrame:
    return server.frame(PRODUCTION, date(2021, 5, 1), date(2021, 6, 1), areas=[AREA])


# --- the tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw_dir", ["shared raw dir", "own raw dir"])
def test_a_stale_writer_on_another_instance_loses(stores, servers, tmp_path, raw_dir):
    """Run A writes revision N+1 from `new`; run B, later, on another DAGSTER_HOME, fetches N from `old`.

    With the raw dir shared, B's Parquet write keeps A's newer file and B's later steps load N+1
    from it; with a raw dir of its own, B writes N to Cassandra, where N+1's write time wins, and
    its `matches_raw` check skips the partition as superseded."""
    old, new, stamp = servers
    env_a = stores.env(new.url, tmp_path / "a")
    env_b = stores.env(old.url, tmp_path / "b")
    if raw_dir == "shared raw dir":
        env_b["ELHUB_RAW_DIR"] = env_a["ELHUB_RAW_DIR"]
    assert served(old)[REVISION_COLUMN].max() < stamp

    with instance_of(env_a) as instance_a, instance_of(env_b) as instance_b:
        for env, log in ((env_a, "a.log"), (env_b, "b.log")):
            with start(env, tmp_path / log) as process:
                finish(process)
        the_successful_run(instance_a)
        run_b = the_successful_run(instance_b)
        skipped = superseded(instance_b, run_b, "matches_raw")
        assert skipped == ([] if raw_dir == "shared raw dir" else [PARTITION])
        assert superseded(instance_b, run_b, "matches_cassandra") == []  # B's mongo step read N+1 from Cassandra

    newest = served(new)
    assert_newest(stores, newest, stamp)
    for raw in {env_a["ELHUB_RAW_DIR"], env_b["ELHUB_RAW_DIR"]}:
        (path,) = Path(raw).rglob("*.parquet")
        kept = pd.read_parquet(path)[REVISION_COLUMN].max()
        assert kept == (stamp if raw == env_a["ELHUB_RAW_DIR"] else served(old)[REVISION_COLUMN].max())


@pytest.mark.parametrize("first", ["older first", "newer first"])
def test_concurrent_runs_on_two_instances_leave_the_newer_revision(stores, servers, tmp_path, first):
    """Two instances (own DAGSTER_HOME, own raw dir) run the partition at once, one from the older
    and one from the newer source; the second starts once the first has started its raw step."""
    old, new, stamp = servers
    sources = [("old", old), ("new", new)] if first == "older first" else [("new", new), ("old", old)]
    envs = [stores.env(server.url, tmp_path / name) for name, server in sources]

    with ExitStack() as stack:
        instances = [stack.enter_context(instance_of(env)) for env in envs]
        leader = stack.enter_context(start(envs[0], tmp_path / f"{sources[0][0]}.log"))
        wait_for_step(instances[0], RAW_STEP, leader)
        follower = stack.enter_context(start(envs[1], tmp_path / f"{sources[1][0]}.log"))
        for process in (leader, follower):
            finish(process)
        for instance in instances:
            the_successful_run(instance)

    assert_newest(stores, served(new), stamp)


@pytest.mark.parametrize("killed_step", [CASSANDRA_STEP, MONGO_STEP])
def test_a_rerun_after_a_sigkill_is_not_blocked_and_converges(stores, replay, tmp_path, killed_step):
    """A run SIGKILLed as `killed_step` starts stays STARTED for ever; the same command on the same
    DAGSTER_HOME (the project's dagster.yaml) must not wait for it. Elhub republishes the partition
    in between, so the rerun must also replace what the killed run left."""
    env = stores.env(replay.url, tmp_path)
    with instance_of(env) as instance:
        with start(env, tmp_path / "killed.log") as killed:
            killed_run = wait_for_step(instance, killed_step, killed)
            kill_group(killed)
        revision = replay.publish_revision(PRODUCTION.dataset_id, MONTH, [AREA], factor=1.25)

        began = time.monotonic()
        with start(env, tmp_path / "rerun.log") as rerun:
            seconds = finish(rerun) - began
        print(f"rerun after kill in {killed_step}: {seconds:.1f} s")

        assert instance.get_run_by_id(killed_run).status == DagsterRunStatus.STARTED  # nothing freed it
        (rerun_run,) = [run.run_id for run in instance.get_runs() if run.run_id != killed_run]
        the_successful_run(instance, rerun_run)

    assert_newest(stores, served(replay), revision.last_updated)

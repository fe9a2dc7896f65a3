"""Two overlapping CLI runs of one partition never write at the same time, and leave one revision.

Run A starts; once it has fetched, the replay publishes a revision and run B
starts with the same DAGSTER_HOME (the project's dagster.yaml: one slot in each
dataset's write pool). Both runs succeed. No two steps of the pool overlap, and
Cassandra, MongoDB and the views end holding exactly the newest revision: each
step reads its input from the store upstream of it, inside its slot.
"""

import math
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
import subprocess
import time
from datetime import date
from itertools import combinations

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from dagster._core.instance.ref import InstanceRef

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.checks.stores import cassandra_summary, mongo_summary
from ind320_assets.domain import OSLO_TZ, PRODUCTION
from ind320_assets.frame_summary import summarize
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.views.refresh import ViewCollections
from ind320_assets_tests.cli_fixtures import cli_env, materialize_command  # noqa: F401 - cli_env is a fixture

pytestmark = [pytest.mark.services, pytest.mark.e2e]

PARTITION = "2021-05-01|NO4"
EVERY_ASSET = ",".join(key.to_user_string() for key in PRODUCTION_SPEC.asset_keys)
STEP_EVENTS = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE}


def step_intervals(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """{step key: (start, end)} of a run's finished steps, from its event log."""
    started, ended = {}, {}
    for entry in instance.all_logs(run_id, of_type=STEP_EVENTS):
        (started if entry.dagster_event_type == DagsterEventType.STEP_START else ended)[entry.step_key] = entry.timestamp
    return {step: (started[step], ended[step]) for step in started if step in ended}


@contextmanager
def start(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A CLI run in the background, killed if the test ends before it does."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_for_step(instance: DagsterInstance, step_key: str, process: subprocess.Popen, timeout_s: float = 300) -> str:
    """The run id of the only run, once its `step_key` has succeeded."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None or process.returncode == 0, process.communicate()[1][-3000:]
        for run in instance.get_runs():
            if step_key in step_intervals(instance, run.run_id):
                return run.run_id
        time.sleep(0.5)
    raise AssertionError(f"{step_key} did not finish within {timeout_s} s")


def test_overlapping_runs_of_one_partition_take_turns_and_leave_the_newest_revision(
    cli_env, replay, cassandra, cassandra_keyspace, mongo, mongo_db
):
    home = cli_env["DAGSTER_HOME"]
    command = materialize_command("--select", EVERY_ASSET, "--partition", PARTITION)
    with DagsterInstance.from_ref(InstanceRef.from_dir(home)) as instance:
        with ExitStack() as processes:
            first = processes.enter_context(start(command, cli_env))
            first_run = wait_for_step(instance, PRODUCTION_SPEC.key("raw").to_python_identifier(), first)
            replay.publish_revision(PRODUCTION.dataset_id, "2021-05", ["NO4"], factor=1.25)
            second = processes.enter_context(start(command, cli_env))
            for process in (first, second):
                _, stderr = process.communicate(timeout=900)
                assert process.returncode == 0, stderr[-3000:]

        runs = instance.get_runs()
        assert len(runs) == 2 and all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        intervals = [
            (run.run_id, step, span) for run in runs for step, span in step_intervals(instance, run.run_id).items()
        ]
        # Every step of the chain is in the pool: no two of them ever ran at once.
        assert len(intervals) == 2 * len(PRODUCTION_SPEC.asset_keys)
        for (run_a, step_a, (start_a, end_a)), (run_b, step_b, (start_b, end_b)) in combinations(intervals, 2):
            assert end_a <= start_b or end_b <= start_a, f"{run_a}:{step_a} overlapped {run_b}:{step_b}"
        # ... although the two runs were under way at the same time.
        second_run = next(run.run_id for run in runs if run.run_id != first_run)
        first_record, second_record = (instance.get_run_record_by_id(i) for i in (first_run, second_run))
        assert second_record.start_time < first_record.end_time

    slice_ = PartitionSlice.from_keys([PARTITION])
    newest = replay.frame(PRODUCTION, date(2021, 5, 1), date(2021, 6, 1), areas=["NO4"])
    expected = summarize(newest, slice_, PRODUCTION_SPEC.group_column)
    assert cassandra_summary(cassandra, PRODUCTION_SPEC.cassandra_table, PRODUCTION_SPEC.stored_schema, slice_) == expected
    assert mongo_summary(mongo, PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.stored_schema, slice_) == expected

    views = ViewCollections(PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.group_column)
    day = newest["start_time"].dt.tz_convert(OSLO_TZ).dt.strftime("%Y-%m-%d")
    daily = {
        f"NO4|{group}|{d}": round(math.fsum(rows["quantity_kwh"]), 3)
        for (group, d), rows in newest.groupby([PRODUCTION_SPEC.group_column, day])
    }
    assert {d["_id"]: d["quantity_kwh"] for d in mongo_db[views.daily_totals].find()} == daily
    series = mongo_db[views.hourly_series].find_one({"_id": "NO4|2021-05"})["series"]
    by_group = newest.sort_values("start_time").groupby(PRODUCTION_SPEC.group_column)["quantity_kwh"]
    assert series == {group: list(values) for group, values in by_group}

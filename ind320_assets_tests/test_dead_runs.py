"""A run whose worker process died (SIGKILL, OOM) must end FAILURE, not stay STARTED for ever; a live one is left alone."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import psutil
import pytest
from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    Definitions,
    asset,
    define_asset_job,
)

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.run_worker import WORKER_GONE_TAG, WORKER_TAG, fail_dead_runs, in_progress_runs, this_worker, worker_verdict
from ind320_assets_tests.replay_fixtures import replay_server  # noqa: F401 - a fixture
from ind320_assets_tests.test_revision_feed_sensor import SENSOR, SHORT_SENSOR, UP_TO_NOW, Tick, replay_without_feed  # noqa: F401

HOST = socket.gethostname()
PRODUCTION_KEYS = PRODUCTION_SPEC.asset_keys


@asset(key=PRODUCTION_SPEC.key("raw"))
def production_raw() -> None: ...


@asset(key=AssetKey("elsewhere"))
def elsewhere() -> None: ...


DEFS = Definitions(
    assets=[production_raw, elsewhere],
    jobs=[define_asset_job("production", selection=[production_raw.key]), define_asset_job("other", selection=[elsewhere.key])],
)


def started_run(instance: DagsterInstance, worker: str | None, job: str = "production", **kwargs) -> DagsterRun:
    """A run as its worker leaves it: STARTED, tagged with the worker once a step ran."""
    tags = {"dagster/partition": "2021-03-01|NO2", **({WORKER_TAG: worker} if worker else {})}
    return instance.create_run_for_job(DEFS.resolve_job_def(job), status=DagsterRunStatus.STARTED, tags=tags, **kwargs)


@pytest.fixture(scope="module")
def dead_worker() -> str:
    """A worker that ran on this host and exited: its pid no longer runs."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{HOST}:{process.pid}:1700000000.00"


@pytest.fixture
def zombie_worker():
    """A worker that exited but was not waited for: its pid is still listed, as a zombie."""
    process = subprocess.Popen(["true"])
    while psutil.Process(process.pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.01)
    yield f"{HOST}:{process.pid}:{psutil.Process(process.pid).create_time():.2f}"
    process.wait()


def test_the_verdict_asks_this_host_s_processes(dead_worker: str, zombie_worker: str) -> None:
    assert worker_verdict(this_worker()) == "alive"
    assert worker_verdict(dead_worker) == "dead"
    assert worker_verdict(zombie_worker) == "dead"
    assert worker_verdict(f"{HOST}:{os.getpid()}:1700000000.00") == "dead"  # the pid was reused
    assert worker_verdict(f"another-host:{os.getpid()}:1700000000.00") == "unknown"  # not ours to ask
    assert worker_verdict(None) == "unknown" and worker_verdict("not a worker") == "unknown"


def test_only_the_dataset_s_runs_with_a_dead_worker_are_failed(dead_worker: str) -> None:
    instance = DagsterInstance.ephemeral()
    dead = started_run(instance, dead_worker)
    untouched = [
        started_run(instance, this_worker()),  # alive
        started_run(instance, f"another-host:{os.getpid()}:1.00"),  # unknown: another host
        started_run(instance, None),  # unknown: no step has run yet
        started_run(instance, dead_worker, job="other"),  # dead, but another dataset's
        # A re-execution carries its parent's tags: until its own step runs, the tag is the parent's.
        started_run(instance, dead_worker, parent_run_id=dead.run_id, root_run_id=dead.run_id),
    ]
    verdicts = {found.run.run_id: found.verdict for found in in_progress_runs(instance, PRODUCTION_KEYS)}
    assert verdicts == {
        dead.run_id: "dead", untouched[0].run_id: "alive", untouched[1].run_id: "unknown",
        untouched[2].run_id: "unknown", untouched[4].run_id: "unknown",
    }  # fmt: skip

    (failed,) = fail_dead_runs(instance, PRODUCTION_KEYS, by="the test")
    assert failed.run.run_id == dead.run_id and failed.worker == dead_worker
    after = instance.get_run_by_id(dead.run_id)
    assert after.status == DagsterRunStatus.FAILURE and after.tags[WORKER_GONE_TAG] == dead_worker
    (failure,) = instance.all_logs(dead.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert f"worker process {dead_worker} is gone" in failure.message and "rerunning its partitions converges" in failure.message
    for run in untouched:
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED
        assert WORKER_GONE_TAG not in instance.get_run_by_id(run.run_id).tags
    assert fail_dead_runs(instance, PRODUCTION_KEYS, by="the test") == []  # a failed run is no longer in progress


def test_a_feed_tick_fails_the_dead_run_and_says_so(replay_server, dead_worker: str) -> None:  # noqa: F811
    instance = DagsterInstance.ephemeral()
    dead = started_run(instance, dead_worker)
    alive = started_run(instance, this_worker())

    tick = Tick(SENSOR, replay_server, UP_TO_NOW, instance)
    assert tick.run_requests == [] and "names 0 partition(s)" in tick.skipped  # a quiet feed
    assert f"run {dead.run_id} (2021-03-01|NO2) failed: its worker {dead_worker} is gone" in tick.skipped
    assert [line for line in tick.logged if dead.run_id in line] == [
        f"Dead run: run {dead.run_id} (2021-03-01|NO2) failed: its worker {dead_worker} is gone; a rerun converges"
    ]
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive.run_id).status == DagsterRunStatus.STARTED
    assert alive.run_id not in tick.skipped


def test_a_lookback_tick_fails_the_dead_run_and_still_requests_every_partition(replay_without_feed, dead_worker: str) -> None:  # noqa: F811
    instance = DagsterInstance.ephemeral()
    dead = started_run(instance, dead_worker)
    alive = started_run(instance, this_worker())  # a live run of the same partition holds nothing back

    tick = Tick(SHORT_SENSOR, replay_without_feed, UP_TO_NOW, instance)
    assert tick.keys == [f"2026-11-01|NO{n}" for n in range(1, 6)]
    assert any(line.startswith(f"Dead run: run {dead.run_id}") for line in tick.logged)
    assert instance.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive.run_id).status == DagsterRunStatus.STARTED


def test_a_dead_run_the_sensor_requested_is_requested_again_under_a_new_run_key(replay_server, dead_worker: str) -> None:  # noqa: F811
    instance = DagsterInstance.ephemeral()
    revision = "2026-11-20T08:00:00+00:00"
    dead = instance.create_run_for_job(
        DEFS.resolve_job_def("production"), status=DagsterRunStatus.STARTED,
        tags={"dagster/partition": "2021-03-01|NO2", WORKER_TAG: dead_worker, "elhub/revision": revision},
    )

    tick = Tick(SENSOR, replay_server, UP_TO_NOW, instance)
    (request,) = tick.run_requests
    assert request.partition_key == "2021-03-01|NO2" and request.tags["elhub/revision"] == revision
    assert request.run_key.endswith(f":after:{dead.run_id}")  # the dead run's own key is spent
    assert any(line.endswith("requested again; a rerun converges") for line in tick.logged)

"""Which process runs a Dagster run, so that a run whose process died can be told from a live one.

Dagster marks a run finished only when its process says so. A run worker killed
with SIGKILL (an OOM kill, a reboot) never does: the run stays STARTED for ever.
Every step therefore tags its run with its worker, `host:pid:start time`, and
the revision sensor asks the operating system whether that process still lives
(`in_progress_runs`), and marks the runs of dead workers failed (`fail_dead_runs`)
so that the UI, the sensor and a backfill see them as what they are.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import psutil
from dagster import AssetExecutionContext, AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

WORKER_TAG = "ind320/worker"


def this_worker() -> str:
    """`host:pid:start time` of this process; the start time tells a reused pid apart."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{psutil.Process(pid).create_time():.2f}"


def tag_run_worker(context: AssetExecutionContext) -> None:
    """Tags the run with this process, once per run (every step of a run shares its process)."""
    worker = this_worker()
    if context.run.tags.get(WORKER_TAG) != worker:
        context.instance.add_run_tags(context.run_id, {WORKER_TAG: worker})


WORKER_GONE_TAG = "ind320/worker_gone"
# The statuses in which a run should have a live process. A SUSPENDED run has none on purpose.
LIVE_STATUSES = (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING)
Verdict = Literal["alive", "dead", "unknown"]


@dataclass(frozen=True)
class RunWorker:
    """An in-progress run, the worker it is tagged with, and whether that worker still runs."""

    run: DagsterRun
    worker: str | None
    verdict: Verdict


def worker_verdict(worker: str | None) -> Verdict:
    """Whether the process `worker` (`host:pid:start time`) still runs, asked of this host's OS.

    Another host's process cannot be asked about, so it is "unknown", like a run
    that has not tagged itself yet. A pid that runs a process started at another
    time was reused: the worker is dead. A zombie has exited: dead as well.
    """
    try:
        host, pid, started = (worker or "").rsplit(":", 2)
        number = int(pid)
    except ValueError:
        return "unknown"  # no tag, or not one `this_worker` wrote
    if host != socket.gethostname():
        return "unknown"
    try:
        process = psutil.Process(number)
        gone = process.status() == psutil.STATUS_ZOMBIE or f"{process.create_time():.2f}" != started
    except psutil.NoSuchProcess:  # a zombie whose details are gone raises its subclass
        return "dead"
    except psutil.AccessDenied:
        return "unknown"  # it exists, but is not ours to inspect
    return "dead" if gone else "alive"


def in_progress_runs(instance: DagsterInstance, asset_keys: Iterable[AssetKey]) -> list[RunWorker]:
    """The runs that should have a live process and target any of `asset_keys`, each with its verdict."""
    wanted = set(asset_keys)
    found = []
    for run in instance.get_runs(filters=RunsFilter(statuses=list(LIVE_STATUSES))):
        if not wanted & _targets(instance, run):
            continue
        worker = run.tags.get(WORKER_TAG)
        verdict = "unknown" if _inherited(instance, run, worker) else worker_verdict(worker)
        found.append(RunWorker(run, worker, verdict))
    return found


def fail_dead_run(instance: DagsterInstance, dead: RunWorker, by: str) -> bool:
    """Marks a dead worker's run failed, with a tag the UI shows; False when it ended meanwhile."""
    run = instance.get_run_by_id(dead.run.run_id)
    if run is None or run.status not in LIVE_STATUSES:
        return False
    instance.add_run_tags(run.run_id, {WORKER_GONE_TAG: str(dead.worker)})
    instance.report_run_failed(
        run,
        f"The run's worker process {dead.worker} is gone (killed or crashed without reporting), "
        f"so this run would stay {run.status.value} for ever; {by} marked it failed. Its writes are "
        "revision-aware, so rerunning its partitions converges to the newest revision.",
    )
    return True


def fail_dead_runs(instance: DagsterInstance, asset_keys: Iterable[AssetKey], by: str) -> list[RunWorker]:
    """Fails every in-progress run of `asset_keys` whose worker is dead; returns those it failed."""
    dead = [found for found in in_progress_runs(instance, asset_keys) if found.verdict == "dead"]
    return [found for found in dead if fail_dead_run(instance, found, by)]


def _targets(instance: DagsterInstance, run: DagsterRun) -> set[AssetKey]:
    """The assets a run materializes: its asset selection, else the outputs of its plan's steps."""
    if run.asset_selection:
        return set(run.asset_selection)
    if not run.execution_plan_snapshot_id:
        return set()
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    return {o.properties.asset_key for s in plan.steps for o in s.outputs if o.properties and o.properties.asset_key}


def _inherited(instance: DagsterInstance, run: DagsterRun, worker: str | None) -> bool:
    """A re-execution copies its parent's tags: the worker tag names the parent's (dead) worker
    until the new run's first step tags it again, so it says nothing about the new run."""
    parent = instance.get_run_by_id(run.parent_run_id) if run.parent_run_id else None
    return parent is not None and worker is not None and parent.tags.get(WORKER_TAG) == worker

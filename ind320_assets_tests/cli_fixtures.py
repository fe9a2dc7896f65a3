"""The `dagster` CLI as a user runs it, in a subprocess, on the test's own services and DAGSTER_HOME.

Import the fixture into a test module (`from ind320_assets_tests.cli_fixtures import cli_env`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from dagster import DagsterEventType, DagsterInstance

from ind320_devkit.local_services.paths import prepare_dagster_home

DAGSTER = str(Path(sys.executable).with_name("dagster"))
T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T], timeout_s: float, *watched: subprocess.Popen) -> T:
    """`probe()`'s first truthy answer; fails after `timeout_s`, or as soon as a watched process
    has exited without the probe seeing what it waits for (with its log's tail, if it has one)."""
    deadline = time.monotonic() + timeout_s
    while True:
        exited = [p for p in watched if p.poll() is not None]
        found = probe()
        if found:
            return found
        if exited:
            p = exited[0]
            log = getattr(p, "log", None)
            tail = log.read_text(errors="replace")[-4000:] if log is not None else ""
            raise AssertionError(f"waiting for {what}, the process exited {p.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        time.sleep(0.1)


def started_run(instance: DagsterInstance, step_key: str) -> str | None:
    """The id of a run whose `step_key` has started, if one has."""
    for run in instance.get_runs():
        if any(e.step_key == step_key for e in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)):
            return run.run_id
    return None


def materialize_command(*args: str) -> list[str]:
    return [DAGSTER, "asset", "materialize", "-m", "ind320_assets.definitions", *args]


def cli_environment(elhub_url: str, keyspace: str, database: str, root: Path) -> dict[str, str]:
    """The environment of one Dagster instance: an Elhub URL, the stores, and under `root` its raw
    dir and a DAGSTER_HOME with the project's dagster.yaml. Two roots make two instances."""
    return {
        **os.environ,
        "ELHUB_API_URL": elhub_url,
        "CASSANDRA_KEYSPACE": keyspace,
        "MONGO_DB": database,
        "ELHUB_RAW_DIR": str(root / "raw"),
        "DAGSTER_HOME": str(prepare_dagster_home(root / "dagster_home")),
        "SPARK_DRIVER_MEMORY": "1g",
    }


@pytest.fixture
def cli_env(replay, cassandra_keyspace, mongo, tmp_path) -> dict[str, str]:
    """The replay, keyspace and database of the test; a DAGSTER_HOME with the project's dagster.yaml."""
    return cli_environment(replay.url, cassandra_keyspace, mongo.database, tmp_path)

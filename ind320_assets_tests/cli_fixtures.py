"""The `dagster` CLI as a user runs it, in a subprocess, on the test's own services and DAGSTER_HOME.

Import the fixture into a test module (`from ind320_assets_tests.cli_fixtures import cli_env`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ind320_devkit.local_services.paths import prepare_dagster_home

DAGSTER = str(Path(sys.executable).with_name("dagster"))


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

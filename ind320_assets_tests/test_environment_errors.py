"""A bad setting in the environment is one line naming the variable, through the CLI.

Dagster's CLI prints a failed step with its stack trace under its default console
logger, and a code location cannot replace that default (Dagster uses the job's
loggers only when the run config names one). So each case runs twice over:
- with the code location's console logger selected
  (`--config-json '{"loggers": {"console": {}}}'`): the step's and the run's
  failure lines end with the one line, and no stack trace is printed;
- one case with Dagster's default output: the same line is the exception Dagster
  prints, and the connector never silently connects to a default host instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from dagster import Failure

from ind320_assets.domain import PRODUCTION
from ind320_assets.elhub import ElhubApiError
from ind320_assets.resources.elhub import ElhubResource

pytestmark = [pytest.mark.services, pytest.mark.e2e]

DAGSTER = str(Path(sys.executable).with_name("dagster"))
CHAIN = "elhub_production_raw,elhub_production_cassandra,elhub_production_mongo"
ONE_LINE = json.dumps({"loggers": {"console": {}}})

# (variable, bad value, the one line Dagster's failure lines end with)
CASES = [
    ("CASSANDRA_HOSTS", "not-a-host",
     "CASSANDRA_HOSTS=not-a-host: no contact point resolves to an address (not-a-host: Name or service not known)"),
    ("MONGO_URI", "mongodb://127.0.0.1:1",
     "MONGO_URI=mongodb://127.0.0.1:1: no MongoDB server answers at 127.0.0.1:1 ([Errno 111] Connection refused)"),
    ("ELHUB_API_URL", "http://127.0.0.1:9/",
     "ELHUB_API_URL=http://127.0.0.1:9/: no answer from http://127.0.0.1:9/price-areas/NO1 after 5 attempts "
     "([Errno 111] Connection refused)"),
    ("SPARK_MASTER", "spark://127.0.0.1:1",
     "SPARK_MASTER=spark://127.0.0.1:1: no Spark master accepts connections (127.0.0.1:1: Connection refused)"),
]


def materialize(tmp_path: Path, replay, keyspace: str, variable: str, value: str, *extra: str):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "ELHUB_API_URL": replay.url,
        "CASSANDRA_KEYSPACE": keyspace,
        "MONGO_DB": keyspace,
        "ELHUB_RAW_DIR": str(tmp_path / "raw"),
        "DAGSTER_HOME": str(home),
        "SPARK_DRIVER_MEMORY": "1g",
        variable: value,
    }
    return subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "ind320_assets.definitions",
         "--select", CHAIN, "--partition", "2021-01-01|NO1", *extra],
        env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.parametrize(("variable", "value", "line"), CASES, ids=[case[0] for case in CASES])
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path, replay, cassandra_keyspace, mongo, variable, value, line
):
    done = materialize(tmp_path, replay, cassandra_keyspace, variable, value, "--config-json", ONE_LINE)
    assert done.returncode != 0
    naming = [text for text in done.stderr.splitlines() if f"{variable}=" in text]
    assert [text.split(" - ")[-2] for text in naming] == ["STEP_FAILURE", "RUN_FAILURE"], done.stderr[-3000:]
    assert all(text.endswith(line) for text in naming), naming
    assert "Stack Trace" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.rstrip().endswith("Error: Materialization failed.")


def test_dagster_default_output_shows_the_same_line_and_no_default_host_is_used(tmp_path, replay, cql):
    """Before this, the connector dropped the unresolvable host, connected to its default
    127.0.0.1 and created the run's keyspace there: a typo wrote to another cluster."""
    keyspace = f"ind320_nowhere_{uuid.uuid4().hex[:8]}"
    done = materialize(tmp_path, replay, keyspace, "CASSANDRA_HOSTS", "not-a-host")
    assert done.returncode != 0
    assert f"dagster._core.definitions.events.Failure: {CASES[0][2]}" in done.stderr.splitlines()
    created = [r.keyspace_name for r in cql.execute("SELECT keyspace_name FROM system_schema.keyspaces")]
    assert keyspace not in created


def test_an_unanswered_elhub_request_is_still_an_elhub_api_error():
    """The revision sensors skip a month on `ElhubApiError`; the one line must not change that."""
    client = ElhubResource(base_url="http://127.0.0.1:9/", max_attempts=1).client()
    with pytest.raises(ElhubApiError) as failed:
        client.fetch(PRODUCTION, date(2021, 1, 1), date(2021, 2, 1), areas=["NO1"])
    assert isinstance(failed.value, Failure)
    assert str(failed.value) == failed.value.description == (
        "ELHUB_API_URL=http://127.0.0.1:9/: no answer from http://127.0.0.1:9/price-areas/NO1 after 1 attempt "
        "([Errno 111] Connection refused)"
    )

"""The README's `dagster asset materialize` commands, run as a user runs them, in a subprocess."""

import subprocess

import pytest

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets_tests.cli_fixtures import cli_env, materialize_command  # noqa: F401 - cli_env is a fixture
from ind320_assets_tests import stored_rows

pytestmark = [pytest.mark.services, pytest.mark.e2e]

CHAIN = "elhub_production_raw,elhub_production_cassandra,elhub_production_mongo"


@pytest.fixture
def dagster_cli(cli_env):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            materialize_command(*args),
            env=cli_env, capture_output=True, text=True, timeout=600,
        )

    return run


def count_rows(cql, keyspace, area, month):
    tables = {r.table_name for r in cql.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (keyspace,))}
    if PRODUCTION_SPEC.cassandra_table not in tables:
        return 0
    return cql.execute(
        f"SELECT count(*) FROM {keyspace}.{PRODUCTION_SPEC.cassandra_table} WHERE price_area = %s AND month = %s",
        (area, month),
    ).one()[0]


def test_one_partition_from_the_cli(dagster_cli, cql, cassandra_keyspace, mongo_db):
    done = dagster_cli("--select", CHAIN, "--partition", "2021-01-01|NO1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert count_rows(cql, cassandra_keyspace, "NO1", "2021-01") == 3720
    assert stored_rows.mongo_row_count(mongo_db[PRODUCTION_SPEC.mongo_collection], {"price_area": "NO1", "month": "2021-01"}) == 3720


def test_a_year_for_one_area_is_one_run_from_the_cli(dagster_cli, replay, cql, cassandra_keyspace, mongo_db):
    done = dagster_cli("--select", CHAIN, "--partition-range", "2021-01-01|NO5...2021-12-01|NO5")
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(replay.requests) == 12  # one request per month
    total = sum(count_rows(cql, cassandra_keyspace, "NO5", f"2021-{m:02d}") for m in range(1, 13))
    assert total == 4 * 8760 + 5113  # NO5 wind starts on 2021-06-02
    assert stored_rows.mongo_row_count(mongo_db[PRODUCTION_SPEC.mongo_collection], {"price_area": "NO5"}) == total


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--select", CHAIN, "--partition", "2021-01|NO1"), "2021-01|NO1"),
        (("--select", CHAIN, "--partition", "2021-01-01|NO9"), "2021-01-01|NO9"),
        (("--select", "elhub_production_nope", "--partition", "2021-01-01|NO1"), "elhub_production_nope"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(dagster_cli, replay, cql, cassandra_keyspace, mongo_db, args, message):
    done = dagster_cli(*args)
    assert done.returncode != 0
    assert message in done.stderr + done.stdout
    assert replay.requests == []
    assert count_rows(cql, cassandra_keyspace, "NO1", "2021-01") == 0
    assert mongo_db[PRODUCTION_SPEC.mongo_collection].count_documents({}) == 0

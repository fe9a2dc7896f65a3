"""Credentials switched on, end to end: a Cassandra that makes clients log in, one
partition through the README's CLI command with the credentials given only as
environment variables, and no trace of a password anywhere we can read.

The node (PasswordAuthenticator + CassandraAuthorizer) runs on ports and in a folder
of its own, beside the shared services, and is stopped when the module ends. The
platform logs in as a role the test creates with a random password; the role may
only create keyspaces (it then owns what it creates), so the run also proves the
runtime needs no superuser.

MongoDB is a private SecantusDB started with `--auth` (the shared one runs without),
with a user that may read and write the run's database only: its password comes
from the test, a wrong one is refused, and neither shows anywhere.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import traceback
import uuid
from pathlib import Path

import pytest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster
from dagster import DagsterEventType, DagsterInstance, Failure, serialize_value
from pymongo import MongoClient

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.resources.mongo import MongoResource
from ind320_assets_tests import stored_rows
from ind320_assets_tests.private_mongo import private_mongo
from ind320_devkit.local_services.cassandra import DEFAULT_SUPERUSER, PasswordCassandra
from ind320_devkit.replay import ReplayServer

pytestmark = [pytest.mark.services, pytest.mark.e2e]

DAGSTER = str(Path(sys.executable).with_name("dagster"))
CHAIN = "elhub_production_raw,elhub_production_cassandra,elhub_production_mongo"
PARTITION = "2021-01-01|NO1"
HOST, PORT, STORAGE_PORT, JMX_PORT = "127.0.0.1", 9242, 7300, 7400  # apart from the shared node and the ring
MONGO_USER = "ind320_platform"
# Set by whoever runs the tests; the runs here must get credentials from our variables alone.
OUR_VARIABLES = ("CASSANDRA_", "MONGO_")


@pytest.fixture(scope="module")
def password_cassandra(tmp_path_factory):
    node = PasswordCassandra(
        tmp_path_factory.mktemp("cassandra-auth"), port=PORT, storage_port=STORAGE_PORT, jmx_port=JMX_PORT
    )
    print(f"\n{node.up()}")
    yield node
    print(node.down())


@pytest.fixture(scope="module")
def role(password_cassandra):
    """A login role with a random password, allowed to create keyspaces (and to own them)."""
    name, password = f"ind320_{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(24)
    cluster = Cluster([HOST], port=PORT, auth_provider=PlainTextAuthProvider(*DEFAULT_SUPERUSER))
    session = cluster.connect()
    session.execute(f"CREATE ROLE {name} WITH LOGIN = true AND PASSWORD = %s", (password,))
    session.execute(f"GRANT CREATE ON ALL KEYSPACES TO {name}")
    cluster.shutdown()
    return name, password


@pytest.fixture(scope="module")
def namespace():
    return f"ind320_cred_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def mongo_login(tmp_path_factory, namespace):
    """(server, password): a private MongoDB with `--auth` and a user for the namespace only."""
    password = secrets.token_urlsafe(24)
    with private_mongo(tmp_path_factory.mktemp("mongo-auth")) as server:
        server.with_user(MONGO_USER, password, namespace)
        yield server, password


@pytest.fixture(scope="module")
def replay_server():
    server = ReplayServer(port=0).start()
    yield server
    server.stop()


class CliRun:
    """One `dagster asset materialize` in a fresh DAGSTER_HOME; the run's event records afterwards."""

    def __init__(self, home: Path, environment: dict[str, str], *args: str) -> None:
        home.mkdir(parents=True)
        self.home = home
        self.spark_events = home / "spark-events"
        self.spark_events.mkdir()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
        env = {
            **inherited,
            "DAGSTER_HOME": str(home),
            "ELHUB_RAW_DIR": str(home / "raw"),
            "SPARK_DRIVER_MEMORY": "1g",
            "SPARK_EVENT_LOG_DIR": f"file://{self.spark_events}",  # Spark's own dump of its configuration
            **environment,
        }
        self.done = subprocess.run(
            [DAGSTER, "asset", "materialize", "-m", "ind320_assets.definitions", *args],
            env=env, capture_output=True, text=True, timeout=600,
        )
        with DagsterInstance.from_config(str(home)) as instance:
            run = instance.get_runs(limit=1)[0]
            self.records = instance.all_logs(run.run_id)

    def events(self, kind: DagsterEventType) -> list:
        return [r.dagster_event for r in self.records if r.dagster_event and r.dagster_event.event_type == kind]

    def everything(self) -> dict[str, str]:
        """Every place a secret could leak to, by name: the console, each event record
        (metadata included), every file the instance and Spark wrote (SQLite event log,
        compute logs, Spark's event log)."""
        places = {"stdout": self.done.stdout, "stderr": self.done.stderr}
        for index, record in enumerate(self.records):
            places[f"event {index} {record.dagster_event_type}"] = serialize_value(record)
        for path in self.home.rglob("*"):
            if path.is_file():
                places[str(path)] = path.read_bytes().decode("latin-1")
        return places


def leaks(run: CliRun, *secret_values: str) -> list[str]:
    return [place for place, text in run.everything().items() for secret in secret_values if secret in text]


def environment(role, replay_server, namespace, mongo_login, mongo_password=None, **overrides) -> dict[str, str]:
    user, password = role
    server, right_password = mongo_login
    return {
        "ELHUB_API_URL": replay_server.url,
        "CASSANDRA_HOSTS": HOST,
        "CASSANDRA_PORT": str(PORT),
        "CASSANDRA_USERNAME": user,
        "CASSANDRA_PASSWORD": password,
        "CASSANDRA_KEYSPACE": namespace,
        "MONGO_URI": f"mongodb://{MONGO_USER}:{mongo_password or right_password}@127.0.0.1:{server.port}/?authSource=admin",
        "MONGO_DB": namespace,
        **overrides,
    }


def test_one_partition_with_credentials_from_the_environment_only(
    role, replay_server, namespace, mongo_login, password_cassandra, tmp_path
):
    user, password = role
    server, mongo_password = mongo_login
    run = CliRun(
        tmp_path / "run", environment(role, replay_server, namespace, mongo_login),
        "--select", CHAIN, "--partition", PARTITION,
    )
    assert run.done.returncode == 0, run.done.stderr[-3000:]

    # The rows are there, read back as the role: the connector and the driver both logged in.
    cluster = Cluster([HOST], port=PORT, auth_provider=PlainTextAuthProvider(user, password))
    stored = cluster.connect().execute(
        f"SELECT count(*) FROM {namespace}.{PRODUCTION_SPEC.cassandra_table} WHERE price_area = 'NO1' AND month = '2021-01'"
    ).one()[0]
    cluster.shutdown()
    assert stored == 3720
    login = f"mongodb://{MONGO_USER}:{mongo_password}@127.0.0.1:{server.port}/?authSource=admin"
    documents = MongoClient(login)[namespace][PRODUCTION_SPEC.mongo_collection]
    assert stored_rows.mongo_row_count(documents, {"price_area": "NO1", "month": "2021-01"}) == 3720
    checks = {e.event_specific_data.check_name: e.event_specific_data.passed
              for e in run.events(DagsterEventType.ASSET_CHECK_EVALUATION)}
    assert checks == {"hours_complete": True, "rows_not_withdrawn": True, "matches_raw": True, "matches_cassandra": True}

    # Spark got the credentials: its own configuration dump names the user, and redacts the password.
    spark_log = "".join(p.read_text() for p in run.spark_events.iterdir())
    assert f'"spark.cassandra.auth.username":"{user}"' in spark_log
    assert '"spark.cassandra.auth.password":"*********(redacted)"' in spark_log

    # Three materializations with their metadata were searched, and no password is anywhere.
    assert len(run.events(DagsterEventType.ASSET_MATERIALIZATION)) == 3
    assert leaks(run, password, mongo_password) == []


def test_a_wrong_password_fails_the_run_naming_user_and_host_not_the_password(
    role, replay_server, namespace, mongo_login, password_cassandra, tmp_path
):
    user, password = role
    wrong = secrets.token_urlsafe(24)
    run = CliRun(
        tmp_path / "run", environment(role, replay_server, namespace, mongo_login, CASSANDRA_PASSWORD=wrong),
        "--select", CHAIN, "--partition", PARTITION,
    )
    assert run.done.returncode != 0
    failure = run.events(DagsterEventType.STEP_FAILURE)[0].step_failure_data
    line = failure.user_failure_data.description
    assert line == (
        f"CASSANDRA_USERNAME={user}: Cassandra at {HOST}:{PORT} refused the login of user '{user}' "
        "(wrong password, or no such role); check CASSANDRA_USERNAME and CASSANDRA_PASSWORD"
    )
    assert line in run.done.stderr
    # The whole exception text with its causes (the connector's and the driver's own) is clean too.
    assert user in failure.error.to_string()
    assert leaks(run, wrong, password) == []


def test_a_wrong_mongodb_password_or_an_unreachable_server_is_one_line_without_the_password(mongo_login):
    """In-process: the private server refuses the platform's user with a wrong password (SCRAM),
    and an unreachable server is reported; either way the one line names the user and host only."""
    server, _ = mongo_login
    user, password = MONGO_USER, secrets.token_urlsafe(24)
    host = f"127.0.0.1:{server.port}"
    refused = f"mongodb://{user}:{password}@{host}/?authSource=admin"
    unreachable = f"mongodb://{user}:{password}@127.0.0.1:1/"
    lines = []
    for uri in (refused, unreachable):
        with pytest.raises(Failure) as failed:
            MongoResource(uri=uri, database="unused").db()
        lines.append(failed.value.description)
        assert password not in "".join(traceback.format_exception(failed.value))
    assert lines[0].startswith(
        f"MONGO_URI=mongodb://{user}:***@{host}/?authSource=admin: the server at {host} refused the login of user '{user}' ")
    assert lines[1] == (
        f"MONGO_URI=mongodb://{user}:***@127.0.0.1:1/: no MongoDB server answers at 127.0.0.1:1 ([Errno 111] Connection refused)"
    )

"""Shared fixtures: the real local services, with a keyspace and database of our own per test session.

The dev kit fills in what only this machine knows (connector jars, Java 17)
through the same environment variables a deployment sets. A missing service
is a failure, never a skip: start them with `make services-up`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cassandra.cluster import Session
from pymongo.database import Database

from ind320_assets.definitions import build_resources
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_devkit.local_services.cassandra import cassandra_release_version
from ind320_devkit.local_services.runtime_env import apply_runtime_environment
from ind320_devkit.replay import ReplayServer

SERVICES_HINT = "Start the local services with `make services-up` (or point the CASSANDRA_*/MONGO_* variables at yours)."

apply_runtime_environment()


@pytest.fixture(scope="session")
def test_namespace() -> str:
    """A keyspace and database name no other test session uses."""
    return f"ind320_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def resources(test_namespace: str) -> dict:
    """The definitions' resources, bound from the environment, on the test namespace."""
    return build_resources(
        cassandra={"keyspace": test_namespace}, mongo={"database": test_namespace}, spark={"driver_memory": "1g"}
    )


@pytest.fixture(scope="session")
def cassandra(resources: dict) -> Iterator[CassandraResource]:
    with resources["cassandra"].process_config_and_initialize_cm() as resource:
        host = resource.contact_points[0]
        if cassandra_release_version(host, resource.port) is None:
            pytest.fail(f"Cassandra does not answer on {host}:{resource.port}. {SERVICES_HINT}", pytrace=False)
        yield resource


@pytest.fixture(scope="session")
def cassandra_keyspace(cassandra: CassandraResource) -> Iterator[str]:
    cassandra.ensure_keyspace()
    yield cassandra.keyspace
    cassandra.session().execute(f"DROP KEYSPACE IF EXISTS {cassandra.keyspace}")


@pytest.fixture
def cql(cassandra: CassandraResource, cassandra_keyspace: str) -> Iterator[Session]:
    """A driver session on the test keyspace; the test's tables are dropped afterwards."""
    session = cassandra.session()
    session.set_keyspace(cassandra_keyspace)
    yield session
    tables = session.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (cassandra_keyspace,)
    )
    for row in tables:
        session.execute(f"DROP TABLE IF EXISTS {cassandra_keyspace}.{row.table_name}")


@pytest.fixture(scope="session")
def spark_resource(resources: dict, cassandra: CassandraResource) -> Iterator[SparkCassandraResource]:
    """One Spark JVM for the whole test session: starting one costs seconds."""
    with resources["spark"].process_config_and_initialize_cm() as resource:
        yield resource
        resource.stop()


@pytest.fixture(scope="session")
def mongo(resources: dict) -> Iterator[MongoResource]:
    with resources["mongo"].process_config_and_initialize_cm() as resource:
        try:
            resource.db().client.admin.command("ping")
        except Exception as error:  # noqa: BLE001 - any failure here means the server is not usable
            pytest.fail(f"No MongoDB-wire server at {resource.uri}: {error}. {SERVICES_HINT}", pytrace=False)
        yield resource
        resource.db().client.drop_database(resource.database)


@pytest.fixture
def mongo_db(mongo: MongoResource) -> Iterator[Database]:
    """The test database; its collections are dropped after each test."""
    db = mongo.db()
    yield db
    for name in db.list_collection_names():
        db.drop_collection(name)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A fresh in-process Elhub replay server on a free port, no faults."""
    server = ReplayServer(port=0).start()
    yield server
    server.stop()

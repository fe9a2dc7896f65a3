"""Shared fixtures: the real local services, with a keyspace and database of our own per test session.

A missing service is a failure, never a skip: start them with `make services-up`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from cassandra.cluster import Session
from pymongo.database import Database

from ind320_devkit.replay import ReplayServer
from ind320_devkit.local_services.cassandra import cassandra_release_version
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.resources.spark import SparkCassandraResource
from ind320_assets.settings import ServiceSettings

SERVICES_HINT = "Start the local services with `make services-up` (or point the *_HOSTS/*_URI variables at yours)."


@pytest.fixture(scope="session")
def settings() -> ServiceSettings:
    return ServiceSettings.from_env()


@pytest.fixture(scope="session")
def test_namespace() -> str:
    """A keyspace and database name no other test session uses."""
    return f"ind320_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def cassandra(settings: ServiceSettings) -> Iterator[CassandraResource]:
    host, port = settings.cassandra_hosts[0], settings.cassandra_port
    if cassandra_release_version(host, port) is None:
        pytest.fail(f"Cassandra does not answer on {host}:{port}. {SERVICES_HINT}", pytrace=False)
    resource = CassandraResource.from_settings(settings)
    yield resource
    resource.close()


@pytest.fixture(scope="session")
def cassandra_keyspace(cassandra: CassandraResource, test_namespace: str) -> Iterator[str]:
    cassandra.ensure_keyspace(test_namespace)
    yield test_namespace
    cassandra.session().execute(f"DROP KEYSPACE IF EXISTS {test_namespace}")


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
def spark_resource(settings: ServiceSettings, cassandra: CassandraResource) -> Iterator[SparkCassandraResource]:
    """One Spark JVM for the whole test session: starting one costs seconds."""
    resource = SparkCassandraResource.from_settings(settings, driver_memory="1g")
    yield resource
    if resource._lazy is not None:
        resource.spark_session.stop()


@pytest.fixture(scope="session")
def mongo(settings: ServiceSettings, test_namespace: str) -> Iterator[MongoResource]:
    resource = MongoResource.from_settings(settings, database=test_namespace)
    try:
        resource.db().client.admin.command("ping")
    except Exception as error:  # noqa: BLE001 - any failure here means the server is not usable
        pytest.fail(f"No MongoDB-wire server at {settings.mongo_uri}: {error}. {SERVICES_HINT}", pytrace=False)
    yield resource
    resource.db().client.drop_database(test_namespace)
    resource.close()


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

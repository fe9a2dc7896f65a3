"""A cassandra-driver session for what Spark's connector does not do: DDL and deletes."""

from __future__ import annotations

from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, Session
from dagster import ConfigurableResource
from pydantic import PrivateAttr


class CassandraResource(ConfigurableResource):
    """Where Cassandra is, how to log in, and how new keyspaces replicate."""

    hosts: str = "127.0.0.1"  # comma-separated contact points
    port: int = 9042
    username: str | None = None
    password: str | None = None
    keyspace: str = "elhub"  # where the platform's tables live
    # CQL replication map for keyspaces we create; SimpleStrategy 1 suits one node.
    replication: str = "{'class': 'SimpleStrategy', 'replication_factor': 1}"

    _cluster: Cluster | None = PrivateAttr(default=None)
    _session: Session | None = PrivateAttr(default=None)

    @property
    def contact_points(self) -> list[str]:
        return [h.strip() for h in self.hosts.split(",") if h.strip()]

    def session(self) -> Session:
        """One driver session per resource instance, opened on first use."""
        if self._session is None:
            auth = PlainTextAuthProvider(self.username, self.password or "") if self.username else None
            self._cluster = Cluster(self.contact_points, port=self.port, auth_provider=auth)
            self._session = self._cluster.connect()
        return self._session

    def create_keyspace_cql(self, keyspace: str | None = None) -> str:
        return f"CREATE KEYSPACE IF NOT EXISTS {keyspace or self.keyspace} WITH replication = {self.replication}"

    def ensure_keyspace(self, keyspace: str | None = None) -> None:
        self.session().execute(self.create_keyspace_cql(keyspace))

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None

    def teardown_after_execution(self, context) -> None:  # noqa: ANN001 - Dagster's signature
        self.close()

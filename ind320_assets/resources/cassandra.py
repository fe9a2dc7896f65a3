"""A cassandra-driver session for what Spark's connector does not do: DDL, deletes and check reads."""

from __future__ import annotations

import ast
import socket

from cassandra import AuthenticationFailed, ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable, Session
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from dagster import ConfigurableResource
from pydantic import PrivateAttr

from ind320_assets.resources.errors import os_error_text, setting_failure


class CassandraResource(ConfigurableResource):
    """Where Cassandra is, how to log in, how new keyspaces replicate, and how sure reads and writes are."""

    hosts: str = "127.0.0.1"  # comma-separated contact points
    port: int = 9042
    username: str | None = None
    password: str | None = None
    keyspace: str = "elhub"  # where the platform's tables live
    # CQL replication map for keyspaces we create; SimpleStrategy 1 suits one node.
    replication: str = "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    # The datacenter whose nodes the driver prefers; empty lets the driver take the first contact point's.
    local_datacenter: str = ""
    # Consistency levels of the driver's deletes and check reads and of Spark's writes and reads.
    # Empty means LOCAL_QUORUM when the replication factor is above 1, else LOCAL_ONE.
    write_consistency: str = ""
    read_consistency: str = ""

    _cluster: Cluster | None = PrivateAttr(default=None)
    _session: Session | None = PrivateAttr(default=None)

    @property
    def contact_points(self) -> list[str]:
        return [h.strip() for h in self.hosts.split(",") if h.strip()]

    @property
    def replication_factor(self) -> int:
        """The largest factor in the replication map (per datacenter, or SimpleStrategy's)."""
        factors = [int(v) for k, v in ast.literal_eval(self.replication).items() if k != "class"]
        return max(factors)

    def check_contact_points(self) -> None:
        """Fail with one line naming CASSANDRA_HOSTS when no contact point resolves.

        Spark's connector drops the hosts it cannot resolve and, left with none,
        quietly connects to its default 127.0.0.1: a typo would write elsewhere.
        """
        reasons = []
        for host in self.contact_points:
            try:
                socket.getaddrinfo(host, self.port, type=socket.SOCK_STREAM)
                return
            except OSError as error:
                reasons.append(f"{host}: {error.strerror or error}")
        raise setting_failure(
            "cassandra", "hosts", self.hosts, f"no contact point resolves to an address ({'; '.join(reasons) or 'none given'})"
        )

    def connection_failure(self, error: Exception) -> Exception:
        """The one-line Failure for a driver or connector error: a refused login names
        CASSANDRA_USERNAME, the user and the hosts; anything else names CASSANDRA_HOSTS."""
        secrets = (self.password,)
        text = str(error)
        refused = isinstance(error, AuthenticationFailed) or any(
            isinstance(e, AuthenticationFailed) for e in getattr(error, "errors", {}).values()
        ) or "Authentication" in text or "password are incorrect" in text
        where = f"{self.hosts}:{self.port}"
        if refused:
            reason = "wrong password, or no such role" if "incorrect" in text else os_error_text(text)[:200]
            return setting_failure(
                "cassandra", "username", self.username,
                f"Cassandra at {where} refused the login of user {self.username!r} ({reason}); "
                "check CASSANDRA_USERNAME and CASSANDRA_PASSWORD",
                secrets=secrets,
            )
        return setting_failure(
            "cassandra", "hosts", self.hosts,
            f"no Cassandra answers at {where} ({os_error_text(text)[:300]})",
            secrets=secrets,
        )

    def consistency(self, kind: str) -> str:
        """The consistency level's name for `kind` "write" or "read"."""
        chosen = self.write_consistency if kind == "write" else self.read_consistency
        return (chosen or ("LOCAL_QUORUM" if self.replication_factor > 1 else "LOCAL_ONE")).upper()

    def consistency_level(self, kind: str) -> int:
        return ConsistencyLevel.name_to_value[self.consistency(kind)]

    def session(self) -> Session:
        """One driver session per resource instance, opened on first use; reads at the read level."""
        if self._session is None:
            auth = PlainTextAuthProvider(self.username, self.password or "") if self.username else None
            profile = ExecutionProfile(
                load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=self.local_datacenter or None)),
                consistency_level=self.consistency_level("read"),
            )
            self.check_contact_points()
            cluster = Cluster(
                self.contact_points, port=self.port, auth_provider=auth, execution_profiles={EXEC_PROFILE_DEFAULT: profile}
            )
            try:
                self._session = cluster.connect()
            except (NoHostAvailable, AuthenticationFailed, OSError) as error:
                cluster.shutdown()
                raise self.connection_failure(error) from error
            self._cluster = cluster
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

"""A pymongo client for the dashboard database (real MongoDB or FerretDB)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

from dagster import ConfigurableResource
from pydantic import PrivateAttr
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConfigurationError, ConnectionFailure, OperationFailure, PyMongoError

from ind320_assets.resources.errors import masked_uri, os_error_text, setting_failure


class MongoResource(ConfigurableResource):
    """The connection string (credentials belong in it, via `EnvVar("MONGO_URI")`) and database."""

    uri: str = "mongodb://127.0.0.1:27017"
    database: str = "ind320"

    _client: MongoClient | None = PrivateAttr(default=None)

    def db(self) -> Database:
        """The database, on a client that has answered a ping (and so logged in, if the URI has a user)."""
        if self._client is None:
            try:
                client = MongoClient(self.uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
            except (ConfigurationError, ValueError) as error:  # a malformed URI or option
                raise self._failure(f"not a usable connection string ({error})") from error
            try:
                client.admin.command("ping")
            except PyMongoError as error:
                client.close()
                raise self._failure(self._reason(client, error)) from error
            self._client = client
        return self._client[self.database]

    @contextmanager
    def answering(self) -> Iterator[Database]:
        """The database for a block of work. A server that goes away during it fails the
        step with the same one line naming `MONGO_URI` as one that never answered."""
        db = self.db()
        try:
            yield db
        except ConnectionFailure as error:
            raise self._failure(self._reason(db.client, error)) from error

    def _reason(self, client: MongoClient, error: PyMongoError) -> str:
        hosts = ",".join(f"{host}:{port}" for host, port in client.topology_description.server_descriptions())
        user = unquote(urlsplit(self.uri).username or "") or None
        if isinstance(error, OperationFailure) and error.code in (18, 13):  # AuthenticationFailed, Unauthorized
            return f"the server at {hosts} refused the login of user {user!r} ({(error.details or {}).get('errmsg', error)})"
        reason = str(error).split(", Timeout:")[0]  # pymongo appends the whole topology
        return f"no MongoDB server answers at {hosts} ({os_error_text(reason)})"

    def _failure(self, problem: str) -> Exception:
        try:
            password = urlsplit(self.uri).password
        except ValueError:
            password = None
        secrets = (password, unquote(password)) if password else ()
        return setting_failure("mongo", "uri", masked_uri(self.uri), problem, secrets=secrets)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def teardown_after_execution(self, context) -> None:  # noqa: ANN001 - Dagster's signature
        self.close()

"""A pymongo client for the dashboard database (real MongoDB or FerretDB)."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import PrivateAttr
from pymongo import MongoClient
from pymongo.database import Database



class MongoResource(ConfigurableResource):
    """The connection string (credentials belong in it, via `EnvVar("MONGO_URI")`) and database."""

    uri: str = "mongodb://127.0.0.1:27017"
    database: str = "ind320"

    _client: MongoClient | None = PrivateAttr(default=None)

    def db(self) -> Database:
        if self._client is None:
            self._client = MongoClient(self.uri, tz_aware=True, serverSelectionTimeoutMS=10_000)
        return self._client[self.database]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    def teardown_after_execution(self, context) -> None:  # noqa: ANN001 - Dagster's signature
        self.close()

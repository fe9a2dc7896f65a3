"""The one configuration contract: where the services are, read from the environment.

Every entry point (Dagster definitions, tests, benchmarks, the local-services
CLI) reads endpoints through `ServiceSettings.from_env()`, so one set of
variables moves the whole platform between the embedded local services,
Docker, and remote clusters. Secrets are not read here: resources take them
through Dagster's `EnvVar`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULTS: dict[str, str] = {
    "CASSANDRA_HOSTS": "127.0.0.1",
    "CASSANDRA_PORT": "9042",
    "MONGO_URI": "mongodb://127.0.0.1:27017",
    "MONGO_DB": "ind320",
    "SPARK_MASTER": "local[2]",
}


def env(name: str) -> str:
    """The variable's value, or the contract's default for it."""
    return os.environ.get(name) or DEFAULTS[name]


@dataclass(frozen=True)
class ServiceSettings:
    cassandra_hosts: tuple[str, ...]
    cassandra_port: int
    mongo_uri: str
    mongo_db: str
    spark_master: str

    @classmethod
    def from_env(cls) -> ServiceSettings:
        return cls(
            cassandra_hosts=tuple(h.strip() for h in env("CASSANDRA_HOSTS").split(",") if h.strip()),
            cassandra_port=int(env("CASSANDRA_PORT")),
            mongo_uri=env("MONGO_URI"),
            mongo_db=env("MONGO_DB"),
            spark_master=env("SPARK_MASTER"),
        )

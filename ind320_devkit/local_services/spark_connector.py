"""The Spark Cassandra Connector jars, resolved by Maven ahead of time.

Spark gets them through `spark.jars`, so a Spark session never resolves
packages through Ivy at run time (and works with no network at all).
"""

from __future__ import annotations

from pathlib import Path

from ind320_devkit.local_services.maven import resolve_jars
from ind320_devkit.local_services.paths import SERVICES_SOURCE, SPARK_JARS_DIR

CONNECTOR_POM = SERVICES_SOURCE / "spark" / "pom.xml"


def fetch_connector_jars() -> list[Path]:
    return resolve_jars(CONNECTOR_POM, SPARK_JARS_DIR)


def connector_jars() -> list[Path]:
    """The jars already fetched; a clear error if `make services-up` has not run."""
    jars = sorted(SPARK_JARS_DIR.glob("*.jar"))
    if not any(j.name.startswith("spark-cassandra-connector_") for j in jars):
        raise FileNotFoundError(
            f"The Spark Cassandra Connector is not in {SPARK_JARS_DIR}. "
            "Run `make services-up` (or set SPARK_JARS to your own comma-separated jar list)."
        )
    return jars

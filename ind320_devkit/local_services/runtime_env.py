"""The environment that points the runtime at what the local services provide.

The runtime reads its settings only from the environment (`ind320_assets/definitions.py`);
this fills in the parts that only this machine knows: the connector jars that
`services-up` fetched, a Java 17 for Spark, and a raw-data folder under `.local/`.
"""

from __future__ import annotations

import os

from ind320_devkit.local_services.java import find_java17_home
from ind320_devkit.local_services.paths import LOCAL_DIR
from ind320_devkit.local_services.spark_connector import connector_jars


def runtime_environment() -> dict[str, str]:
    return {
        "SPARK_JARS": ",".join(str(jar) for jar in connector_jars()),
        "SPARK_JAVA_HOME": str(find_java17_home()),
        "ELHUB_RAW_DIR": str(LOCAL_DIR / "elhub_raw"),
    }


def apply_runtime_environment() -> None:
    """Set each variable the caller has not set already."""
    for name, value in runtime_environment().items():
        os.environ.setdefault(name, value)

"""A Spark standalone master and its workers, from the pip pyspark's own `bin/spark-class`.

Each daemon is its own process with its own PID file, so a test can SIGKILL one
worker and watch Spark move the work to the other. They run on the Java 17 the
dev kit finds (Spark 3.5 must never meet the machine's newer JDK), bound to
127.0.0.1, with the venv's Python for executors.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import pyspark

from ind320_devkit.cluster.layout import (
    CLUSTER_DIR,
    LOG_DIR,
    RUN_DIR,
    SPARK_DAEMON_MEMORY,
    SPARK_HOST,
    SPARK_MASTER_PORT,
    SPARK_MASTER_WEB_PORT,
    SPARK_WORKER_CORES,
    SPARK_WORKER_COUNT,
    SPARK_WORKER_MEMORY,
    SPARK_WORKER_WEB_BASE_PORT,
)
from ind320_devkit.local_services.java import find_java17_home
from ind320_devkit.local_services.process import ManagedService, port_is_open

SPARK_HOME = Path(pyspark.__file__).resolve().parent
MASTER_URL = f"spark://{SPARK_HOST}:{SPARK_MASTER_PORT}"
MASTER_STATUS_URL = f"http://{SPARK_HOST}:{SPARK_MASTER_WEB_PORT}/json/"

# The master's REST submission server is off: nothing here submits through it,
# and its default port (6066) is one more thing to collide. A dead worker is
# dropped after 15s without heartbeats rather than a minute.
MASTER_PROPERTIES = """\
spark.master.rest.enabled false
spark.worker.timeout 15
"""
# Finished applications' folders go after a day; a test run leaves dozens.
WORKER_PROPERTIES = """\
spark.worker.cleanup.enabled true
spark.worker.cleanup.appDataTtl 86400
"""


def read_json(url: str, timeout_s: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.load(response)
    except (OSError, ValueError):  # refused, timed out, or half-started and answering garbage
        return None


def alive_worker_ids() -> set[str]:
    """The workers the master currently counts as ALIVE."""
    status = read_json(MASTER_STATUS_URL) or {}
    return {worker["id"] for worker in status.get("workers", []) if worker.get("state") == "ALIVE"}


class SparkDaemon(ManagedService):
    """What the master and the workers share: spark-class, Java 17, loopback, a folder of their own."""

    run_dir = RUN_DIR
    log_dir = LOG_DIR
    spark_class: str = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self.home = CLUSTER_DIR / name
        self.ownership_marker = f"{self.home}/"

    @property
    def pid(self) -> int | None:
        return self.own_pid()

    @property
    def properties_file(self) -> Path:
        return self.home / "spark-defaults.conf"

    def properties(self) -> str:
        return ""

    def prepare(self) -> None:
        (self.home / "conf").mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(self.properties())

    def daemon_arguments(self) -> list[str]:
        raise NotImplementedError

    def command(self) -> list[str]:
        # The properties file names this daemon's folder, which marks the process as ours.
        return [
            str(SPARK_HOME / "bin" / "spark-class"), self.spark_class,
            *self.daemon_arguments(), "--properties-file", str(self.properties_file),
        ]

    def environment(self) -> dict[str, str]:
        environment = {
            name: value for name, value in os.environ.items()
            # A SPARK_* setting from the caller's shell (say SPARK_MASTER after
            # `eval "$(make -s cluster-env)"`) must not leak into the daemons.
            if not name.startswith(("SPARK_", "PYSPARK_"))
        }
        environment.update({
            "JAVA_HOME": str(find_java17_home()),
            "SPARK_HOME": str(SPARK_HOME),
            "SPARK_CONF_DIR": str(self.home / "conf"),  # empty: no spark-env.sh from elsewhere
            "SPARK_LOCAL_IP": SPARK_HOST,
            "SPARK_DAEMON_MEMORY": SPARK_DAEMON_MEMORY,
            "PYSPARK_PYTHON": sys.executable,
        })
        return environment


class SparkMaster(SparkDaemon):
    spark_class = "org.apache.spark.deploy.master.Master"
    host = SPARK_HOST
    port = SPARK_MASTER_PORT
    start_timeout_s = 90.0

    def __init__(self) -> None:
        super().__init__("spark-master")

    @property
    def url(self) -> str:
        return MASTER_URL

    def properties(self) -> str:
        return MASTER_PROPERTIES

    def daemon_arguments(self) -> list[str]:
        return ["--host", SPARK_HOST, "--port", str(SPARK_MASTER_PORT), "--webui-port", str(SPARK_MASTER_WEB_PORT)]

    def is_ready(self) -> bool:
        status = read_json(MASTER_STATUS_URL)
        return bool(status) and status.get("status") == "ALIVE"


class SparkWorker(SparkDaemon):
    """A worker with one core and 1g for executors; its UI port identifies it to the status probes."""

    spark_class = "org.apache.spark.deploy.worker.Worker"
    host = SPARK_HOST
    start_timeout_s = 90.0

    def __init__(self, index: int) -> None:
        super().__init__(f"spark-worker-{index}")
        self.index = index
        self.port = SPARK_WORKER_WEB_BASE_PORT + index  # the worker's RPC port is picked at random

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def status_url(self) -> str:
        return f"http://{SPARK_HOST}:{self.port}/json/"

    def properties(self) -> str:
        return WORKER_PROPERTIES

    def daemon_arguments(self) -> list[str]:
        return [
            "--host", SPARK_HOST, "--cores", str(SPARK_WORKER_CORES), "--memory", SPARK_WORKER_MEMORY,
            "--work-dir", str(self.work_dir), "--webui-port", str(self.port), MASTER_URL,
        ]

    def prepare(self) -> None:
        super().prepare()
        self.work_dir.mkdir(parents=True, exist_ok=True)

    def worker_id(self) -> str | None:
        status = read_json(self.status_url)
        return status.get("id") if status else None

    def is_ready(self) -> bool:
        """Ready means the master counts this very worker (not a dead predecessor) as ALIVE."""
        if not port_is_open(SPARK_HOST, self.port):
            return False
        worker_id = self.worker_id()
        return worker_id is not None and worker_id in alive_worker_ids()

    def start(self) -> str:
        """Start the worker (again) and wait until the master counts it ALIVE."""
        return self.up()


def spark_workers() -> list[SparkWorker]:
    return [SparkWorker(index) for index in range(1, SPARK_WORKER_COUNT + 1)]

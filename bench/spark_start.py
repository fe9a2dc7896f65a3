"""The bare cost of Spark with the Cassandra connector in a new process.

    python -m bench.spark_start

Starts the session of the `spark` resource from `build_resources()` (the same config
the pipeline uses), runs `SELECT 1`, then one trivial query through the connector's
session (`SELECT release_version FROM system.local`), and prints one JSON line of
timings. Benchmark 2 runs it as a child process and times the whole process, the
way it times a `dagster` CLI run. `imports_s` includes loading the definitions
module that `build_resources` lives in, and the dev kit's environment lookup.
"""

from __future__ import annotations

import json
import time

t0 = time.perf_counter()

from ind320_assets.definitions import build_resources  # noqa: E402
from ind320_devkit.local_services.runtime_env import apply_runtime_environment  # noqa: E402


def main() -> None:
    apply_runtime_environment()
    t_imported = time.perf_counter()
    with build_resources()["spark"].process_config_and_initialize_cm() as resource:
        time_spark(resource, t_imported)


def time_spark(resource, t_imported: float) -> None:  # noqa: ANN001 - an initialized SparkCassandraResource
    spark = resource.spark_session
    t_session = time.perf_counter()
    spark.sql("SELECT 1 AS one").collect()
    t_select = time.perf_counter()
    # Through the connector's own Java driver session, as the IO manager's DDL goes.
    resource.execute_cql("SELECT release_version FROM system.local")
    t_connector = time.perf_counter()
    spark.stop()
    t_stopped = time.perf_counter()
    print(json.dumps({
        "imports_s": round(t_imported - t0, 2),
        "session_s": round(t_session - t_imported, 2),
        "select_1_s": round(t_select - t_session, 2),
        "connector_query_s": round(t_connector - t_select, 2),
        "stop_s": round(t_stopped - t_connector, 2),
    }), flush=True)


if __name__ == "__main__":
    main()

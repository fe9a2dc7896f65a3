"""The bare cost of Spark with the Cassandra connector in a new process.

    python -m bench.spark_start

Builds `SparkCassandraResource.from_settings().spark_session` (the same config the
pipeline uses), runs `SELECT 1`, then one trivial query through the connector's
session (`SELECT release_version FROM system.local`), and prints one JSON line of
timings. Benchmark 2 runs it as a child process and times the whole process, the
way it times a `dagster` CLI run.
"""

from __future__ import annotations

import json
import time

t0 = time.perf_counter()

from ind320_assets.resources.spark import SparkCassandraResource  # noqa: E402


def main() -> None:
    t_imported = time.perf_counter()
    resource = SparkCassandraResource.from_settings()
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

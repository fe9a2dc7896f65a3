"""Benchmark 2: rematerializing one partition in a new process, next to the bare start of
Spark with the connector in a new process.

    python -m bench.reload [--latency-ms 150] [--partition 2021-06-01|NO3]

The partition is first materialized once (set-up, reported but not the figure), then
materialized again with `dagster asset materialize --partition` in a new process: that
second process's wall time is the reload. `python -m bench.spark_start` is then run as
a new process for the bare Spark figure. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys

from bench.common import (
    PYTHON,
    base_parser,
    child_env,
    dagster_run_figures,
    emit,
    fresh_namespace,
    header,
    materialize_command,
    pipeline_env,
    prepare_environment,
    r,
    ratio,
    replay_server,
    run_child,
    work_dir,
)

DEFAULT_PARTITION = "2021-06-01|NO3"


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--partition", default=DEFAULT_PARTITION, help=f"partition key (default {DEFAULT_PARTITION})")
    args = parser.parse_args(argv)
    prepare_environment()

    result = header("single_partition_reload", args.latency_ms)
    result["partition"] = args.partition
    with replay_server(args.latency_ms) as server, fresh_namespace("reload") as namespace, \
            work_dir("reload", args.keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        command = materialize_command(partition=args.partition)
        first = run_child(command, env, tmp / "logs", "first_materialization")
        requests_before = len(server.requests)
        reload = run_child(command, env, tmp / "logs", "reload")
        requests = len(server.requests) - requests_before
        figures = dagster_run_figures(tmp / "dagster_home")  # the newest run: the reload
        spark = run_child([PYTHON, "-m", "bench.spark_start"], child_env(), tmp / "logs", "spark_start")

    spark_figures = json.loads(spark.stdout.strip().splitlines()[-1]) if spark.returncode == 0 else {}
    stages = figures.get("stages", {})
    result.update({
        "exit_codes": {"first": first.returncode, "reload": reload.returncode, "spark_start": spark.returncode},
        "run_status": figures.get("run_status"),
        "first_materialization_wall_s": r(first.wall_s),
        "reload_wall_s": r(reload.wall_s),
        "reload_run_s": figures.get("run_s"),
        "reload_cli_startup_s": r(figures["run_start_ts"] - reload.started_at) if figures.get("run_start_ts") else None,
        "reload_rows": stages.get("mongo", {}).get("rows"),
        "reload_requests": requests,
        "runs_launched": figures.get("runs_launched"),
        "reload_peak_rss_mib": reload.memory["peak_rss_mib"],
        "reload_spark_jvms_started": reload.memory["spark_jvms_started"],
        "reload_stages": stages,
        "spark_start_wall_s": r(spark.wall_s),
        "spark_start": spark_figures,
        "spark_start_peak_rss_mib": spark.memory["peak_rss_mib"],
        "reload_over_spark_start": ratio(reload.wall_s, spark.wall_s),
    })
    emit(result, args.out)
    if max(first.returncode, reload.returncode, spark.returncode) != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()

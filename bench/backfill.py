"""Benchmark 1: the full 2021 production backfill (60 partitions) as one run of the real
Dagster definitions, started as a new `dagster asset materialize` process.

    python -m bench.backfill [--latency-ms 150] [--partition-range A...B] [--profile FILE]

Prints one JSON line: wall time of the CLI process, per-stage split from the Dagster
event log, requests the replay server received, runs launched, rows/s, and the peak
resident memory of the CLI's whole process tree (step processes and JVMs included).
`--profile FILE` also attaches py-spy to the process tree (collapsed stacks in FILE);
its figures are then perturbed by the profiler and should not be quoted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ind320_assets.assets.datasets import PRODUCTION_SPEC

from bench.common import (
    FULL_YEAR_RANGE,
    base_parser,
    dagster_run_figures,
    emit,
    fresh_namespace,
    header,
    log,
    materialize_command,
    per_s,
    pipeline_env,
    prepare_environment,
    r,
    replay_server,
    resource,
    run_child,
    work_dir,
)

PY_SPY = str(Path(sys.executable).with_name("py-spy"))


def count_documents(database: str, collection: str) -> int | None:
    """An independent row count: what the run left in MongoDB."""
    try:
        with resource("mongo", mongo={"database": database}) as mongo:
            return mongo.db()[collection].count_documents({})
    except Exception as error:  # noqa: BLE001
        log(f"could not count documents: {error}")
        return None


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--partition-range", default=FULL_YEAR_RANGE,
                        help=f"Dagster partition range (default the full year: {FULL_YEAR_RANGE})")
    parser.add_argument("--profile", type=Path, default=None,
                        help="attach py-spy (--subprocesses --idle --threads, collapsed stacks) to the CLI; write here")
    parser.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second (default 50)")
    args = parser.parse_args(argv)
    prepare_environment()

    result = header("full_year_backfill", args.latency_ms)
    result["partition_range"] = args.partition_range
    profiler: list[subprocess.Popen] = []

    def attach_profiler(pid: int) -> None:
        if args.profile is None:
            return None
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        command = [PY_SPY, "record", "--pid", str(pid), "--subprocesses", "--idle", "--threads", "--nonblocking",
                   "--format", "raw",
                   "--rate", str(args.profile_rate), "--output", str(args.profile)]
        log("profiling: " + " ".join(command))
        profiler.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sys.stderr))
        return None

    with replay_server(args.latency_ms) as server, fresh_namespace("backfill") as namespace, \
            work_dir("backfill", args.keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        run = run_child(materialize_command(partition_range=args.partition_range), env, tmp / "logs",
                        "backfill", on_start=attach_profiler)
        for p in profiler:
            p.wait(timeout=120)  # py-spy stops by itself when the process tree has exited
        requests = server.requests
        figures = dagster_run_figures(tmp / "dagster_home")
        mongo_documents = count_documents(namespace, PRODUCTION_SPEC.mongo_collection)

    stages = figures.get("stages", {})
    rows = stages.get("mongo", {}).get("rows") or stages.get("cassandra", {}).get("rows")
    # The CLI process's own start-up (interpreter, imports, loading definitions) before the run starts.
    startup_s = figures["run_start_ts"] - run.started_at if figures.get("run_start_ts") else None
    result.update({
        "exit_code": run.returncode,
        "run_status": figures.get("run_status"),
        "wall_s": r(run.wall_s),
        "cli_startup_s": r(startup_s),
        "run_s": figures.get("run_s"),
        "run_outside_steps_s": figures.get("outside_steps_s"),
        "cli_shutdown_s": r(run.started_at + run.wall_s - figures["run_end_ts"]) if figures.get("run_end_ts") else None,
        "rows": rows,
        "mongo_documents_after": mongo_documents,
        "partitions": stages.get("fetch", {}).get("partitions"),
        "rows_per_s": per_s(rows, run.wall_s),
        "requests": len(requests),
        "requests_failed": sum(1 for q in requests if q.status != 200),
        "runs_launched": figures.get("runs_launched"),
        **run.memory,
        "stages": stages,
        "profiled": args.profile is not None,
        **({"step_worker_pids": figures.get("step_worker_pids")} if args.profile else {}),
    })
    emit(result, args.out)
    if run.returncode != 0:
        sys.exit(run.returncode)


if __name__ == "__main__":
    main()

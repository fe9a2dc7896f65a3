"""Benchmark 1: the full 2021 production backfill (60 partitions) as one run, in a new process.

The run is of the real Dagster definitions, started as a new `dagster asset materialize`
process.

    python -m bench.backfill [--selection chain|with_views] [--latency-ms 150] [--partition-range A...B]
                             [--keep-namespace] [--profile FILE]

`--selection chain` (the default) materializes raw -> Cassandra -> MongoDB
(`--select elhub_production_raw,elhub_production_cassandra,elhub_production_mongo`), and
the line is `backfill_chain`; `--selection with_views` materializes
`group:elhub_production` (the chain and the three dashboard views), and the line is
`backfill_with_views`. Either way in a fresh namespace; `--keep-namespace` leaves it
in place (its name is in the line) for `bench.reload --year-namespace`, which drops it.

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
    SELECTIONS,
    VIEW_STAGES,
    base_parser,
    cli_split,
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


def count_documents(database: str, collection: str, rows_in: str | None = None) -> int | None:
    """An independent count of what a run left in MongoDB: documents, or with `rows_in`
    the elements of that array field in all of them (the rows of day documents)."""
    try:
        with resource("mongo", mongo={"database": database}) as mongo:
            if rows_in is None:
                return mongo.db()[collection].count_documents({})
            return sum(len(d[rows_in]) for d in mongo.db()[collection].find({}, {rows_in: 1}, batch_size=10_000))
    except Exception as error:  # noqa: BLE001
        log(f"could not count documents: {error}")
        return None


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--selection", choices=sorted(SELECTIONS), default="chain",
                        help="chain: raw, Cassandra, MongoDB; with_views: group:elhub_production (default chain)")
    parser.add_argument("--keep-namespace", action="store_true",
                        help="leave the keyspace and database in place (for bench.reload --year-namespace)")
    parser.add_argument("--partition-range", default=FULL_YEAR_RANGE,
                        help=f"Dagster partition range (default the full year: {FULL_YEAR_RANGE})")
    parser.add_argument("--profile", type=Path, default=None,
                        help="attach py-spy (--subprocesses --idle --threads, collapsed stacks) to the CLI; write here")
    parser.add_argument("--profile-rate", type=int, default=50, help="py-spy samples per second (default 50)")
    args = parser.parse_args(argv)
    prepare_environment()

    result = header(f"backfill_{args.selection}", args.latency_ms)
    result.update({"selection": SELECTIONS[args.selection], "partition_range": args.partition_range})
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

    with replay_server(args.latency_ms) as server, fresh_namespace("backfill", keep=args.keep_namespace) as namespace, \
            work_dir("backfill", args.keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        command = materialize_command(partition_range=args.partition_range, selection=SELECTIONS[args.selection])
        run = run_child(command, env, tmp / "logs", "backfill", on_start=attach_profiler)
        for p in profiler:
            p.wait(timeout=120)  # py-spy stops by itself when the process tree has exited
        requests = server.requests
        figures = dagster_run_figures(tmp / "dagster_home")
        mongo_documents = count_documents(namespace, PRODUCTION_SPEC.mongo_collection)
        mongo_rows = count_documents(namespace, PRODUCTION_SPEC.mongo_collection, rows_in="start_time")

    stages = figures.get("stages", {})
    rows = stages.get("mongo", {}).get("rows") or stages.get("cassandra", {}).get("rows")
    views_s = [stages[s]["step_s"] for s in VIEW_STAGES if s in stages]
    result.update({
        "namespace": namespace if args.keep_namespace else None,
        "exit_code": run.returncode,
        "run_status": figures.get("run_status"),
        "wall_s": r(run.wall_s),
        **cli_split(run, figures),
        # The three view steps' share of the run (with_views only): what the views cost in a backfill.
        "view_steps_s": r(sum(v or 0.0 for v in views_s)) if views_s else None,
        "rows": rows,
        "mongo_documents_after": mongo_documents,
        "mongo_rows_after": mongo_rows,
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

"""Benchmark 3: the notebook-style baseline on the same data and services.

    python -m bench.baseline [--latency-ms 150] [--ours bench/results/backfill_chain.json]

Runs `python -m bench.notebook_baseline` as a new process against its own replay
server, keyspace and database, timing and sampling it exactly as benchmark 1 times
and samples the `dagster` CLI. With `--ours` (benchmark 1's JSON line) it adds the
ratios ours / baseline. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.backfill import count_documents
from bench.common import (
    PYTHON,
    base_parser,
    child_env,
    emit,
    fresh_namespace,
    header,
    load_json,
    per_s,
    prepare_environment,
    r,
    ratio,
    replay_server,
    run_child,
    work_dir,
)


def _sum(*values: float | None) -> float | None:
    return None if any(v is None for v in values) else round(sum(values), 2)


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--ours", type=Path, default=None, help="benchmark 1's JSON line, for ours/baseline ratios")
    parser.add_argument("--months", type=int, default=12, help="only the first N months of 2021 (a quick try)")
    args = parser.parse_args(argv)
    prepare_environment()

    result = header("notebook_baseline", args.latency_ms)
    result["months"] = args.months
    with replay_server(args.latency_ms) as server, fresh_namespace("baseline") as namespace, \
            work_dir("baseline", args.keep_dirs) as tmp:
        run = run_child([PYTHON, "-m", "bench.notebook_baseline", "--url", server.url, "--namespace", namespace,
                         "--months", str(args.months)],
                        child_env(), tmp / "logs", "notebook_baseline")
        requests = server.requests
        # Checked here, after the child has exited, so it is not part of the baseline's time.
        documents = count_documents(namespace, "production_baseline")

    inner = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else {}
    rows = inner.get("rows_fetched")
    stages = {
        "fetch_s": inner.get("fetch_s"),
        # Comparable with our Cassandra step, which starts Spark and creates the table too.
        "cassandra_s": _sum(inner.get("spark_start_s"), inner.get("create_table_s"), inner.get("cassandra_write_s")),
        # Comparable with our MongoDB step: read back through Spark, then write.
        "mongo_s": _sum(inner.get("read_back_s"), inner.get("mongo_write_s")),
    }
    result.update({
        "exit_code": run.returncode,
        "wall_s": r(run.wall_s),
        "rows": rows,
        "rows_per_s": per_s(rows, run.wall_s),
        "mongo_documents_after": documents,
        "requests": len(requests),
        "requests_failed": sum(1 for q in requests if q.status != 200),
        "runs_launched": 0,
        **run.memory,
        "stages": stages,
        "inner": inner,
    })

    ours = load_json(args.ours)
    if ours is not None:
        our_stages = ours.get("stages", {})
        result["ours"] = {"source": str(args.ours), "wall_s": ours.get("wall_s"), "rows": ours.get("rows")}
        result["same_rows"] = ours.get("rows") == rows
        result["ours_over_baseline"] = {
            "wall": ratio(ours.get("wall_s"), run.wall_s),
            "fetch_step": ratio(our_stages.get("fetch", {}).get("step_s"), stages["fetch_s"]),
            "cassandra_step": ratio(our_stages.get("cassandra", {}).get("step_s"), stages["cassandra_s"]),
            "mongo_step": ratio(our_stages.get("mongo", {}).get("step_s"), stages["mongo_s"]),
            "peak_rss": ratio(ours.get("peak_rss_mib"), run.memory["peak_rss_mib"]),
            "requests": ratio(ours.get("requests"), len(requests)),
        }
    emit(result, args.out)
    if run.returncode != 0:
        sys.exit(run.returncode)


if __name__ == "__main__":
    main()

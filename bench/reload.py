"""Benchmark 2: one revised partition reloaded in a new process, on an empty and a full-year collection.

The partition's values are revised by the replay first. Both reloads are set next to the
bare start of Spark with the connector in a new process.

    python -m bench.reload [--latency-ms 150] [--partition "2021-03-01|NO5"] [--factor 1.1]
                           [--selection with_views|chain] [--year-namespace NAME | --year-range A...B]

Each reload is `dagster asset materialize --select group:elhub_production --partition P`
(`--selection chain` for the chain only), run after the replay server has published a
revision of P's month and area (quantities x `--factor`, a later `lastUpdatedTime`):

- empty: in a fresh namespace, P is materialized once (set-up, into empty stores; its
  wall time is reported as `first_into_empty_wall_s`), the revision is published, and P
  is reloaded: the stores hold nothing but P.
- full year: the stores hold the whole 2021 year. With `--year-namespace NAME` they are
  a namespace a backfill left in place (`bench.backfill --selection with_views
  --keep-namespace`); this benchmark then drops it. Without it, the year
  (`--year-range`) is backfilled here first, in a fresh namespace, as one run.

`python -m bench.spark_start` is then run as a new process for the bare Spark figure.
Each reload's wall time is split from its run's event log (CLI start, each step, exit).
Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import (
    FULL_YEAR_RANGE,
    PYTHON,
    SELECTIONS,
    ChildRun,
    base_parser,
    child_env,
    cli_split,
    dagster_run_figures,
    drop_namespace,
    emit,
    fresh_namespace,
    header,
    log,
    materialize_command,
    pipeline_env,
    prepare_environment,
    r,
    ratio,
    replay_server,
    resource,
    run_child,
    work_dir,
)

DEFAULT_PARTITION = "2021-03-01|NO5"
DEFAULT_FACTOR = 1.1


@contextmanager
def given_namespace(name: str) -> Iterator[str]:
    """A namespace someone else filled (a kept backfill's); dropped at the end all the same."""
    log(f"namespace {name} (given: holds the year)")
    try:
        yield name
    finally:
        drop_namespace(name)


def publish_revision(server, partition: str, factor: float) -> dict:  # noqa: ANN001 - a ReplayServer
    """Revise the partition's month and area on the replay server, as Elhub republishes."""
    from ind320_assets.assets.datasets import PRODUCTION_SPEC

    month, area = partition.split("|")
    revision = server.publish_revision(PRODUCTION_SPEC.dataset.dataset_id, month[:7], [area], factor)
    log(f"replay revised {month[:7]} {area}: x{factor}, lastUpdatedTime {revision.last_updated}")
    return {"month": month[:7], "areas": [area], "factor": factor, "last_updated": str(revision.last_updated)}


def stored_values(server, namespace: str, partition: str) -> dict:  # noqa: ANN001 - a ReplayServer
    """Whether Cassandra now holds the revised values: the partition's kWh sum there against
    the sum the replay serves (revisions included). Read after the timed run."""
    from datetime import date

    from ind320_assets.assets.datasets import PRODUCTION_SPEC

    month, area = partition.split("|")
    start = date.fromisoformat(month)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    served = float(server.frame(PRODUCTION_SPEC.dataset, start, end, [area])["quantity_kwh"].sum())
    try:
        with resource("cassandra", cassandra={"keyspace": namespace}) as cassandra:
            rows = cassandra.session().execute(
                f"SELECT quantity_kwh FROM {namespace}.{PRODUCTION_SPEC.cassandra_table} WHERE price_area = %s AND month = %s",
                (area, month[:7]), timeout=60,
            )
            stored = sum(float(row.quantity_kwh) for row in rows)
    except Exception as error:  # noqa: BLE001 - a figure, never a reason to lose the line
        log(f"could not read the stored values back: {error}")
        return {"served_kwh": round(served, 3), "stored_kwh": None, "stored_is_revised": None}
    return {"served_kwh": round(served, 3), "stored_kwh": round(stored, 3),
            "stored_is_revised": abs(stored - served) <= 1e-6 * max(abs(served), 1.0)}


def reload_figures(run: ChildRun, dagster_home: Path, requests: int) -> dict:
    """One reload: its wall time, where it went (CLI start, each step, exit), rows and memory."""
    figures = dagster_run_figures(dagster_home)  # the newest run in this DAGSTER_HOME: this one
    stages = figures.get("stages", {})
    return {
        "exit_code": run.returncode,
        "run_status": figures.get("run_status"),
        "wall_s": r(run.wall_s),
        **cli_split(run, figures),
        "step_s": {stage: s.get("step_s") for stage, s in stages.items()},
        "rows": stages.get("mongo", {}).get("rows"),
        "requests": requests,
        "peak_rss_mib": run.memory["peak_rss_mib"],
        "spark_jvms_started": run.memory["spark_jvms_started"],
        "stages": stages,
    }


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--partition", default=DEFAULT_PARTITION, help=f"partition key (default {DEFAULT_PARTITION})")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR,
                        help=f"the revision multiplies the partition's quantities by this (default {DEFAULT_FACTOR:g})")
    parser.add_argument("--selection", choices=sorted(SELECTIONS), default="with_views",
                        help="what each reload materializes (default with_views: group:elhub_production)")
    parser.add_argument("--year-namespace", default=None,
                        help="a namespace that already holds the year (bench.backfill --keep-namespace); dropped at the end")
    parser.add_argument("--year-range", default=FULL_YEAR_RANGE,
                        help=f"without --year-namespace, backfill this range first (default {FULL_YEAR_RANGE})")
    args = parser.parse_args(argv)
    prepare_environment()

    selection = SELECTIONS[args.selection]
    command = materialize_command(partition=args.partition, selection=selection)
    result = header("single_partition_reload", args.latency_ms)
    result.update({"partition": args.partition, "selection": selection})
    exit_codes = {}

    # 1. Empty: the stores hold nothing but this partition.
    with replay_server(args.latency_ms) as server, fresh_namespace("reload_empty") as namespace, \
            work_dir("reload_empty", args.keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        first = run_child(command, env, tmp / "logs", "first_into_empty")
        exit_codes["first_into_empty"] = first.returncode
        result["revision"] = publish_revision(server, args.partition, args.factor)
        before = len(server.requests)
        run = run_child(command, env, tmp / "logs", "reload_empty")
        exit_codes["reload_empty"] = run.returncode
        empty = reload_figures(run, tmp / "dagster_home", len(server.requests) - before)
        empty["values"] = stored_values(server, namespace, args.partition)

    # 2. Full year: the stores hold all of 2021.
    year_namespace = given_namespace(args.year_namespace) if args.year_namespace else fresh_namespace("reload_year")
    with replay_server(args.latency_ms) as server, year_namespace as namespace, \
            work_dir("reload_year", args.keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        year_backfill = None
        if not args.year_namespace:
            year_backfill = run_child(materialize_command(partition_range=args.year_range, selection=selection),
                                      env, tmp / "logs", "year_backfill")
            exit_codes["year_backfill"] = year_backfill.returncode
        publish_revision(server, args.partition, args.factor)
        before = len(server.requests)
        run = run_child(command, env, tmp / "logs", "reload_full_year")
        exit_codes["reload_full_year"] = run.returncode
        full_year = reload_figures(run, tmp / "dagster_home", len(server.requests) - before)
        full_year["values"] = stored_values(server, namespace, args.partition)
        spark = run_child([PYTHON, "-m", "bench.spark_start"], child_env(), tmp / "logs", "spark_start")
        exit_codes["spark_start"] = spark.returncode

    spark_figures = json.loads(spark.stdout.strip().splitlines()[-1]) if spark.returncode == 0 else {}
    result.update({
        "exit_codes": exit_codes,
        "first_into_empty_wall_s": r(first.wall_s),
        "year": {"namespace_from": "bench.backfill --keep-namespace" if args.year_namespace else "backfilled here",
                 "backfill_range": None if args.year_namespace else args.year_range,
                 "backfill_wall_s": r(year_backfill.wall_s) if year_backfill else None},
        "reload_empty": empty,
        "reload_full_year": full_year,
        "spark_start_wall_s": r(spark.wall_s),
        "spark_start": spark_figures,
        "spark_start_peak_rss_mib": spark.memory["peak_rss_mib"],
        "reload_empty_over_spark_start": ratio(empty["wall_s"], spark.wall_s),
        "reload_full_year_over_spark_start": ratio(full_year["wall_s"], spark.wall_s),
    })
    emit(result, args.out)
    if any(exit_codes.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()

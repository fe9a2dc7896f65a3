"""Benchmark 5 (issue 7): the dashboard views' incremental update against a full recompute,
and the rematerialization of one consumption partition with its views.

    python -m bench.views [--latency-ms 150] [--partition 2021-06-01|NO3]

Views: a year of production (60 partitions, 215,353 documents, as the MongoDB asset
writes them) is inserted straight into a fresh base collection. The three views are
then computed from scratch for all 60 partitions, and afterwards refreshed for one
partition whose documents were revised, the way the view assets run after a reload.
Consumption: one partition of `group:elhub_consumption` (six assets) materialized in a
new process, twice; the second is the rematerialization. Prints one JSON line.
"""

from __future__ import annotations

import sys
import time
from datetime import date

from bench.common import (
    base_parser,
    dagster_run_figures,
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

DEFAULT_PARTITION = "2021-06-01|NO3"
CONSUMPTION_PARTITION = "2021-10-01|NO2"


def base_documents(spec) -> list[dict]:  # noqa: ANN001 - an ElhubAssetSpec
    """A year of the spec's documents exactly as its MongoDB asset stores them."""
    from ind320_assets.assets.elhub_pipeline import store_rows
    from ind320_assets.io_managers.mongo import to_documents
    from ind320_assets.views.refresh import with_day_key
    from ind320_devkit.replay.catalog import ReplayCatalog

    rows = store_rows(ReplayCatalog().frame(spec.dataset, date(2021, 1, 1), date(2022, 1, 1)), spec)
    return to_documents(with_day_key(rows, spec.group_column), spec.stored_schema)


def time_views(namespace: str, partition_key: str) -> dict:
    from ind320_assets.assets.datasets import PRODUCTION_SPEC
    from ind320_assets.mongo_sync import batches, sync_documents
    from ind320_assets.partition_slice import PartitionSlice
    from ind320_assets.partitions import ELHUB_PARTITIONS
    from ind320_assets.views.refresh import (
        ViewCollections,
        refresh_daily_totals,
        refresh_hourly_series,
        refresh_yearly_totals,
    )

    refreshes = {"daily_totals": refresh_daily_totals, "yearly_totals": refresh_yearly_totals,
                 "hourly_series": refresh_hourly_series}  # in asset order: yearly reads daily
    views = ViewCollections(PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.group_column)
    with resource("mongo", mongo={"database": namespace}) as mongo:
        db = mongo.db()
        documents = base_documents(PRODUCTION_SPEC)
        for batch in batches(documents, 5_000):
            db[views.base].insert_many(batch, ordered=False)
        year = [k for k in ELHUB_PARTITIONS.get_partition_keys() if k.startswith("2021-")]
        all_partitions = PartitionSlice.from_keys(year)

        def timed(partitions: PartitionSlice) -> dict[str, float]:
            seconds = {}
            for name, refresh in refreshes.items():
                started = time.perf_counter()
                refresh(db, views, partitions)
                seconds[name] = r(time.perf_counter() - started)
            return seconds

        log(f"views from scratch for {len(all_partitions)} partitions")
        scratch = timed(all_partitions)
        # Revise one partition in the base collection, as its MongoDB asset would.
        revised = PartitionSlice.from_keys([partition_key])
        current = {d["_id"]: d for d in documents if (d["price_area"], d["month"]) in revised.pairs}
        wanted = [{**d, "quantity_kwh": round(d["quantity_kwh"] * 1.1, 3)} for d in current.values()]
        sync_documents(db[views.base], current, wanted)
        log(f"views refreshed for {partition_key}")
        incremental = timed(revised)
        view_documents = {name: db[getattr(views, name)].estimated_document_count() for name in refreshes}
    return {
        "base_documents": len(documents),
        "view_documents": view_documents,
        "recompute_all_s": scratch,
        "recompute_all_total_s": r(sum(scratch.values())),
        "update_one_partition_s": incremental,
        "update_one_partition_total_s": r(sum(incremental.values())),
        "update_over_recompute": ratio(sum(incremental.values()), sum(scratch.values())),
    }


def time_consumption_reload(latency_ms: float, keep_dirs: bool) -> dict:
    with replay_server(latency_ms) as server, fresh_namespace("consumption") as namespace, \
            work_dir("consumption", keep_dirs) as tmp:
        env = pipeline_env(replay_url=server.url, namespace=namespace,
                           dagster_home=tmp / "dagster_home", raw_dir=tmp / "raw")
        command = materialize_command(partition=CONSUMPTION_PARTITION, selection="group:elhub_consumption")
        first = run_child(command, env, tmp / "logs", "consumption_first")
        again = run_child(command, env, tmp / "logs", "consumption_reload")
        figures = dagster_run_figures(tmp / "dagster_home")
    return {
        "partition": CONSUMPTION_PARTITION,
        "exit_codes": [first.returncode, again.returncode],
        "first_wall_s": r(first.wall_s),
        "rematerialize_wall_s": r(again.wall_s),
        "rematerialize_run_s": figures.get("run_s"),
        "rematerialize_peak_rss_mib": again.memory["peak_rss_mib"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--partition", default=DEFAULT_PARTITION, help=f"partition revised (default {DEFAULT_PARTITION})")
    args = parser.parse_args(argv)
    prepare_environment()
    result = header("views", args.latency_ms)
    with fresh_namespace("views") as namespace:
        result["views"] = time_views(namespace, args.partition)
    result["consumption"] = time_consumption_reload(args.latency_ms, args.keep_dirs)
    emit(result, args.out)
    if any(result["consumption"]["exit_codes"]):
        sys.exit(1)


if __name__ == "__main__":
    main()

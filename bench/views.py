"""Benchmark 5 (issues 7 and 13): the dashboard views' incremental update against a full
recompute, and the rematerialization of one consumption partition with its views.

    python -m bench.views [--latency-ms 150] [--partition 2021-06-01|NO3]

Views: a year of production (60 partitions, 215,353 rows) is the stored-rows frame the
view assets are given, and its documents, as the MongoDB asset writes them, are inserted
straight into a fresh base collection. The three views are then computed from scratch
for all 60 partitions, and afterwards refreshed for one partition whose rows were
revised, the way the view assets run after a reload. The frame the daily-totals and
hourly-series assets get is read back from Cassandra through Spark by the Cassandra IO
manager: the same year is written to a fresh table and that read is timed on its own
(a year, and one partition). Consumption: one partition of `group:elhub_consumption`
(six assets) materialized in a new process, twice; the second is the rematerialization.
Prints one JSON line.
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


def stored_rows():  # noqa: ANN201 - a pandas frame
    """A year of production exactly as stored in Cassandra (and read back for the views)."""
    from ind320_assets.assets.datasets import PRODUCTION_SPEC
    from ind320_assets.assets.elhub_pipeline import store_rows
    from ind320_devkit.replay.catalog import ReplayCatalog

    return store_rows(ReplayCatalog().frame(PRODUCTION_SPEC.dataset, date(2021, 1, 1), date(2022, 1, 1)), PRODUCTION_SPEC)


def time_views(namespace: str, partition_key: str, rows) -> dict:  # noqa: ANN001 - a pandas frame
    from ind320_assets.assets.datasets import PRODUCTION_SPEC
    from ind320_assets.mongo_documents import possible_id_count, possible_ids, to_documents
    from ind320_assets.mongo_sync import batches, sync_documents
    from ind320_assets.partition_slice import PartitionSlice
    from ind320_assets.partitions import ELHUB_PARTITIONS
    from ind320_assets.views.refresh import (
        ViewCollections,
        refresh_daily_totals,
        refresh_hourly_series,
        refresh_yearly_totals,
    )

    views = ViewCollections(PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.group_column)
    schema = PRODUCTION_SPEC.stored_schema
    refreshes = {  # in asset order: yearly reads daily
        # As the asset does: a daily total has the `_id` of the day document it sums.
        "daily_totals": lambda db, partitions, frame: refresh_daily_totals(
            db, views, partitions, frame, possible_ids(schema, partitions), possible_id_count(schema, partitions)
        ),
        "yearly_totals": lambda db, partitions, frame: refresh_yearly_totals(db, views, partitions),
        "hourly_series": lambda db, partitions, frame: refresh_hourly_series(db, views, partitions, frame),
    }
    with resource("mongo", mongo={"database": namespace}) as mongo:
        db = mongo.db()
        documents = to_documents(rows, PRODUCTION_SPEC.stored_schema)
        for batch in batches(documents, 5_000):
            db[views.base].insert_many(batch, ordered=False)
        year = [k for k in ELHUB_PARTITIONS.get_partition_keys() if k.startswith("2021-")]
        all_partitions = PartitionSlice.from_keys(year)

        def timed(partitions: PartitionSlice, frame) -> dict[str, float]:  # noqa: ANN001
            seconds = {}
            for name, refresh in refreshes.items():
                started = time.perf_counter()
                refresh(db, partitions, frame)
                seconds[name] = r(time.perf_counter() - started)
            return seconds

        log(f"views from scratch for {len(all_partitions)} partitions")
        scratch = timed(all_partitions, rows)
        # Revise one partition's rows, and its base documents as its MongoDB asset would.
        revised = PartitionSlice.from_keys([partition_key])
        (area, month), = revised.pairs
        part = rows[(rows["price_area"] == area) & (rows["month"] == month)]
        part = part.assign(quantity_kwh=(part["quantity_kwh"] * 1.1).round(3)).reset_index(drop=True)
        current = {d["_id"]: d for d in documents if (d["price_area"], d["month"]) == (area, month)}
        sync_documents(db[views.base], current, to_documents(part, PRODUCTION_SPEC.stored_schema))
        log(f"views refreshed for {partition_key}")
        incremental = timed(revised, part)
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


def time_stored_rows_load(namespace: str, partition_key: str, rows) -> dict:  # noqa: ANN001 - a pandas frame
    """The Cassandra IO manager's read for a view asset's input (`read_slice`, then pandas),
    for a year and for one partition, on a Spark session that is already running, as in a run."""
    from ind320_assets.assets.datasets import PRODUCTION_SPEC
    from ind320_assets.io_managers.cassandra_spark.table import CassandraTable
    from ind320_assets.io_managers.cassandra_spark.type_handlers import handler_for
    from ind320_assets.partition_slice import PartitionSlice
    from ind320_assets.partitions import ELHUB_PARTITIONS

    year = PartitionSlice.from_keys(k for k in ELHUB_PARTITIONS.get_partition_keys() if k.startswith("2021-"))
    one = PartitionSlice.from_keys([partition_key])
    pandas_frames = handler_for(type(rows))
    overrides = {"cassandra": {"keyspace": namespace}}
    with resource("cassandra", **overrides) as cassandra, resource("spark", **overrides) as spark:
        try:
            table = CassandraTable(spark, cassandra, PRODUCTION_SPEC.cassandra_table, PRODUCTION_SPEC.stored_schema)
            schema = PRODUCTION_SPEC.stored_schema
            log("writing the year to Cassandra through Spark")
            table.replace_slice(pandas_frames.to_spark(rows, schema, spark.spark_session),
                                pandas_frames.keys(rows, schema), year)
            # In a run the MongoDB asset has read the same slice through the same session before
            # the views do: read it once untimed.
            pandas_frames.from_spark(table.read_slice(year))
            seconds, lengths = {}, {}
            for name, partitions in (("year", year), ("one_partition", one)):
                started = time.perf_counter()
                frame = pandas_frames.from_spark(table.read_slice(partitions))
                seconds[name], lengths[name] = r(time.perf_counter() - started), len(frame)
        finally:
            spark.stop()
    return {"load_stored_rows_s": seconds, "load_stored_rows": lengths}


def measure_views(namespace: str, partition_key: str) -> dict:
    rows = stored_rows()
    figures = {**time_views(namespace, partition_key, rows), **time_stored_rows_load(namespace, partition_key, rows)}
    # What the view steps cost in a run: the daily-totals and hourly-series assets each load the frame.
    loads = figures["load_stored_rows_s"]
    figures["recompute_all_with_loads_s"] = r(figures["recompute_all_total_s"] + 2 * loads["year"])
    figures["update_one_partition_with_loads_s"] = r(figures["update_one_partition_total_s"] + 2 * loads["one_partition"])
    return figures


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
        result["views"] = measure_views(namespace, args.partition)
    result["consumption"] = time_consumption_reload(args.latency_ms, args.keep_dirs)
    emit(result, args.out)
    if any(result["consumption"]["exit_codes"]):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The dashboard views of one dataset, as assets downstream of its MongoDB collection.

Same partitions as the collection: materializing (month, area) refreshes what
that partition owns in each view, so a rematerialized partition is followed by
a small update, not a recomputation of the whole view.

The daily totals and the hourly series are computed in pandas from the run's
rows as the Cassandra IO manager reads them back (only the run's partitions,
through Spark), not by a MongoDB aggregation: FerretDB groups slowly and scans
every document for any filter. They still depend on the MongoDB asset, so the
views are published after the base collection they summarize.
"""

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetKey, AssetsDefinition, MaterializeResult, asset

from ind320_assets.assets.policies import SINGLE_RUN
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.mongo_documents import possible_id_count, possible_ids
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.partitions import ELHUB_PARTITIONS
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.run_worker import tag_run_worker
from ind320_assets.views.refresh import (
    ViewCollections,
    refresh_daily_totals,
    refresh_hourly_series,
    refresh_yearly_totals,
)


def _result(mongo: MongoResource, collection: str, counts: dict[str, int]) -> MaterializeResult:
    return MaterializeResult(metadata={
        "dagster/table_name": f"{mongo.database}.{collection}",
        **{f"documents_{name}": n for name, n in counts.items()},
    })


def build_view_assets(spec: ElhubAssetSpec) -> list[AssetsDefinition]:
    """Daily totals, yearly totals and hourly series for one `ElhubAssetSpec`."""
    views = ViewCollections(spec.mongo_collection, spec.group_column, spec.quantity_columns)
    per = ", ".join(["price area", *([spec.group_column] if spec.group_column else [])])
    id_prefix = "area|group" if spec.group_column else "area"
    common = {
        "partitions_def": ELHUB_PARTITIONS,
        "backfill_policy": SINGLE_RUN,
        "group_name": spec.group_name,
        "kinds": {"pandas", "mongodb"},
    }
    # The run's stored rows, as pandas, read back from Cassandra for the run's partitions only.
    stored_rows = {"stored": AssetIn(spec.key("cassandra"))}
    published_after: list[AssetKey] = [spec.key("mongo")]

    @asset(
        key=spec.key("daily_totals"),
        ins=stored_rows,
        deps=published_after,
        description=(
            f"kWh per ({per}, local day) in `{views.daily_totals}`, one sum per quantity column, summed "
            "exactly in pandas from this run's rows as read back from Cassandra, and published after "
            f"`{spec.mongo_collection}`. `_id` = {id_prefix}|YYYY-MM-DD."
        ),
        **common,
    )
    def daily_totals(context: AssetExecutionContext, stored: pd.DataFrame, mongo: MongoResource) -> MaterializeResult:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        # A daily total has the `_id` of the base day document it sums: one per series and local day.
        ids, count = possible_ids(spec.stored_schema, partitions), possible_id_count(spec.stored_schema, partitions)
        with mongo.answering() as db:
            return _result(mongo, views.daily_totals, refresh_daily_totals(db, views, partitions, stored, ids, count))

    @asset(
        key=spec.key("yearly_totals"),
        deps=[spec.key("daily_totals")],
        description=(
            f"kWh per ({per}, year) in `{views.yearly_totals}`: a year's pie "
            "chart is one query. Recomputed for the partition's area and year from the daily totals."
        ),
        **common,
    )
    def yearly_totals(context: AssetExecutionContext, mongo: MongoResource) -> MaterializeResult:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        with mongo.answering() as db:
            return _result(mongo, views.yearly_totals, refresh_yearly_totals(db, views, partitions))

    @asset(
        key=spec.key("hourly_series"),
        ins=stored_rows,
        deps=published_after,
        description=(
            f"One document per (price area, month) in `{views.hourly_series}` with every series' hourly "
            "kWh side by side, built from this run's rows as read back from Cassandra: "
            "`find_one({'_id': 'NO1|2021-10'})` draws the month's line chart."
        ),
        **common,
    )
    def hourly_series(context: AssetExecutionContext, stored: pd.DataFrame, mongo: MongoResource) -> MaterializeResult:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        with mongo.answering() as db:
            return _result(mongo, views.hourly_series, refresh_hourly_series(db, views, partitions, stored))

    return [daily_totals, yearly_totals, hourly_series]

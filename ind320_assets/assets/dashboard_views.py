"""The dashboard views of one dataset, as assets downstream of its MongoDB collection.

Same partitions as the collection: materializing (month, area) refreshes what
that partition owns in each view, so a rematerialized partition is followed by
a small update, not a recomputation of the whole view.
"""


from collections.abc import Callable

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset
from pymongo.database import Database

from ind320_assets.assets.policies import SINGLE_RUN
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.partitions import ELHUB_PARTITIONS
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.views.refresh import (
    ViewCollections,
    refresh_daily_totals,
    refresh_hourly_series,
    refresh_yearly_totals,
)

Refresh = Callable[[Database, ViewCollections, PartitionSlice], dict[str, int]]


def _view_asset(
    key: AssetKey, upstream: AssetKey, collection: str, views: ViewCollections, refresh: Refresh,
    description: str, group_name: str,
) -> AssetsDefinition:
    @asset(
        key=key,
        deps=[upstream],
        description=description,
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        group_name=group_name,
        kinds={"mongodb"},
    )
    def view(context: AssetExecutionContext, mongo: MongoResource) -> MaterializeResult:
        counts = refresh(mongo.db(), views, PartitionSlice.from_keys(context.partition_keys))
        return MaterializeResult(metadata={
            "dagster/table_name": f"{mongo.database}.{collection}",
            **{f"documents_{name}": n for name, n in counts.items()},
        })

    return view


def build_view_assets(spec: ElhubAssetSpec) -> list[AssetsDefinition]:
    """Daily totals, yearly totals and hourly series for one `ElhubAssetSpec`."""
    views = ViewCollections(spec.mongo_collection, spec.group_column)
    common = {"views": views, "group_name": spec.group_name}
    return [
        _view_asset(
            spec.key("daily_totals"), spec.key("mongo"), views.daily_totals, refresh=refresh_daily_totals,
            description=(
                f"kWh per (price area, {spec.group_column}, local day) in `{views.daily_totals}`, "
                "aggregated in MongoDB from this partition's hours. `_id` = area|group|YYYY-MM-DD."
            ),
            **common,
        ),
        _view_asset(
            spec.key("yearly_totals"), spec.key("daily_totals"), views.yearly_totals, refresh=refresh_yearly_totals,
            description=(
                f"kWh per (price area, {spec.group_column}, year) in `{views.yearly_totals}`: a year's pie "
                "chart is one query. Recomputed for the partition's area and year from the daily totals."
            ),
            **common,
        ),
        _view_asset(
            spec.key("hourly_series"), spec.key("mongo"), views.hourly_series, refresh=refresh_hourly_series,
            description=(
                f"One document per (price area, month) in `{views.hourly_series}` with every group's hourly "
                "kWh side by side: `find_one({'_id': 'NO1|2021-10'})` draws the month's line chart."
            ),
            **common,
        ),
    ]

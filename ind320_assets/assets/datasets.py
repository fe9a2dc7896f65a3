"""The Elhub datasets this platform loads, each declared once."""

from __future__ import annotations

from dagster import AssetsDefinition

from ind320_assets.assets.dashboard_views import build_view_assets
from ind320_assets.assets.elhub_pipeline import build_elhub_assets
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.domain import CONSUMPTION, EXCHANGE, LOSS, PRODUCTION

PRODUCTION_SPEC = ElhubAssetSpec(
    name="production",
    dataset=PRODUCTION,
    cassandra_table="production_per_group_hour",
    mongo_collection="elhub_production",
)
CONSUMPTION_SPEC = ElhubAssetSpec(
    name="consumption",
    dataset=CONSUMPTION,
    cassandra_table="consumption_per_group_hour",
    mongo_collection="elhub_consumption",
)
# Datasets without a group: one series per price area, one column per quantity.
EXCHANGE_SPEC = ElhubAssetSpec(
    name="exchange",
    dataset=EXCHANGE,
    cassandra_table="exchange_per_hour",
    mongo_collection="elhub_exchange",
)
LOSS_SPEC = ElhubAssetSpec(
    name="loss",
    dataset=LOSS,
    cassandra_table="loss_per_hour",
    mongo_collection="elhub_loss",
)
SPECS = [PRODUCTION_SPEC, CONSUMPTION_SPEC, EXCHANGE_SPEC, LOSS_SPEC]


def build_dataset_assets(spec: ElhubAssetSpec) -> list[AssetsDefinition]:
    """A dataset's six assets: raw → Cassandra → MongoDB, then its dashboard views."""
    return [*build_elhub_assets(spec), *build_view_assets(spec)]


elhub_assets = [a for spec in SPECS for a in build_dataset_assets(spec)]

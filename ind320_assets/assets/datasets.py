"""The Elhub datasets this platform loads, each declared once."""

from __future__ import annotations

from ind320_assets.assets.elhub_pipeline import ElhubAssetSpec, build_elhub_assets
from ind320_assets.domain import PRODUCTION

PRODUCTION_SPEC = ElhubAssetSpec(
    name="production",
    dataset=PRODUCTION,
    cassandra_table="production_per_group_hour",
    mongo_collection="elhub_production",
)

SPECS = [PRODUCTION_SPEC]
elhub_assets = [a for spec in SPECS for a in build_elhub_assets(spec)]

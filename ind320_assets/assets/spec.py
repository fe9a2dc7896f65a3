"""`ElhubAssetSpec`: everything that differs between two Elhub datasets' pipelines."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import AssetKey

from ind320_assets.domain import ElhubDataset
from ind320_assets.row_schema import RowSchema, raw_schema, stored_schema

# Every asset one spec declares, upstream first: the chain, then the dashboard views.
STAGES = ("raw", "cassandra", "mongo", "daily_totals", "yearly_totals", "hourly_series")


@dataclass(frozen=True)
class ElhubAssetSpec:
    """A dataset's names: `name="production"` gives the assets `elhub_production_<stage>`
    in the UI group `elhub_production`."""

    name: str
    dataset: ElhubDataset
    cassandra_table: str
    mongo_collection: str

    def key(self, stage: str) -> AssetKey:
        if stage not in STAGES:
            raise ValueError(f"Unknown stage {stage!r}; one of {STAGES}")
        return AssetKey(f"elhub_{self.name}_{stage}")

    @property
    def asset_keys(self) -> list[AssetKey]:
        """All of the dataset's assets: what a sensor or schedule reloads a partition with."""
        return [self.key(stage) for stage in STAGES]

    @property
    def group_name(self) -> str:
        return f"elhub_{self.name}"

    @property
    def group_column(self) -> str | None:
        """The dataset's group column, or None when it has no groups."""
        return self.dataset.group_column

    @property
    def quantity_columns(self) -> tuple[str, ...]:
        return self.dataset.quantity_columns

    @property
    def raw_schema(self) -> RowSchema:
        return raw_schema(self.dataset)

    @property
    def stored_schema(self) -> RowSchema:
        return stored_schema(self.dataset)

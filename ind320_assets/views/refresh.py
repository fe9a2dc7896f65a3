"""Bring the dashboard views up to date for some partitions of a dataset.

Each refresh computes only the partitions it is given (`views.computation`, in
pandas, from the run's stored rows) and syncs only the view documents those
partitions own, so rematerializing one (month, area) rewrites one month of daily
totals, one area-year of yearly totals and one hourly-series document, never
the whole view. Nothing is aggregated by the server: FerretDB scans a whole
collection for any filter and runs `$group` in its own code (a year of daily
totals took 148 s that way).

    <base>_daily_totals   one document per (area, group, local day), `_id` area|group|day
    <base>_yearly_totals  one document per (area, group, year), `_id` area|group|year,
                          summed from the daily totals
    <base>_hourly_series  one document per (area, month): every group's hourly
                          values side by side, so one `_id` lookup draws one chart

For a dataset without groups the totals are per (area, day) and (area, year),
`_id` area|day and area|year, and the series are its quantity columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database

from ind320_assets.domain import DEFAULT_QUANTITY_COLUMNS
from ind320_assets.mongo_sync import READ_BATCH, partition_of, read_slice, sync_by_scope
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.revisions import REVISION_FIELD, REVISION_SUM_FIELD
from ind320_assets.views.computation import daily_totals, hourly_series, yearly_totals


@dataclass(frozen=True)
class ViewCollections:
    base: str
    group_column: str | None  # None: a dataset without groups
    quantity_columns: tuple[str, ...] = DEFAULT_QUANTITY_COLUMNS

    @property
    def daily_totals(self) -> str:
        return f"{self.base}_daily_totals"

    @property
    def yearly_totals(self) -> str:
        return f"{self.base}_yearly_totals"

    @property
    def hourly_series(self) -> str:
        return f"{self.base}_hourly_series"


def _any_of(clauses: list[dict]) -> dict:
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def refresh_daily_totals(
    db: Database, views: ViewCollections, partitions: PartitionSlice, rows: pd.DataFrame,
    possible_ids: Iterable[str], possible_count: int,
) -> dict[str, int]:
    """Daily totals of the slice from its stored `rows` (every row of the slice's partitions).

    `possible_ids` (`possible_count` of them) are every `_id` the slice's daily totals
    can have: the current ones are read as `mongo_sync.read_slice` decides, by `_id`
    when the slice is small against the view, else with one query."""
    partitions.guard(rows)
    wanted = daily_totals(rows, views.group_column, views.quantity_columns)
    target = db[views.daily_totals]
    target.create_index([("price_area", ASCENDING), ("month", ASCENDING)], name="area_month")
    current = read_slice(target, partitions.mongo_filter(), possible_ids, possible_count)
    return sync_by_scope(target, current, wanted, partition_of)


def refresh_yearly_totals(db: Database, views: ViewCollections, partitions: PartitionSlice) -> dict[str, int]:
    """Recomputes each touched (area, year) from its daily totals, ~1,825 small documents each."""
    area_years = sorted({(p.price_area, str(p.month_start.year)) for p in partitions})
    fields = [
        "price_area", *([views.group_column] if views.group_column else []), "day", *views.quantity_columns,
        REVISION_FIELD, REVISION_SUM_FIELD,
    ]
    days = db[views.daily_totals].find(
        _any_of([{"price_area": a, "month": {"$gte": f"{y}-01", "$lte": f"{y}-12"}} for a, y in area_years]),
        {"_id": 0, **dict.fromkeys(fields, 1)},
        batch_size=READ_BATCH,
    )
    wanted = yearly_totals(days, views.group_column, views.quantity_columns)
    target = db[views.yearly_totals]
    current = target.find(_any_of([{"price_area": a, "year": y} for a, y in area_years]))
    return sync_by_scope(target, current, wanted, lambda doc: (doc["price_area"], doc["year"]))


def refresh_hourly_series(
    db: Database, views: ViewCollections, partitions: PartitionSlice, rows: pd.DataFrame
) -> dict[str, int]:
    """One series document per partition of the slice, from its stored `rows`."""
    partitions.guard(rows)
    wanted = hourly_series(rows, views.group_column, views.quantity_columns)
    target = db[views.hourly_series]
    ids = [f"{area}|{month}" for area, month in partitions.pairs]
    current = read_slice(target, {"_id": {"$in": ids}}, ids, len(ids))
    return sync_by_scope(target, current, wanted, partition_of)

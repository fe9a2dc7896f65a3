"""Bring the dashboard views up to date for some partitions of a base collection.

Each refresh aggregates only the partitions it is given and syncs only the
view documents those partitions own, so rematerializing one (month, area)
rewrites one month of daily totals, one area-year of yearly totals and one
hourly-series document, never the whole view.

    <base>_daily_totals   one document per (area, group, local day), `_id` area|group|day
    <base>_yearly_totals  one document per (area, group, year), `_id` area|group|year,
                          summed from the daily totals
    <base>_hourly_series  one document per (area, month): every group's hourly
                          values side by side, so one `_id` lookup draws one chart
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pymongo import ASCENDING
from pymongo.database import Database

from ind320_assets.domain import OSLO_TZ
from ind320_assets.mongo_sync import READ_BATCH, sync_documents
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.views import pipelines

# Elhub quantities have at most three decimals, so a sum rounded to three is the
# exact total, whatever order the server added the values in.
KWH_DECIMALS = 3
# The base documents' field the daily view groups by (see `day_key`).
DAY_KEY = "day_key"


@dataclass(frozen=True)
class ViewCollections:
    base: str
    group_column: str

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


def day_key(area, group, day):
    """`NO1|hydro|2021-10-31`: the daily view's `_id`, stored on base documents to group by.
    Takes strings or pandas string Series alike."""
    return area + "|" + group + "|" + day


def local_day_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM-DD` of each UTC instant in Oslo time: the day an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    codes = local.dt.year * 10_000 + local.dt.month * 100 + local.dt.day
    # Formats each distinct value once: `dt.strftime` formats every row in Python.
    return codes.map({c: f"{int(c) // 10_000:04d}-{int(c) // 100 % 100:02d}-{int(c) % 100:02d}" for c in codes.unique()}).astype(object)


def with_day_key(rows: pd.DataFrame, group_column: str) -> pd.DataFrame:
    """The stored rows plus the `day_key` this view groups base documents by; computed
    before writing because FerretDB has no date operators."""
    local_day = local_day_label(rows["start_time"])
    return rows.assign(**{DAY_KEY: day_key(rows["price_area"], rows[group_column], local_day)})


def _totals(db: Database, source: str, match: dict, key_field: str, key_parts: tuple[str, ...]) -> list[dict]:
    """One document per value of `key_field` in `source`: the key's `|`-separated parts
    under the names `key_parts`, and the kWh summed by the server."""
    return [
        {
            "_id": result["_id"],
            **dict(zip(key_parts, result["_id"].split("|"), strict=True)),
            "quantity_kwh": round(result["quantity_kwh"], KWH_DECIMALS),
        }
        for result in db[source].aggregate(pipelines.totals_by_key(match, key_field))
    ]


def refresh_daily_totals(db: Database, views: ViewCollections, partitions: PartitionSlice) -> dict[str, int]:
    match = partitions.mongo_filter()
    wanted = _totals(db, views.base, match, DAY_KEY, ("price_area", views.group_column, "day"))
    for doc in wanted:
        year = doc["day"][:4]
        doc.update(month=doc["day"][:7], year_key=f"{doc['price_area']}|{doc[views.group_column]}|{year}")
    target = db[views.daily_totals]
    target.create_index([("price_area", ASCENDING), ("month", ASCENDING)], name="area_month")
    current = {doc["_id"]: doc for doc in target.find(match)}
    return sync_documents(target, current, wanted)


def refresh_yearly_totals(db: Database, views: ViewCollections, partitions: PartitionSlice) -> dict[str, int]:
    """Recomputes each touched (area, year) from the daily totals, ~2,000 small documents each."""
    area_years = sorted({(p.price_area, str(p.month_start.year)) for p in partitions})
    match = _any_of([
        {"price_area": area, "month": {"$gte": f"{year}-01", "$lte": f"{year}-12"}} for area, year in area_years
    ])
    wanted = _totals(db, views.daily_totals, match, "year_key", ("price_area", views.group_column, "year"))
    target = db[views.yearly_totals]
    current = {doc["_id"]: doc for doc in target.find(_any_of([{"price_area": a, "year": y} for a, y in area_years]))}
    return sync_documents(target, current, wanted)


def refresh_hourly_series(db: Database, views: ViewCollections, partitions: PartitionSlice) -> dict[str, int]:
    rows = pd.DataFrame(list(db[views.base].aggregate(
        pipelines.hourly_rows(partitions.mongo_filter(), views.group_column), batchSize=READ_BATCH
    )))
    wanted = [] if rows.empty else [
        series_document(area, month, part, views.group_column)
        for (area, month), part in rows.groupby(["price_area", "month"], sort=True)
    ]
    target = db[views.hourly_series]
    ids = [f"{area}|{month}" for area, month in partitions.pairs]
    current = {doc["_id"]: doc for doc in target.find({"_id": {"$in": ids}})}
    return sync_documents(target, current, wanted)


def series_document(area: str, month: str, rows: pd.DataFrame, group_column: str) -> dict:
    """{start_time: [UTC hours], series: {group: [kWh or None per hour]}} for one (area, month)."""
    table = rows.pivot(index="start_time", columns=group_column, values="quantity_kwh").sort_index()
    return {
        "_id": f"{area}|{month}",
        "price_area": area,
        "month": month,
        "start_time": [t.to_pydatetime() for t in pd.to_datetime(table.index, utc=True)],
        "series": {
            str(group): [None if pd.isna(v) else float(v) for v in table[group]] for group in table.columns
        },
    }

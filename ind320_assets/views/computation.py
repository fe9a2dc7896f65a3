"""The dashboard views computed from rows, in pandas: pure functions, no store.

The daily totals and the hourly series are computed from a run's stored rows
(the frame the Cassandra IO manager reads back for the run's partitions), the
yearly totals from daily-total documents. Every sum is exact: `math.fsum`,
rounded to Elhub's three decimals. The unspecified group `*` is a group like
any other here: it has its own totals and its own hourly series.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from ind320_assets.domain import OSLO_TZ

# Elhub quantities have at most three decimals, so an exact sum rounded to three
# is the exact total.
KWH_DECIMALS = 3


def kwh_total(values: Iterable[float]) -> float:
    return round(math.fsum(values), KWH_DECIMALS)


def local_day_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM-DD` of each UTC instant in Oslo time: the day an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    codes = local.dt.year * 10_000 + local.dt.month * 100 + local.dt.day
    # Formats each distinct value once: `dt.strftime` formats every row in Python.
    return codes.map({c: f"{int(c) // 10_000:04d}-{int(c) // 100 % 100:02d}-{int(c) % 100:02d}" for c in codes.unique()}).astype(object)


def daily_totals(rows: pd.DataFrame, group_column: str) -> list[dict]:
    """One document per (area, group, local day) of `rows`, `_id` area|group|YYYY-MM-DD.

    A local day has 23, 24 or 25 hours; each belongs to exactly one local month,
    so a partition's rows give that partition's days complete. `year_key` names
    the yearly-totals document the day adds to."""
    if rows.empty:
        return []
    day = local_day_label(rows["start_time"]).rename("day")
    sums = rows["quantity_kwh"].groupby([rows["price_area"], rows[group_column], day], sort=True).agg(kwh_total)
    return [
        {
            "_id": f"{area}|{group}|{day}",
            "price_area": area,
            group_column: group,
            "day": day,
            "quantity_kwh": kwh,
            "month": day[:7],
            "year_key": f"{area}|{group}|{day[:4]}",
        }
        for (area, group, day), kwh in sums.items()
    ]


def yearly_totals(daily: Iterable[dict], group_column: str) -> list[dict]:
    """One document per (area, group, year) of the daily-total documents `daily`,
    `_id` area|group|year. Give it every day of each (area, year) it should total."""
    days: dict[tuple[str, str, str], list[float]] = {}
    for doc in daily:
        days.setdefault((doc["price_area"], doc[group_column], doc["day"][:4]), []).append(doc["quantity_kwh"])
    return [
        {"_id": f"{area}|{group}|{year}", "price_area": area, group_column: group, "year": year,
         "quantity_kwh": kwh_total(values)}
        for (area, group, year), values in sorted(days.items())
    ]


def hourly_series(rows: pd.DataFrame, group_column: str) -> list[dict]:
    """One document per (area, month) of `rows`: see `series_document`."""
    if rows.empty:
        return []
    return [
        series_document(area, month, part, group_column)
        for (area, month), part in rows.groupby(["price_area", "month"], sort=True)
    ]


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

"""The dashboard views computed from rows, in pandas: pure functions, no store.

The daily totals and the hourly series are computed from a run's stored rows
(the frame the Cassandra IO manager reads back for the run's partitions), the
yearly totals from daily-total documents. Every sum is exact: `math.fsum`,
rounded to Elhub's three decimals. The unspecified group `*` is a group like
any other here: it has its own totals and its own hourly series.

A total is per (area, group, day or year), or per (area, day or year) for a
dataset without groups, with one sum per quantity column (`quantity_kwh`, or
e.g. `exchange_in_quantity_kwh` and `exchange_out_quantity_kwh`). An hourly
series document has one line per series (`frame_summary.series_quantities`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import pandas as pd

from ind320_assets.domain import DEFAULT_QUANTITY_COLUMNS
from ind320_assets.frame_summary import KWH, SERIES, series_quantities
from ind320_assets.partition_slice import local_day_label
from ind320_assets.revisions import REVISION_COLUMN, REVISION_FIELD, REVISION_SUM_FIELD, revision_ms

# Elhub quantities have at most three decimals, so an exact sum rounded to three
# is the exact total.
KWH_DECIMALS = 3


def kwh_total(values: Iterable[float]) -> float:
    return round(math.fsum(values), KWH_DECIMALS)


def _key_columns(group_column: str | None) -> list[str]:
    """What a total is per, besides its day or year: the area, and the group when there is one."""
    return ["price_area"] if group_column is None else ["price_area", group_column]


def daily_totals(
    rows: pd.DataFrame, group_column: str | None, quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS
) -> list[dict]:
    """One document per (area, [group,] local day) of `rows`, `_id` area|[group|]YYYY-MM-DD,
    with the day's sum of each quantity column.

    A local day has 23, 24 or 25 hours; each belongs to exactly one local month,
    so a partition's rows give that partition's days complete. `year_key` names
    the yearly-totals document the day adds to."""
    if rows.empty:
        return []
    keys = _key_columns(group_column)
    day = local_day_label(rows["start_time"]).rename("day")
    grouped = rows.assign(_revision_ms=revision_ms(rows[REVISION_COLUMN])).groupby([*(rows[k] for k in keys), day], sort=True)
    sums = grouped[list(quantity_columns)].agg(kwh_total)
    revisions, revision_sums = grouped[REVISION_COLUMN].max(), grouped["_revision_ms"].sum()
    documents = []
    for index, totals, revision, revision_sum in zip(sums.index, sums.to_dict("records"), revisions, revision_sums):
        *names, day = index
        prefix = "|".join(names)
        documents.append({
            "_id": f"{prefix}|{day}",
            **dict(zip(keys, names)),
            "day": day,
            **totals,
            "month": day[:7],
            "year_key": f"{prefix}|{day[:4]}",
            REVISION_FIELD: revision.to_pydatetime(),
            REVISION_SUM_FIELD: int(revision_sum),
        })
    return documents


def yearly_totals(
    daily: Iterable[dict], group_column: str | None, quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS
) -> list[dict]:
    """One document per (area, [group,] year) of the daily-total documents `daily`,
    `_id` area|[group|]year, whose revision is its days' latest (and its revision sum
    theirs). Give it every day of each (area, year) it should total."""
    keys = _key_columns(group_column)
    days: dict[tuple[str, ...], list[dict]] = {}
    for doc in daily:
        days.setdefault((*(doc[k] for k in keys), doc["day"][:4]), []).append(doc)
    return [
        {
            "_id": "|".join(key),
            **dict(zip(keys, key[:-1])),
            "year": key[-1],
            **{column: kwh_total(doc[column] for doc in docs) for column in quantity_columns},
            REVISION_FIELD: max(doc[REVISION_FIELD] for doc in docs),
            REVISION_SUM_FIELD: sum(doc[REVISION_SUM_FIELD] for doc in docs),
        }
        for key, docs in sorted(days.items())
    ]


def hourly_series(
    rows: pd.DataFrame, group_column: str | None, quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS
) -> list[dict]:
    """One document per (area, month) of `rows`: see `series_document`."""
    if rows.empty:
        return []
    return [
        series_document(area, month, part, group_column, quantity_columns)
        for (area, month), part in rows.groupby(["price_area", "month"], sort=True)
    ]


def series_document(
    area: str,
    month: str,
    rows: pd.DataFrame,
    group_column: str | None,
    quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS,
) -> dict:
    """{start_time: [UTC hours], series: {series: [kWh or None per hour]}} for one (area, month),
    with the partition's row count and latest `last_updated_time`: its freshness, in one small read."""
    long = series_quantities(rows, group_column, quantity_columns)
    latest = latest_update(rows)
    table = long.pivot(index="start_time", columns=SERIES, values=KWH).sort_index()
    return {
        "_id": f"{area}|{month}",
        "price_area": area,
        "month": month,
        "start_time": [t.to_pydatetime() for t in pd.to_datetime(table.index, utc=True)],
        "series": {
            str(group): [None if pd.isna(v) else float(v) for v in table[group]] for group in table.columns
        },
        "rows": len(rows),
        "last_updated_time": latest,
        REVISION_FIELD: latest,
        REVISION_SUM_FIELD: int(revision_ms(rows[REVISION_COLUMN]).sum()),
    }


def latest_update(rows: pd.DataFrame) -> datetime | None:
    """The latest `last_updated_time` of `rows`, None without one."""
    latest = rows["last_updated_time"].max() if "last_updated_time" in rows else pd.NaT
    return None if pd.isna(latest) else pd.Timestamp(latest).to_pydatetime()

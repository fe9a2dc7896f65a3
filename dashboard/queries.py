"""What the dashboard asks MongoDB, and how it turns the answers into tables.

Pure functions, no connection: the pages build `Find`s, the app runs them
(`dashboard/app.py`), and the folds here turn the documents into frames.
Every chart or table is one query:

    overview   `<base>_yearly_totals`, all documents of one year (25 a year of production);
               which (area, year) exist is one read of that small view too
    month      `<base>_hourly_series`, one `_id` equality (`NO1|2021-10`), the one filter
               FerretDB pushes down to its storage
    freshness  `<base>_hourly_series`, one projected read: each (area, month) document
               carries its row count and latest `last_updated_time`

Quantities are kWh in the store; totals are exact (`fsum` rounded to Elhub's
three decimals, as the views compute them) and shown in GWh or kWh.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from urllib.parse import urlsplit

import pandas as pd

from ind320_assets.domain import CONSUMPTION, OSLO_TZ, PRODUCTION, UNSPECIFIED_GROUP, ElhubDataset
from ind320_assets.resources.errors import masked_uri as mask_uri  # the platform's own masking
from ind320_assets.resources.errors import scrub
from ind320_assets.views.computation import kwh_total
from ind320_assets.views.refresh import ViewCollections

# The defaults `MongoResource` declares (ind320_assets/resources/mongo.py, which the definitions bind to
# the same two variables; a test holds them equal). Not imported: that module is a Dagster resource.
DEFAULT_MONGO_URI = "mongodb://127.0.0.1:27017"
DEFAULT_MONGO_DB = "ind320"
KWH_PER_GWH = 1_000_000
ALL_AREAS = "all areas"
TOTAL = "total"


@dataclass(frozen=True)
class DashboardDataset:
    """A dataset as the dashboard reads it: its base collection and the views named after it.

    The collection names are those of `ind320_assets.assets.datasets.SPECS` (a test
    holds them equal); that module builds the pipeline, which the dashboard never imports."""

    label: str
    dataset: ElhubDataset
    collection: str

    @property
    def group_column(self) -> str:
        return self.dataset.group_column

    @property
    def views(self) -> ViewCollections:
        return ViewCollections(self.collection, self.group_column)

    def ordered_groups(self, present: Iterable[str]) -> list[str]:
        """The dataset's groups in their declared order, then any other (the unspecified `*`)."""
        present = set(present)
        return [g for g in self.dataset.groups if g in present] + sorted(present - set(self.dataset.groups))


DATASETS: tuple[DashboardDataset, ...] = (
    DashboardDataset("production", PRODUCTION, "elhub_production"),
    DashboardDataset("consumption", CONSUMPTION, "elhub_consumption"),
)


# --- settings and connection -----------------------------------------------------------------------


def mongo_settings(environ: Mapping[str, str]) -> tuple[str, str]:
    """(`MONGO_URI`, `MONGO_DB`) from the environment, with the platform's defaults."""
    return environ.get("MONGO_URI") or DEFAULT_MONGO_URI, environ.get("MONGO_DB") or DEFAULT_MONGO_DB


def mask_secrets(text: str, uri: str) -> str:
    """`text` (an error message) with the URI's password, if any, masked wherever it appears."""
    return scrub(text.replace(uri, mask_uri(uri)), (urlsplit(uri).password,))


def materialized(collection_names: Iterable[str]) -> list[DashboardDataset]:
    """The datasets whose views exist in the database (one `listCollections`, no scan)."""
    names = set(collection_names)
    return [d for d in DATASETS if d.views.yearly_totals in names]


# --- the queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Find:
    """One `find` on one collection: all the dashboard ever sends."""

    collection: str
    filter: dict = field(default_factory=dict)
    projection: dict | None = None

    @property
    def key(self) -> str:
        """A stable text for caching the answer."""
        return json.dumps(asdict(self), sort_keys=True)


def years_query(ds: DashboardDataset) -> Find:
    """The (area, year) pairs that have yearly totals: a small collection, read whole."""
    return Find(ds.views.yearly_totals, {}, {"_id": 0, "price_area": 1, "year": 1})


def yearly_totals_query(ds: DashboardDataset, year: str) -> Find:
    """Every (area, group) total of one year: the overview's chart and table."""
    return Find(ds.views.yearly_totals, {"year": year}, {"_id": 0, "price_area": 1, ds.group_column: 1, "quantity_kwh": 1})


def series_id(area: str, month: str) -> str:
    """The hourly-series `_id` of a partition: `NO1|2021-10`."""
    return f"{area}|{month}"


def hourly_series_query(ds: DashboardDataset, area: str, month: str) -> Find:
    """One partition's hourly values of every group, by `_id`."""
    return Find(ds.views.hourly_series, {"_id": series_id(area, month)})


def freshness_query(ds: DashboardDataset) -> Find:
    """Each partition's row count and latest revision time, from the hourly-series view
    (one document per (area, month)), without its hourly values."""
    return Find(ds.views.hourly_series, {}, {"_id": 0, "month": 1, "price_area": 1, "rows": 1, "last_updated_time": 1})


# --- the folds -------------------------------------------------------------------------------------


def area_years(docs: Iterable[Mapping]) -> dict[str, list[str]]:
    """{year: [areas]} from `years_query`'s documents, years newest first."""
    found: dict[str, set[str]] = {}
    for doc in docs:
        found.setdefault(doc["year"], set()).add(doc["price_area"])
    return {year: sorted(found[year]) for year in sorted(found, reverse=True)}


def month_options(years: Iterable[str], today: date) -> list[str]:
    """Every `YYYY-MM` of `years`, oldest first, up to the current month."""
    current = f"{today.year:04d}-{today.month:02d}"
    months = (f"{year}-{m:02d}" for year in sorted(set(years)) for m in range(1, 13))
    return [m for m in months if m <= current]


def totals_kwh(docs: Iterable[Mapping], ds: DashboardDataset) -> pd.DataFrame:
    """Areas × groups in kWh, with a `total` column (the dataset's groups, not the unspecified
    `*`) and an `all areas` row. A group an area has no rows of stays empty (NaN)."""
    rows = [(d["price_area"], d[ds.group_column], d["quantity_kwh"]) for d in docs]
    if not rows:
        return pd.DataFrame()
    long = pd.DataFrame(rows, columns=["price_area", "group", "kwh"])
    table = long.pivot(index="price_area", columns="group", values="kwh").sort_index()
    table = table[ds.ordered_groups(table.columns)]
    counted = [g for g in table.columns if g != UNSPECIFIED_GROUP]
    table[TOTAL] = [kwh_total(v for v in values if pd.notna(v)) for values in table[counted].itertuples(index=False)]
    table.loc[ALL_AREAS] = [kwh_total(v for v in table[c] if pd.notna(v)) if table[c].notna().any() else float("nan")
                            for c in table.columns]
    table.index.name, table.columns.name = "price area", None
    return table


def in_gwh(table: pd.DataFrame) -> pd.DataFrame:
    return table / KWH_PER_GWH


def oslo_label(instant: pd.Series | pd.DatetimeIndex, fmt: str = "%Y-%m-%d %H:%M %Z") -> list[str]:
    """Oslo wall time with its zone name, so the repeated hour of October reads 02:00 CEST, then 02:00 CET."""
    return list(pd.DatetimeIndex(instant).tz_convert(OSLO_TZ).strftime(fmt))


def epoch_ms(instant: pd.DatetimeIndex) -> list[int]:
    return [int(t.timestamp() * 1000) for t in instant]


def series_frame(doc: Mapping, ds: DashboardDataset) -> pd.DataFrame:
    """One row per (hour, group) of an hourly-series document, hours absent for a group left out.

    `epoch_ms` is the UTC instant the chart places a point at: one point per hour, evenly
    spaced through a DST change (743 or 745 hours, no spike, no gap); `oslo_time` labels it."""
    times = pd.DatetimeIndex(pd.to_datetime(list(doc["start_time"]), utc=True))
    ms, labels = epoch_ms(times), oslo_label(times)
    parts = [
        pd.DataFrame({"epoch_ms": ms, "oslo_time": labels, "group": group, "kwh": doc["series"][group]})
        for group in ds.ordered_groups(doc["series"])
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame["kwh"] = pd.to_numeric(frame["kwh"])
    return frame.dropna(subset=["kwh"]).reset_index(drop=True)


def month_hours(month: str) -> int:
    """Hours of a local month in Oslo: 743 in March, 745 in October, else 24 × days."""
    start = pd.Timestamp(f"{month}-01", tz=OSLO_TZ)
    end = (pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1)).tz_localize(OSLO_TZ)
    return int((end - start) / pd.Timedelta(hours=1))


def day_ticks(month: str) -> tuple[list[int], list[str]]:
    """The month's Oslo midnights as UTC epoch milliseconds, and their labels (`31 Oct`)."""
    year, number = int(month[:4]), int(month[5:7])
    days = pd.date_range(f"{month}-01", periods=calendar.monthrange(year, number)[1], freq="D")
    midnights = days.tz_localize(OSLO_TZ)
    return epoch_ms(midnights), [f"{d.day} {d.strftime('%b')}" for d in midnights]


def group_totals(doc: Mapping, ds: DashboardDataset) -> dict[str, float]:
    """kWh per group of an hourly-series document, and the `total` of the dataset's groups."""
    sums = {g: kwh_total(v for v in doc["series"][g] if v is not None) for g in ds.ordered_groups(doc["series"])}
    sums[TOTAL] = kwh_total(v for g, v in sums.items() if g != UNSPECIFIED_GROUP)
    return sums


def freshness_table(docs: Iterable[Mapping]) -> pd.DataFrame:
    """One row per (month, area) of `freshness_query`'s documents: how many rows are stored, and
    the latest `last_updated_time` among them in Oslo time. Newest month first."""
    found = pd.DataFrame(list(docs), columns=["month", "price_area", "rows", "last_updated_time"])
    columns = ["month", "price area", "rows", "last updated (Oslo)"]
    if found.empty:
        return pd.DataFrame(columns=columns)
    found = found.sort_values(["month", "price_area"], ascending=[False, True], ignore_index=True)
    stamps = pd.to_datetime(found["last_updated_time"], utc=True)
    latest = [oslo_label([t], "%Y-%m-%d %H:%M:%S %Z")[0] if pd.notna(t) else "" for t in stamps]
    return pd.DataFrame({"month": found["month"], "price area": found["price_area"],
                         "rows": found["rows"].fillna(0).astype(int), "last updated (Oslo)": latest})[columns]


def kwh_text(kwh: float) -> str:
    return f"{kwh:,.3f} kWh"


def gwh_text(kwh: float) -> str:
    return f"{kwh / KWH_PER_GWH:,.3f} GWh"

"""The Streamlit dashboard on the MongoDB views: a year per area and group, a month's hours, and freshness.

`make dashboard` serves it on http://127.0.0.1:8501. By hand, from the repository root
(`python -m` puts the root on the path, so `dashboard.queries` imports):

    .venv/bin/python -m streamlit run dashboard/app.py --browser.gatherUsageStats false

It reads `MONGO_URI` and `MONGO_DB` as the platform does, only the views and the base
collections, and never calls Elhub, Spark or Cassandra. Each page runs alone
(`st.navigation`); answers are cached for a minute, and "Reload data" forgets them.
"""

from __future__ import annotations

import os
from datetime import date

import pandas as pd
import streamlit as st
from pymongo import MongoClient
from pymongo.cursor import Cursor
from pymongo.errors import PyMongoError

from dashboard import charts
from dashboard import queries as q
from ind320_assets.domain import PRICE_AREAS
from ind320_assets.mongo_sync import READ_BATCH

CACHE_TTL_S = 60
# How long a page waits for an unreachable server before saying so.
TIMEOUT_MS = int(float(os.environ.get("DASHBOARD_MONGO_TIMEOUT_S", "5")) * 1000)


@st.cache_resource(show_spinner=False)
def _client(uri: str) -> MongoClient:
    return MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=TIMEOUT_MS, appname="ind320-dashboard")


def _documents(uri: str, database: str, query: q.Find) -> Cursor:
    return _client(uri)[database][query.collection].find(query.filter, query.projection, batch_size=READ_BATCH)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False, max_entries=256)
def _answer(uri: str, database: str, key: str, _query: q.Find) -> list[dict]:
    """One query's documents; `key` (the query as text) is what the cache hashes."""
    return list(_documents(uri, database, _query))


def unreachable(uri: str, database: str, error: Exception) -> None:
    st.error(f"Cannot reach MongoDB at `{q.mask_uri(uri)}` (database `{database}`).")
    st.code(q.mask_secrets(str(error), uri), language=None)
    st.caption("Start the local services with `make services-up`, or point `MONGO_URI` and `MONGO_DB` at yours.")
    st.stop()


def fetch(query: q.Find) -> list[dict]:
    """The query's documents; a failure names the server."""
    uri, database = st.session_state["mongo"]
    try:
        return _answer(uri, database, query.key, query)
    except PyMongoError as error:
        unreachable(uri, database, error)
        raise  # st.stop() ends the run; this line is never reached


def dataset() -> q.DashboardDataset:
    return next(d for d in q.DATASETS if d.label == st.session_state["dataset"])


def not_materialized(ds: q.DashboardDataset, what: str = "") -> None:
    st.info(f"Nothing materialized yet for {ds.label}{what}: run `make demo`, or materialize "
            f"`group:elhub_{ds.label}` (README, \"Running it\").")


# --- the pages -------------------------------------------------------------------------------------


def overview() -> None:
    ds = dataset()
    st.header(f"Elhub {ds.label}: a year per price area")
    years = q.area_years(fetch(q.years_query(ds)))
    if not years:
        return not_materialized(ds)
    year = st.selectbox("Year", list(years), key="overview_year")
    kwh = q.totals_kwh(fetch(q.yearly_totals_query(ds, year)), ds)
    gwh = q.in_gwh(kwh)
    st.metric(f"{ds.label.capitalize()} {year}, all areas", q.gwh_text(kwh.loc[q.ALL_AREAS, q.TOTAL]))
    bars, pie = st.columns([3, 2])
    bars.altair_chart(charts.area_group_bars(gwh, ds.group_column), width="stretch")
    pie.altair_chart(charts.group_pie(gwh, ds.group_column), width="stretch")
    st.subheader("GWh per price area and group")
    st.dataframe(gwh, column_config={c: st.column_config.NumberColumn(format="%.3f") for c in gwh.columns})
    st.caption(f"From `{ds.views.yearly_totals}`, one query. A year holds the months materialized so far "
               "(see Freshness); `total` leaves out the unspecified group `*`.")


def month_view() -> None:
    ds = dataset()
    st.header(f"Elhub {ds.label}: a month, hour by hour")
    years = q.area_years(fetch(q.years_query(ds)))
    areas = [a for a in PRICE_AREAS if any(a in present for present in years.values())]
    if not areas:
        return not_materialized(ds)
    left, right = st.columns(2)
    area = left.selectbox("Price area", areas, key="month_area")
    months = q.month_options([y for y, present in years.items() if area in present], date.today())
    month = right.selectbox("Month", months, key="month_month")
    found = fetch(q.hourly_series_query(ds, area, month))
    if not found:
        return not_materialized(ds, f" in {area} {month} (partition `{month}-01|{area}`)")
    doc = found[0]
    sums = q.group_totals(doc, ds)
    hours, expected = len(doc["start_time"]), q.month_hours(month)
    total, count = st.columns(2)
    total.metric(f"{area} {month}, all groups", q.kwh_text(sums[q.TOTAL]), help="Exact sum of the hourly values, "
                 "three decimals as Elhub publishes them; the unspecified group `*` is left out.")
    count.metric("Hours (Oslo time)", f"{hours} of {expected}")
    if hours != expected:
        st.warning(f"The series holds {hours} hours; {month} has {expected} in Oslo.")
    frame = q.series_frame(doc, ds)
    chart = charts.month_lines(frame, month, ds.group_column, ds.ordered_groups(doc["series"]))
    st.altair_chart(chart, width="stretch")
    per_group = pd.DataFrame({"kWh": sums, "GWh": {g: kwh / q.KWH_PER_GWH for g, kwh in sums.items()}})
    st.dataframe(per_group.rename_axis(ds.group_column),
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in per_group.columns})
    st.caption(f"`{ds.views.hourly_series}`, one document (`_id` `{q.series_id(area, month)}`). "
               "Points at their instants, so DST months have 743 or 745 evenly spaced hours.")


def freshness() -> None:
    ds = dataset()
    st.header(f"Elhub {ds.label}: what is stored, and when Elhub last revised it")
    query = q.freshness_query(ds)
    table = q.freshness_table(fetch(query))
    if table.empty:
        return not_materialized(ds)
    st.dataframe(table, hide_index=True)
    st.caption(f"One read of `{query.collection}`: each (area, month) document's row count and latest "
               "`last_updated_time`, which changes when a revision is loaded.")


# --- the app -------------------------------------------------------------------------------------


def main() -> None:
    st.set_page_config(page_title="Elhub dashboard", layout="wide")
    uri, database = q.mongo_settings(os.environ)
    st.session_state["mongo"] = (uri, database)
    try:
        names = _client(uri)[database].list_collection_names()
    except PyMongoError as error:
        unreachable(uri, database, error)
    present = q.materialized(names)
    if not present:
        st.title("Elhub dashboard")
        st.info(f"Nothing materialized yet in database `{database}` at `{q.mask_uri(uri)}`: run `make demo`.")
        st.stop()
    labels = [d.label for d in q.DATASETS]
    with st.sidebar:
        st.selectbox("Dataset", labels, index=labels.index(present[0].label), key="dataset")
        if st.button("Reload data"):
            _answer.clear()
        st.caption(f"MongoDB `{q.mask_uri(uri)}`, database `{database}`")
    st.navigation([
        st.Page(overview, title="Overview", url_path="overview", default=True),
        st.Page(month_view, title="Month", url_path="month"),
        st.Page(freshness, title="Freshness", url_path="freshness"),
    ]).run()


main()

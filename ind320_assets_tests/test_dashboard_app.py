"""The dashboard's queries and folds, on documents shaped by the views' own code; no service needed."""

from __future__ import annotations

import socket
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from dashboard import charts
from dashboard import queries as q
from ind320_assets.assets.datasets import SPECS
from ind320_assets.domain import OSLO_TZ
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.views.computation import hourly_series

PRODUCTION = next(d for d in q.DATASETS if d.label == "production")
GROUP = PRODUCTION.group_column
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
HOUR_MS = 3_600_000


def month_rows(month: str, kwh: dict[str, float | None], area: str = "NO1") -> pd.DataFrame:
    """Every Oslo hour of `month` for each group, as the Cassandra IO manager hands them to the views."""
    first = pd.Timestamp(f"{month}-01", tz=OSLO_TZ)
    hours = pd.date_range(first, first + pd.offsets.MonthBegin(1), freq="h", inclusive="left").tz_convert("UTC")
    return pd.DataFrame([
        {"price_area": area, "month": month, GROUP: group, "start_time": t, "quantity_kwh": value,
         "last_updated_time": pd.Timestamp("2024-12-20 09:35:40", tz="UTC")}
        for group, value in kwh.items() for t in hours if value is not None
    ])


def series_doc(month: str, kwh: dict[str, float | None]) -> dict:
    """The hourly-series document the view asset would store for these rows."""
    (doc,) = hourly_series(month_rows(month, kwh), GROUP)
    return doc


def test_the_dashboard_reads_the_collections_the_pipeline_writes():
    specs = {s.name: s for s in SPECS}
    assert [d.label for d in q.DATASETS] == ["production", "consumption"]
    for d in q.DATASETS:
        assert (d.collection, d.dataset) == (specs[d.label].mongo_collection, specs[d.label].dataset)
    assert PRODUCTION.views.yearly_totals == "elhub_production_yearly_totals"


@pytest.mark.parametrize(("uri", "masked"), [
    ("mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017"),
    ("mongodb://reader@db:27017/ind320", "mongodb://reader@db:27017/ind320"),
    ("mongodb://reader:s3cret@db:27017/?authSource=admin", "mongodb://reader:***@db:27017/?authSource=admin"),
    ("mongodb+srv://reader:p%40ss@cluster.example/ind320", "mongodb+srv://reader:***@cluster.example/ind320"),
    ("mongodb://reader:pa@ss@h1:1,h2:2", "mongodb://reader:***@h1:1,h2:2"),
    ("not a uri", "not a uri"),
])
def test_a_password_never_shows(uri, masked):
    assert q.mask_uri(uri) == masked


def test_an_error_message_is_masked_wherever_it_names_the_password():
    uri = "mongodb://reader:s3cret@db:27017"
    text = q.mask_secrets(f"bad auth for {uri} (password s3cret)", uri)
    assert "s3cret" not in text and "mongodb://reader:***@db:27017" in text


def test_the_connection_settings_follow_the_platform():
    fields = MongoResource.model_fields
    assert q.mongo_settings({}) == (fields["uri"].default, fields["database"].default)
    assert q.mongo_settings({"MONGO_URI": "mongodb://h:1", "MONGO_DB": "t"}) == ("mongodb://h:1", "t")


def test_each_chart_is_one_query_against_a_view():
    assert q.yearly_totals_query(PRODUCTION, "2021") == q.Find(
        "elhub_production_yearly_totals", {"year": "2021"},
        {"_id": 0, "price_area": 1, GROUP: 1, "quantity_kwh": 1})
    # An `_id` equality: the one filter FerretDB's SQLite backend pushes down.
    assert q.hourly_series_query(PRODUCTION, "NO1", "2021-10") == q.Find(
        "elhub_production_hourly_series", {"_id": "NO1|2021-10"})
    freshness = q.freshness_query(PRODUCTION)
    assert freshness.collection == "elhub_production_hourly_series" and freshness.filter == {}
    assert set(freshness.projection) == {"_id", "month", "price_area", "rows", "last_updated_time"}
    keys = {query.key for query in (q.years_query(PRODUCTION), q.yearly_totals_query(PRODUCTION, "2021"),
                                    q.yearly_totals_query(PRODUCTION, "2022"), freshness)}
    assert len(keys) == 4


def test_only_datasets_with_views_count_as_materialized():
    assert q.materialized([]) == []
    assert q.materialized(["elhub_production", "elhub_consumption_yearly_totals"]) == [q.DATASETS[1]]


def test_years_newest_first_and_months_up_to_today():
    docs = [{"price_area": "NO2", "year": "2021"}, {"price_area": "NO1", "year": "2021"},
            {"price_area": "NO1", "year": "2022"}]
    assert q.area_years(docs) == {"2022": ["NO1"], "2021": ["NO1", "NO2"]}
    months = q.month_options(["2022", "2021"], today=date(2022, 3, 15))
    assert months[0] == "2021-01" and months[-1] == "2022-03" and len(months) == 15


@pytest.mark.parametrize(("month", "hours"), [("2021-01", 744), ("2021-03", 743), ("2021-10", 745), ("2024-02", 696)])
def test_hours_of_an_oslo_month(month, hours):
    assert q.month_hours(month) == hours
    assert len(q.series_frame(series_doc(month, {"hydro": 1.0}), PRODUCTION)) == hours


@pytest.mark.parametrize("month", ["2021-03", "2021-10"])
def test_a_dst_month_is_evenly_spaced_with_each_hour_named_once(month):
    frame = q.series_frame(series_doc(month, {"wind": 2.5, "hydro": 1.0}), PRODUCTION)
    assert list(frame["group"].unique()) == ["hydro", "wind"]  # the dataset's order
    for _, line in frame.groupby("group"):
        steps = line["epoch_ms"].diff().dropna()
        assert len(line) == q.month_hours(month) and (steps == HOUR_MS).all()  # no spike, no gap
        assert line["oslo_time"].is_unique
    labels = set(frame["oslo_time"])
    if month == "2021-10":  # 02:00 twice, once in summer time and once in winter time
        assert {"2021-10-31 02:00 CEST", "2021-10-31 02:00 CET"} <= labels
    else:  # 02:00 does not exist
        assert {"2021-03-28 01:00 CET", "2021-03-28 03:00 CEST"} <= labels
        assert not any(label.startswith("2021-03-28 02:") for label in labels)


def test_the_day_ticks_are_oslo_midnights():
    ticks, labels = q.day_ticks("2021-10")
    assert len(ticks) == 31 and labels[0] == "1 Oct" and labels[-1] == "31 Oct"
    utc = [datetime.fromtimestamp(t / 1000, tz=timezone.utc) for t in ticks]
    assert utc[0] == datetime(2021, 9, 30, 22, tzinfo=timezone.utc)  # CEST
    assert utc[-1] == datetime(2021, 10, 30, 22, tzinfo=timezone.utc)  # still CEST at midnight of the 31st
    march, _ = q.day_ticks("2021-03")
    assert datetime.fromtimestamp(march[28] / 1000, tz=timezone.utc) == datetime(2021, 3, 28, 22, tzinfo=timezone.utc)


def test_the_month_chart_places_points_at_their_instants():
    frame = q.series_frame(series_doc("2021-10", {"hydro": 1.0}), PRODUCTION)
    spec = charts.month_lines(frame, "2021-10", GROUP, ["hydro"]).to_dict()
    x = spec["encoding"]["x"]
    assert x["field"] == "epoch_ms" and x["type"] == "temporal" and x["scale"] == {"type": "utc"}
    assert x["axis"]["values"][0] == "2021-09-30T22:00:00Z" and len(x["axis"]["values"]) == 31


def test_month_totals_are_exact_and_leave_out_the_unspecified_group():
    doc = series_doc("2021-02", {"hydro": 0.1, "solar": None, "*": 0.007})
    doc["series"]["hydro"][0] = None  # an hour withdrawn
    totals = q.group_totals(doc, PRODUCTION)
    assert totals == {"hydro": round(0.1 * 671, 3), "*": round(0.007 * 672, 3), q.TOTAL: 67.1}
    assert q.kwh_text(1234567.891) == "1,234,567.891 kWh" and q.gwh_text(1234567.891) == "1.235 GWh"


def test_the_overview_table_has_areas_by_groups_and_totals():
    docs = [
        {"price_area": "NO2", GROUP: "hydro", "quantity_kwh": 3_000_000.001},
        {"price_area": "NO1", GROUP: "wind", "quantity_kwh": 0.1},
        {"price_area": "NO1", GROUP: "hydro", "quantity_kwh": 0.2},
        {"price_area": "NO1", GROUP: "*", "quantity_kwh": 5.0},
    ]
    table = q.totals_kwh(docs, PRODUCTION)
    assert list(table.columns) == ["hydro", "wind", "*", q.TOTAL]
    assert list(table.index) == ["NO1", "NO2", q.ALL_AREAS]
    assert table.loc["NO1", q.TOTAL] == 0.3  # exact, and without `*`
    assert pd.isna(table.loc["NO2", "wind"])
    assert table.loc[q.ALL_AREAS].to_dict() == {"hydro": 3_000_000.201, "wind": 0.1, "*": 5.0, q.TOTAL: 3_000_000.301}
    assert q.in_gwh(table).loc[q.ALL_AREAS, q.TOTAL] == pytest.approx(3.000000301)
    assert q.totals_kwh([], PRODUCTION).empty


def test_freshness_lists_each_partitions_rows_and_latest_revision_newest_month_first():
    first, revised = datetime(2024, 12, 20, 9, 35, tzinfo=timezone.utc), datetime(2025, 6, 1, 4, 0, tzinfo=timezone.utc)
    rows = month_rows("2021-01", {"hydro": 1.0, "wind": 2.0}).assign(last_updated_time=first)
    rows.loc[rows.index[-2:], "last_updated_time"] = revised  # two hours revised later
    documents = [*hourly_series(rows, GROUP), *hourly_series(
        month_rows("2021-02", {"hydro": 1.0}, area="NO2").head(1).assign(last_updated_time=first), GROUP)]
    projected = [{k: d[k] for k in q.freshness_query(PRODUCTION).projection if k != "_id"} for d in documents]
    assert q.freshness_table(projected).to_dict("records") == [
        {"month": "2021-02", "price area": "NO2", "rows": 1, "last updated (Oslo)": "2024-12-20 10:35:00 CET"},
        {"month": "2021-01", "price area": "NO1", "rows": 2 * 744, "last updated (Oslo)": "2025-06-01 06:00:00 CEST"},
    ]
    assert q.freshness_table([]).empty


def test_an_unreachable_server_is_named_with_its_password_masked(monkeypatch):
    """The real app against a closed port: nothing listens there, so nothing is mocked."""
    from streamlit.testing.v1 import AppTest

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MONGO_URI", f"mongodb://reader:s3cret@127.0.0.1:{port}/?authSource=admin")
    monkeypatch.setenv("MONGO_DB", "anything")
    monkeypatch.setenv("DASHBOARD_MONGO_TIMEOUT_S", "0.5")
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not app.exception
    (error,) = app.error
    assert error.value == f"Cannot reach MongoDB at `mongodb://reader:***@127.0.0.1:{port}/?authSource=admin` (database `anything`)."
    shown = " ".join(str(e.value) for e in [*app.error, *app.code, *app.caption, *app.markdown])
    assert "s3cret" not in shown

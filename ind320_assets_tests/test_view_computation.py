"""The dashboard views computed from a frame of stored rows: exact sums per local day, across DST."""

import math

import pandas as pd
import pytest

from ind320_assets.domain import OSLO_TZ
from ind320_assets.partition_slice import local_month_label
from ind320_assets.views.computation import daily_totals, hourly_series, yearly_totals

GROUP = "production_group"
# Three-decimal values: their float sums carry rounding error that the views must not keep.
KWH = {"hydro": 0.1, "*": 0.007}
REVISION = pd.Timestamp("2024-12-20 09:35:40", tz="UTC")


def month_rows(month: str, area: str = "NO1", kwh: dict[str, float] = KWH) -> pd.DataFrame:
    """Every local hour of `month` (YYYY-MM) for each group, as the Cassandra IO manager gives them."""
    first = pd.Timestamp(f"{month}-01", tz=OSLO_TZ)
    hours = pd.date_range(first, first + pd.offsets.MonthBegin(1), freq="h", inclusive="left").tz_convert("UTC")
    frame = pd.concat([
        pd.DataFrame({"price_area": area, GROUP: group, "start_time": hours,
                      "end_time": hours + pd.Timedelta(hours=1), "last_updated_time": REVISION, "quantity_kwh": value})
        for group, value in kwh.items()
    ], ignore_index=True)
    return frame.assign(month=local_month_label(frame["start_time"]))


@pytest.mark.parametrize(("month", "day", "hours"), [
    ("2021-10", "2021-10-31", 25),  # clocks go back: 25 local hours
    ("2021-03", "2021-03-28", 23),  # clocks go forward: 23 local hours
    ("2021-06", "2021-06-15", 24),
])
def test_a_daily_total_sums_every_local_hour_of_its_day_exactly(month, day, hours):
    docs = {d["_id"]: d for d in daily_totals(month_rows(month), GROUP)}
    for group, value in KWH.items():
        assert docs[f"NO1|{group}|{day}"] == {
            "_id": f"NO1|{group}|{day}", "price_area": "NO1", GROUP: group, "day": day,
            "quantity_kwh": round(math.fsum([value] * hours), 3), "month": month, "year_key": f"NO1|{group}|2021",
            "revision": REVISION, "revision_sum": REVISION.value // 10**6 * hours,
        }
    assert docs[f"NO1|hydro|{day}"]["quantity_kwh"] == round(0.1 * hours, 3)


def test_every_local_day_of_the_months_has_one_document_per_group_and_none_else():
    rows = pd.concat([month_rows("2021-03"), month_rows("2021-10", area="NO2")], ignore_index=True)
    docs = daily_totals(rows, GROUP)
    assert len(docs) == len({d["_id"] for d in docs}) == (31 + 31) * len(KWH)
    assert {(d["price_area"], d["month"]) for d in docs} == {("NO1", "2021-03"), ("NO2", "2021-10")}
    # Oslo is ahead of UTC: a month's first UTC hour (22:00 or 23:00 the day before) is its first local hour.
    assert min(d["day"] for d in docs) == "2021-03-01" and max(d["day"] for d in docs) == "2021-10-31"


def test_the_unspecified_group_has_its_own_totals_and_series():
    rows = month_rows("2021-10")
    assert {d[GROUP] for d in daily_totals(rows, GROUP)} == {"hydro", "*"}
    (series,) = hourly_series(rows, GROUP)
    assert set(series["series"]) == {"hydro", "*"}


def test_yearly_totals_are_the_exact_sum_of_the_daily_totals():
    rows = pd.concat([month_rows(m) for m in ("2021-03", "2021-10", "2021-11")], ignore_index=True)
    yearly = yearly_totals(daily_totals(rows, GROUP), GROUP)
    assert yearly == [
        {"_id": f"NO1|{group}|2021", "price_area": "NO1", GROUP: group, "year": "2021",
         "quantity_kwh": round(math.fsum(rows.loc[rows[GROUP] == group, "quantity_kwh"]), 3), "revision": REVISION,
         "revision_sum": REVISION.value // 10**6 * (743 + 745 + 720)}
        for group in sorted(KWH)
    ]
    assert yearly[1]["quantity_kwh"] == round(0.1 * (743 + 745 + 720), 3)


def test_a_view_document_s_revision_is_the_latest_of_the_rows_it_sums():
    rows = month_rows("2021-10")
    revised = rows.index[(rows[GROUP] == "hydro") & (rows["start_time"] == pd.Timestamp("2021-10-31T01:00Z"))]
    later = REVISION + pd.Timedelta(days=30)
    rows.loc[revised, "last_updated_time"] = later
    daily = {d["_id"]: d["revision"] for d in daily_totals(rows, GROUP)}
    assert daily["NO1|hydro|2021-10-31"] == later and daily["NO1|hydro|2021-10-30"] == REVISION
    assert daily["NO1|*|2021-10-31"] == REVISION
    assert {d["_id"]: d["revision"] for d in yearly_totals(daily_totals(rows, GROUP), GROUP)} == {
        "NO1|*|2021": REVISION, "NO1|hydro|2021": later}
    assert hourly_series(rows, GROUP)[0]["revision"] == later


def test_a_document_built_from_a_mixed_read_has_a_smaller_revision_sum_than_the_complete_newer_one():
    """A read in the middle of another run's write sees some rows at N+1 and some at N: its
    daily total has the newer `revision` but must not outrank the day once complete."""
    newer = month_rows("2021-10").assign(last_updated_time=REVISION + pd.Timedelta(days=30))
    mixed = newer.copy()
    mixed.loc[mixed.index[:5], "last_updated_time"] = REVISION
    complete, partial = (
        {d["_id"]: d for d in daily_totals(rows, GROUP)}["NO1|hydro|2021-10-01"] for rows in (newer, mixed)
    )
    assert complete["revision"] == partial["revision"]
    assert complete["revision_sum"] > partial["revision_sum"]


def test_an_hourly_series_holds_every_hour_of_its_month_and_none_for_a_missing_one():
    rows = month_rows("2021-10")
    missing = rows.index[(rows[GROUP] == "hydro")][100]
    (doc,) = hourly_series(rows.drop(index=missing), GROUP)
    assert doc["_id"] == "NO1|2021-10" and (doc["price_area"], doc["month"]) == ("NO1", "2021-10")
    assert len(doc["start_time"]) == 745
    assert doc["start_time"][0] == pd.Timestamp("2021-09-30T22:00Z") and doc["start_time"] == sorted(doc["start_time"])
    assert doc["series"]["hydro"][100] is None and doc["series"]["*"][100] == KWH["*"]
    assert sum(v is None for v in doc["series"]["hydro"]) == 1


def test_no_rows_give_no_documents():
    empty = month_rows("2021-10").iloc[0:0]
    assert daily_totals(empty, GROUP) == [] and hourly_series(empty, GROUP) == [] and yearly_totals([], GROUP) == []

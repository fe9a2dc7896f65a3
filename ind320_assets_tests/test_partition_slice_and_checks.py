"""The partition slice, the fetch plan, the stale-row diff, the MongoDB sync plan and the raw checks, as pure functions."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ind320_assets.checks.raw_frames import check_hours_complete, check_rows_not_withdrawn
from ind320_assets.domain import PRODUCTION
from ind320_assets.elhub.windows import expected_local_hours
from ind320_assets.frame_summary import describe_differences, summarize, total_kwh
from ind320_assets.io_managers.cassandra_spark.table import stale_keys
from ind320_assets.mongo_sync import plan_sync
from ind320_assets.partition_slice import FetchWindow, PartitionSlice, local_month_label
from ind320_assets.partitions import ELHUB_PARTITIONS
from ind320_assets.revisions import cassandra_write_time
from ind320_assets.row_schema import stored_schema


def test_cli_key_reads_month_then_area():
    assert ELHUB_PARTITIONS.get_partition_keys()[0] == "2021-01-01|NO1"
    (p,) = PartitionSlice.from_keys(["2021-10-01|NO5"])
    assert (p.month, p.price_area, p.month_start, p.month_end) == ("2021-10", "NO5", date(2021, 10, 1), date(2021, 11, 1))


@pytest.mark.parametrize("bad", ["2021-01|NO1", "NO1|2021-01-01", "2021-01-02|NO1", "2021-01-01|NO6", "2021-01-01", ""])
def test_malformed_partition_keys_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="Partition key"):
        PartitionSlice.from_keys([bad])


def test_a_slice_is_sorted_and_deduplicated():
    keys = ["2021-02-01|NO2", "2021-01-01|NO1", "2021-02-01|NO2"]
    assert PartitionSlice.from_keys(keys).keys == ["2021-01-01|NO1", "2021-02-01|NO2"]
    assert PartitionSlice.of([date(2021, 3, 1)], ["NO2", "NO1"]).keys == ["2021-03-01|NO1", "2021-03-01|NO2"]


def test_mongo_filter_is_one_clause_per_area_never_a_cross_product():
    partitions = PartitionSlice.from_keys(["2021-10-01|NO1", "2021-11-01|NO1", "2021-10-01|NO2"])
    assert partitions.pairs == [("NO1", "2021-10"), ("NO2", "2021-10"), ("NO1", "2021-11")]
    assert partitions.mongo_filter() == {"$or": [
        {"price_area": "NO1", "month": {"$in": ["2021-10", "2021-11"]}},
        {"price_area": "NO2", "month": {"$in": ["2021-10"]}},
    ]}


@pytest.mark.parametrize(
    ("keys", "plan"),
    [
        # A year for all areas: one call, which the client sends as one request per month.
        ([f"2021-{m:02d}-01|{a}" for m in range(1, 13) for a in ("NO1", "NO2", "NO3", "NO4", "NO5")],
         [FetchWindow(date(2021, 1, 1), date(2022, 1, 1), ("NO1", "NO2", "NO3", "NO4", "NO5"))]),
        # Months that want other areas, or that do not follow each other, are separate calls.
        (["2021-01-01|NO1", "2021-02-01|NO1", "2021-02-01|NO2", "2021-05-01|NO1"],
         [FetchWindow(date(2021, 1, 1), date(2021, 2, 1), ("NO1",)),
          FetchWindow(date(2021, 2, 1), date(2021, 3, 1), ("NO1", "NO2")),
          FetchWindow(date(2021, 5, 1), date(2021, 6, 1), ("NO1",))]),
    ],
    ids=["a-year", "ragged"],
)
def test_fetch_plan_covers_the_slice_exactly_with_few_calls(keys, plan):
    assert PartitionSlice.from_keys(keys).fetch_plan() == plan


@pytest.mark.parametrize(("month", "hours"), [("2021-03-01", 743), ("2021-10-01", 745), ("2021-06-01", 720), ("2025-03-01", 743)])
def test_expected_local_hours_of_a_month(month, hours):
    (p,) = PartitionSlice.from_keys([f"{month}|NO1"])
    assert len(expected_local_hours(p.month_start, p.month_end)) == hours


def test_local_month_of_the_first_utc_hour_is_the_local_month():
    times = pd.Series(pd.to_datetime(["2020-12-31T23:00Z", "2021-01-31T22:59Z", "2021-01-31T23:00Z"], utc=True))
    assert local_month_label(times).tolist() == ["2021-01", "2021-01", "2021-02"]


def _series(area: str, group: str, hours: pd.DatetimeIndex, kwh: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"price_area": area, "production_group": group, "start_time": hours, "quantity_kwh": kwh})


def test_rows_are_keyed_by_partition_and_rows_outside_the_run_are_refused():
    partitions = PartitionSlice.from_keys(["2021-01-01|NO1"])
    inside = _series("NO1", "hydro", pd.to_datetime(["2020-12-31T23:00Z", "2021-01-31T22:00Z"], utc=True))
    assert partitions.row_keys(inside).tolist() == ["2021-01-01|NO1"] * 2
    assert {k: len(v) for k, v in partitions.split(inside).items()} == {"2021-01-01|NO1": 2}
    outside = _series("NO1", "hydro", pd.to_datetime(["2021-01-31T23:00Z"], utc=True))  # Oslo: February
    with pytest.raises(ValueError, match=r"outside this run's partitions.*'NO1', '2021-02'"):
        partitions.guard(pd.concat([inside, outside]))


def test_hours_complete_accepts_a_late_start_and_reports_it():
    partitions = PartitionSlice.from_keys(["2021-06-01|NO5"])
    hours = expected_local_hours(date(2021, 6, 1), date(2021, 7, 1))
    frame = pd.concat([_series("NO5", "hydro", hours), _series("NO5", "wind", hours[24:])])
    passed, metadata = check_hours_complete(frame, PRODUCTION, partitions, hours[-1] + pd.Timedelta("1h"))
    assert passed
    assert metadata["late_starts"] == {"2021-06-01|NO5 wind": "2021-06-01T22:00:00+00:00"}
    assert metadata["series_checked"] == 2


def test_hours_complete_fails_on_a_hole_and_never_fills_it():
    partitions = PartitionSlice.from_keys(["2021-03-01|NO1"])
    hours = expected_local_hours(date(2021, 3, 1), date(2021, 4, 1))
    frame = _series("NO1", "hydro", hours.delete(100))
    passed, metadata = check_hours_complete(frame, PRODUCTION, partitions, hours[-1] + pd.Timedelta("1h"))
    assert (passed, metadata["gaps"]) == (False, {"2021-03-01|NO1 hydro": 1})
    assert len(frame) == 742


def test_hours_complete_fails_on_a_series_that_stops_before_the_others():
    partitions = PartitionSlice.from_keys(["2021-03-01|NO1"])
    hours = expected_local_hours(date(2021, 3, 1), date(2021, 4, 1))
    frame = pd.concat([_series("NO1", "hydro", hours), _series("NO1", "solar", hours[:-5])])
    passed, metadata = check_hours_complete(frame, PRODUCTION, partitions, hours[-1] + pd.Timedelta("1h"))
    assert (passed, metadata["gaps"]) == (False, {"2021-03-01|NO1 solar": 5})


def test_hours_complete_allows_the_unpublished_tail_of_the_current_month():
    partitions = PartitionSlice.from_keys(["2026-11-01|NO1"])
    hours = expected_local_hours(date(2026, 11, 1), date(2026, 12, 1))[:500]
    passed, metadata = check_hours_complete(
        _series("NO1", "hydro", hours), PRODUCTION, partitions, hours[-1] + pd.Timedelta("1h")
    )
    assert (passed, metadata["gaps"]) == (True, {})


def test_rows_not_withdrawn_fails_when_a_partition_shrinks():
    before = {"2021-01-01|NO1": {"last_updated": "t0", "rows": 3720}, "2021-01-01|NO2": {"last_updated": "t0", "rows": 10}}
    same = dict(before)
    assert check_rows_not_withdrawn(same, before)[0]
    shrunk = {**before, "2021-01-01|NO1": {"last_updated": "t1", "rows": 2976}}
    assert check_rows_not_withdrawn(shrunk, before) == (
        False, {"partitions_compared": 2, "shrunk": {"2021-01-01|NO1": {"before": 3720, "now": 2976}}}
    )
    assert check_rows_not_withdrawn(shrunk, {}) == (True, {"partitions_compared": 0, "shrunk": {}})


def test_summaries_are_order_independent_and_keep_star_out_of_totals():
    partitions = PartitionSlice.from_keys(["2021-01-01|NO1"])
    hours = expected_local_hours(date(2021, 1, 1), date(2021, 1, 2))
    frame = pd.concat([_series("NO1", "hydro", hours, 0.1), _series("NO1", "*", hours, 5.0)])
    shuffled = frame.sample(frac=1.0, random_state=7)
    assert summarize(frame, partitions, "production_group") == summarize(shuffled, partitions, "production_group")
    assert summarize(frame, partitions, "production_group")[("2021-01-01|NO1", "hydro")][0] == 24
    assert describe_differences(
        summarize(frame, partitions, "production_group"), summarize(shuffled.iloc[1:], partitions, "production_group")
    ) != []
    assert total_kwh(frame, "production_group") == pytest.approx(2.4)


def test_stale_keys_are_the_stored_rows_the_new_data_no_longer_holds_and_that_are_not_newer():
    schema = stored_schema(PRODUCTION)
    t0, t1 = pd.Timestamp("2021-01-01T00:00Z"), pd.Timestamp("2021-01-01T01:00Z")
    seen, before, after = (pd.Timestamp(t, tz="UTC") for t in ("2024-06-01", "2024-05-01", "2024-07-01"))
    wanted = pd.DataFrame({"price_area": ["NO1"], "month": ["2021-01"], "production_group": ["hydro"], "start_time": [t0]})
    # The driver hands back naive UTC datetimes; they must compare equal to the written instants.
    naive = [t.tz_localize(None).to_pydatetime() for t in (t0, t1, before, after)]
    stored = [("NO1", "2021-01", "hydro", naive[0], naive[2]),
              ("NO1", "2021-01", "hydro", naive[1], naive[2]),
              ("NO1", "2021-01", "solar", naive[0], naive[2]),
              ("NO1", "2021-01", "wind", naive[0], naive[3])]  # written by a writer that saw more
    tombstone = int(cassandra_write_time(pd.Series([seen])).iloc[0])
    assert stale_keys(stored, wanted, schema, {("NO1", "2021-01"): seen}) == [
        (tombstone, *row[:-1]) for row in stored[1:3]]
    assert stale_keys(stored[:1], wanted, schema, {("NO1", "2021-01"): seen}) == []


def test_a_revision_s_cassandra_write_time_orders_as_the_revisions_and_above_any_wall_clock():
    revisions = pd.Series(pd.to_datetime(["2021-01-01T00:00:00Z", "2021-01-01T00:00:01Z", "2099-01-01T00:00:00Z"]))
    times = cassandra_write_time(revisions).tolist()
    assert times == sorted(times) and times[1] - times[0] == 1_000_000
    assert times[0] > pd.Timestamp("2200-01-01", tz="UTC").value // 1000


def test_mongo_sync_plan_inserts_new_swaps_changed_and_deletes_withdrawn():
    current = {"a": {"_id": "a", "v": 1}, "b": {"_id": "b", "v": 2}, "c": {"_id": "c", "v": 3}}
    wanted = [{"_id": "a", "v": 1}, {"_id": "b", "v": 20}, {"_id": "d", "v": 4}]
    plan = plan_sync(current, wanted)
    assert (plan.inserts, plan.changed, plan.stale_ids) == ([{"_id": "d", "v": 4}], [{"_id": "b", "v": 20}], ["c"])
    assert plan.unchanged == 1
    same = plan_sync({d["_id"]: d for d in wanted}, wanted)
    assert (same.inserts, same.changed, same.stale_ids, same.unchanged) == ([], [], [], 3)

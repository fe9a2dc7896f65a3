"""Partition keys, hour counting and the raw-frame checks, as pure functions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ind320_assets.checks.raw_frames import (
    check_hours_complete,
    check_no_duplicate_keys,
    check_quantities_valid,
    expected_hours_utc,
)
from ind320_assets.frame_summary import describe_differences, summarize, total_kwh
from ind320_assets.partitions import ELHUB_PARTITIONS, ElhubPartition, local_month_label, parse_partition_keys


def test_cli_key_reads_month_then_area():
    assert ELHUB_PARTITIONS.get_partition_keys()[0] == "2021-01-01|NO1"
    assert ElhubPartition.from_key("2021-10-01|NO5").month == "2021-10"


@pytest.mark.parametrize("bad", ["2021-01|NO1", "NO1|2021-01-01", "2021-01-02|NO1", "2021-01-01|NO6", "2021-01-01"])
def test_malformed_partition_keys_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="Partition key"):
        ElhubPartition.from_key(bad)


def test_parse_sorts_and_deduplicates():
    keys = ["2021-02-01|NO2", "2021-01-01|NO1", "2021-02-01|NO2"]
    assert [p.key for p in parse_partition_keys(keys)] == ["2021-01-01|NO1", "2021-02-01|NO2"]


@pytest.mark.parametrize(
    ("month", "hours"),
    [(date(2021, 3, 1), 743), (date(2021, 10, 1), 745), (date(2021, 6, 1), 720), (date(2025, 3, 1), 743)],
)
def test_expected_local_hours_of_a_month(month, hours):
    p = ElhubPartition(month, "NO1")
    assert len(expected_hours_utc(p.month_start, p.month_end)) == hours


def test_local_month_of_the_first_utc_hour_is_the_local_month():
    times = pd.Series(pd.to_datetime(["2020-12-31T23:00Z", "2021-01-31T22:59Z", "2021-01-31T23:00Z"], utc=True))
    assert local_month_label(times).tolist() == ["2021-01", "2021-01", "2021-02"]


def _series(area: str, group: str, hours: pd.DatetimeIndex, kwh: float = 1.0) -> pd.DataFrame:
    return pd.DataFrame({"price_area": area, "production_group": group, "start_time": hours, "quantity_kwh": kwh})


def test_hours_complete_accepts_a_late_start_and_reports_it():
    p = ElhubPartition(date(2021, 6, 1), "NO5")
    hours = expected_hours_utc(p.month_start, p.month_end)
    frame = pd.concat([_series("NO5", "hydro", hours), _series("NO5", "wind", hours[24:])])
    passed, metadata = check_hours_complete(frame, "production_group", [p], hours[-1] + pd.Timedelta("1h"))
    assert passed
    assert metadata["late_starts"] == {"2021-06-01|NO5 wind": "2021-06-01T22:00:00+00:00"}


def test_hours_complete_fails_on_a_hole_and_never_fills_it():
    p = ElhubPartition(date(2021, 3, 1), "NO1")
    hours = expected_hours_utc(p.month_start, p.month_end)
    frame = _series("NO1", "hydro", hours.delete(100))
    passed, metadata = check_hours_complete(frame, "production_group", [p], hours[-1] + pd.Timedelta("1h"))
    assert not passed and metadata["gaps"] == {"2021-03-01|NO1 hydro": 1}
    assert len(frame) == 742


def test_hours_complete_allows_the_unpublished_tail_of_the_current_month():
    p = ElhubPartition(date(2026, 11, 1), "NO1")
    hours = expected_hours_utc(p.month_start, p.month_end)[:500]
    passed, _ = check_hours_complete(_series("NO1", "hydro", hours), "production_group", [p], hours[-1] + pd.Timedelta("1h"))
    assert passed


def test_duplicates_and_invalid_quantities_are_caught():
    hours = expected_hours_utc(date(2021, 1, 1), date(2021, 1, 2))
    frame = pd.concat([_series("NO1", "hydro", hours), _series("NO1", "hydro", hours[:2])])
    assert check_no_duplicate_keys(frame, "production_group") == (False, {"duplicate_rows": 4})
    frame = _series("NO1", "hydro", hours[:3]).assign(quantity_kwh=[1.0, -1.0, np.nan])
    assert check_quantities_valid(frame) == (False, {"invalid_quantities": 2})


def test_summaries_are_order_independent_and_keep_star_out_of_totals():
    hours = expected_hours_utc(date(2021, 1, 1), date(2021, 1, 2))
    frame = pd.concat([_series("NO1", "hydro", hours, 0.1), _series("NO1", "*", hours, 5.0)])
    shuffled = frame.sample(frac=1.0, random_state=7)
    assert summarize(frame, "production_group") == summarize(shuffled, "production_group")
    assert describe_differences(summarize(frame, "production_group"), summarize(shuffled, "production_group")) == []
    assert total_kwh(frame, "production_group") == pytest.approx(2.4)

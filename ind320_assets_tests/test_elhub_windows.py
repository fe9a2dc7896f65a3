"""Request windows must tile the asked-for local window exactly, one calendar month at most."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ind320_assets.elhub import DateWindow, expected_local_hours, month_windows

dates = st.dates(min_value=date(2019, 1, 1), max_value=date(2032, 12, 31))


@given(dates, st.integers(min_value=0, max_value=1200))
def test_windows_tile_the_request_without_overlap_or_month_crossing(start: date, length_days: int) -> None:
    end = start + timedelta(days=length_days)
    windows = month_windows(start, end)

    covered = [w.start + timedelta(days=i) for w in windows for i in range((w.end - w.start).days)]
    assert covered == [start + timedelta(days=i) for i in range(length_days)]  # exact union, no overlap
    for window in windows:
        assert window.start < window.end
        last_day = window.end - timedelta(days=1)
        assert (last_day.year, last_day.month) == (window.start.year, window.start.month)
        assert window.end == end or window.end.day == 1  # ends at a month boundary or the request end
    assert all(a.end == b.start for a, b in zip(windows, windows[1:]))


@given(dates, st.integers(min_value=0, max_value=1200))
def test_whole_months_need_one_window_each(start: date, length_days: int) -> None:
    end = start + timedelta(days=length_days)
    months = (end.year - start.year) * 12 + end.month - start.month + (1 if end.day > 1 else 0)
    assert len(month_windows(start, end)) == (months if length_days else 0)


def test_a_year_is_twelve_month_windows_with_exclusive_ends() -> None:
    windows = month_windows(date(2021, 1, 1), date(2022, 1, 1))
    assert len(windows) == 12
    assert windows[0] == DateWindow(date(2021, 1, 1), date(2021, 2, 1))
    assert windows[-1] == DateWindow(date(2021, 12, 1), date(2022, 1, 1))


def test_partial_months_are_cut_at_the_boundaries() -> None:
    assert month_windows(date(2021, 1, 15), date(2021, 3, 2)) == [
        DateWindow(date(2021, 1, 15), date(2021, 2, 1)),
        DateWindow(date(2021, 2, 1), date(2021, 3, 1)),
        DateWindow(date(2021, 3, 1), date(2021, 3, 2)),
    ]


def test_a_reversed_window_is_refused() -> None:
    with pytest.raises(ValueError):
        month_windows(date(2021, 2, 1), date(2021, 1, 1))


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (date(2021, 3, 1), date(2021, 4, 1), 743),
        (date(2021, 10, 1), date(2021, 11, 1), 745),
        (date(2025, 3, 1), date(2025, 4, 1), 743),
        (date(2025, 10, 1), date(2025, 11, 1), 745),
        (date(2021, 1, 1), date(2022, 1, 1), 8760),
        (date(2024, 1, 1), date(2025, 1, 1), 8784),
        (date(2021, 3, 28), date(2021, 3, 29), 23),
        (date(2021, 10, 31), date(2021, 11, 1), 25),
    ],
)
def test_expected_local_hours_count_dst_correctly(start: date, end: date, hours: int) -> None:
    assert len(expected_local_hours(start, end)) == hours


def test_expected_hours_are_utc_instants_at_the_dst_transitions() -> None:
    march = expected_local_hours(date(2021, 3, 1), date(2021, 4, 1))
    assert str(march.dtype) == "datetime64[ns, UTC]"
    assert march[0] == pd.Timestamp("2021-02-28T23:00Z")
    assert march[-1] == pd.Timestamp("2021-03-31T21:00Z")
    # 01:00+01:00 is followed directly by 03:00+02:00: consecutive UTC hours.
    assert pd.Timestamp("2021-03-28T00:00Z") in march and pd.Timestamp("2021-03-28T01:00Z") in march
    local = march.tz_convert("Europe/Oslo")
    assert 2 not in set(local[(local.day == 28)].hour)

    october = expected_local_hours(date(2021, 10, 1), date(2021, 11, 1))
    repeated = october[(october.tz_convert("Europe/Oslo").day == 31) & (october.tz_convert("Europe/Oslo").hour == 2)]
    assert list(repeated) == [pd.Timestamp("2021-10-31T00:00Z"), pd.Timestamp("2021-10-31T01:00Z")]
    assert (pd.Series(october).diff().dropna() == pd.Timedelta(hours=1)).all()

"""Request windows and the local hours they should contain.

Elhub takes date-only `startDate`/`endDate` in Norwegian local time, with
`endDate` exclusive, and serves at most about one calendar month per request.
Everything here works on half-open local date windows `[start, end)`.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pandas as pd

from ind320_assets.domain import OSLO_TZ


class DateWindow(NamedTuple):
    """A half-open window of local dates: `start` included, `end` excluded."""

    start: date
    end: date


def first_of_next_month(day: date) -> date:
    """The first day of the month after `day`'s month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_windows(start: date, end: date) -> list[DateWindow]:
    """Split `[start, end)` into windows that never cross a month boundary.

    Each window ends on the first day of the next month, or at `end`, so the
    windows tile the request exactly and each one is a legal Elhub request.
    """
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    windows: list[DateWindow] = []
    cursor = start
    while cursor < end:
        window_end = min(first_of_next_month(cursor), end)
        windows.append(DateWindow(cursor, window_end))
        cursor = window_end
    return windows


def local_midnight_utc(day: date) -> pd.Timestamp:
    """The UTC instant at which `day` begins in Europe/Oslo."""
    return pd.Timestamp(day).tz_localize(OSLO_TZ).tz_convert("UTC")


def expected_local_hours(start: date, end: date) -> pd.DatetimeIndex:
    """UTC start instants of every local hour in `[start, end)`.

    Counting in UTC between the two local midnights is what makes DST right:
    March 2021 has 743 hours and October 2021 has 745.
    """
    if end < start:
        raise ValueError(f"window end {end} is before its start {start}")
    return pd.date_range(
        local_midnight_utc(start), local_midnight_utc(end), freq="h", inclusive="left", name="start_time"
    )

"""How the replay reads `startDate`/`endDate`, mimicking what the real API was seen to do.

Dates are `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS±hh:mm`; a time of day is read
as Oslo wall-clock time and its offset ignored (as public pulls suggest).
Unparseable dates count as missing; with neither date valid, the default
window (the last 30 days published) is served. An unsent `+` arrives as a
space and so makes the date invalid, as with the real API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

import pandas as pd

from ind320_assets.domain import OSLO_TZ, ElhubDataset
from ind320_devkit.replay.catalog import FIRST_HOUR, ReplayCatalog

_API_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}:\d{2})(?:[+-]\d{2}:\d{2}|Z)?)?$")
# The API serves about one calendar month per request; the reply to a longer
# period is undocumented, so the replay refuses it rather than guess.
MAX_PERIOD = timedelta(days=31)


class PeriodTooLong(ValueError):
    """The requested period is longer than one month."""


def parse_api_time(raw: str | None) -> pd.Timestamp | None:
    """The UTC instant of a `startDate`/`endDate` value, or None if it is not valid."""
    match = _API_TIME.match(raw or "")
    if not match:
        return None
    try:
        wall_clock = datetime.fromisoformat(f"{match[1]}T{match[2] or '00:00:00'}")
    except ValueError:
        return None
    return (
        pd.Timestamp(wall_clock)
        .tz_localize(OSLO_TZ, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
    )


def requested_window(
    params: Mapping[str, str], catalog: ReplayCatalog, dataset: ElhubDataset
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The UTC `[start, end)` a request asks for, after the API's defaults."""
    start, end = parse_api_time(params.get("startDate")), parse_api_time(params.get("endDate"))
    if start is None and end is None:
        return catalog.default_window(dataset)
    start = start if start is not None else FIRST_HOUR
    end = end if end is not None else catalog.published_end(dataset)
    wall_clock_span = end.tz_convert(OSLO_TZ).tz_localize(None) - start.tz_convert(OSLO_TZ).tz_localize(None)
    if wall_clock_span > MAX_PERIOD:
        raise PeriodTooLong(
            f"period {start.tz_convert(OSLO_TZ)} to {end.tz_convert(OSLO_TZ)} is longer than one month"
        )
    return start, end

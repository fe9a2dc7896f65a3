"""The replay's `/updates` feed, derived from what it serves.

An item is listed when the rows served now for a (dataset, price area, local
day) carry a `lastUpdatedTime` on or after the request's `lastUpdated`; its time
is that `lastUpdatedTime`. The stamps come from the same three places the
served rows take them from: the publication schedule (D+1/D+6/D+14 and the bulk
restatements), the real recording, and the revisions published on the catalog,
applied in publication order. Consecutive days of one area with the same stamp
form one item, cut at local month ends so that each item's `href` is a legal
one-month request. See docs/elhub_updates_api.md for what is public and what is
guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from ind320_assets.domain import FIRST_MONTH, OSLO_TZ, PRICE_AREAS, PRODUCTION, ElhubDataset
from ind320_assets.elhub.windows import first_of_next_month, local_midnight_utc
from ind320_devkit.replay.catalog import ReplayCatalog
from ind320_devkit.replay.publication import published_end, published_version
from ind320_devkit.replay.recorded import RECORDED_END, RECORDED_START, recorded_production

FIRST_DAY = date.fromisoformat(FIRST_MONTH)
# What the API serves when `lastUpdated` is not sent (public: "24 hours before the current time").
DEFAULT_LOOKBACK = pd.Timedelta(hours=24)
_LAST_UPDATED = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})?)?$")


class InvalidLastUpdated(ValueError):
    """`lastUpdated` is not a date-time the replay understands."""


@dataclass(frozen=True)
class FeedItem:
    """One `/updates` item: a run of local days of one dataset and area, changed at `last_updated`."""

    dataset_id: str
    price_area: str
    start: date  # first local day
    end: date  # exclusive: the local day after the last one
    last_updated: pd.Timestamp  # UTC


def parse_last_updated(raw: str | None, now: pd.Timestamp) -> pd.Timestamp:
    """The UTC instant of a `lastUpdated` value; now - 24 h when it is missing or empty."""
    if raw is None or raw == "":
        return now - DEFAULT_LOOKBACK
    match = _LAST_UPDATED.match(raw)
    if not match:
        raise InvalidLastUpdated(f"lastUpdated {raw!r} is not yyyy-MM-dd'T'HH:mm:ssXXX (was the + sent as %2B?)")
    day, clock, offset = match[1], match[2] or "00:00:00", match[3]
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError as err:
        raise InvalidLastUpdated(f"lastUpdated {raw!r} is not a valid date-time: {err}") from err
    if offset is None:  # Oslo wall-clock time
        return pd.Timestamp(moment).tz_localize(OSLO_TZ, ambiguous=True, nonexistent="shift_forward").tz_convert("UTC")
    return pd.Timestamp(f"{day}T{clock}{'+00:00' if offset == 'Z' else offset}").tz_convert("UTC")


def feed_items(catalog: ReplayCatalog, datasets: list[ElhubDataset], since: pd.Timestamp) -> list[FeedItem]:
    """Every item changed on or after `since`, by dataset, area and start day."""
    now = catalog.now  # one instant for the whole answer
    revisions = catalog.revisions
    items: list[FeedItem] = []
    for dataset in datasets:
        days, stamps = _served_stamps(dataset, now, revisions)
        items.extend(_runs(dataset.dataset_id, days, stamps, since))
    return items


def _served_stamps(
    dataset: ElhubDataset, now: pd.Timestamp, revisions: tuple
) -> tuple[list[date], dict[str, np.ndarray]]:
    """The served days and, per area, each day's latest `lastUpdatedTime` (UTC ns)."""
    last_day = published_end(dataset.dataset_id, now).tz_convert(OSLO_TZ).date() - timedelta(days=1)
    if last_day < FIRST_DAY:
        return [], {}
    days = [FIRST_DAY + timedelta(days=i) for i in range((last_day - FIRST_DAY).days + 1)]
    scheduled = np.array(
        [_stamp_value(published_version(dataset.dataset_id, day, now)) for day in days], dtype=np.int64
    )
    stamps = {area: scheduled.copy() for area in PRICE_AREAS}
    if dataset.dataset_id == PRODUCTION.dataset_id:
        # The recording replaces the generated rows of its hours: a day it covers whole
        # carries only its stamps, a day it covers in part the later of both.
        for (area, day), value in _recorded_day_stamps().items():
            index = (day - FIRST_DAY).days
            if 0 <= index < len(days):
                whole = RECORDED_START <= local_midnight_utc(day) and local_midnight_utc(day + timedelta(days=1)) <= RECORDED_END
                stamps[area][index] = value if whole else max(stamps[area][index], value)
    for revision in revisions:  # in publication order: the last one applied wins, as in the served rows
        if revision.dataset_id != dataset.dataset_id:
            continue
        lo = max((revision.month - FIRST_DAY).days, 0)
        hi = min((first_of_next_month(revision.month) - FIRST_DAY).days, len(days))
        for area in revision.areas:
            stamps[area][lo:hi] = revision.last_updated.value
    return days, stamps


def _stamp_value(published: tuple[int, pd.Timestamp] | None) -> int:
    if published is None:  # every day up to the last published one is published
        raise AssertionError("a day before the published end is unpublished")
    return published[1].value


@lru_cache(maxsize=1)
def _recorded_day_stamps() -> dict[tuple[str, date], int]:
    """(area, local day) -> the latest `lastUpdatedTime` of the recording's rows that day."""
    recorded = recorded_production()
    local_days = recorded["start_time"].dt.tz_convert(OSLO_TZ).dt.date
    latest = recorded.groupby([recorded["price_area"], local_days])["last_updated_time"].max()
    return {(area, day): stamp.value for (area, day), stamp in latest.items()}


def _runs(dataset_id: str, days: list[date], stamps: dict[str, np.ndarray], since: pd.Timestamp) -> list[FeedItem]:
    """Runs of equal stamps within a month, per area, that changed on or after `since`."""
    if not days:
        return []
    month_codes = np.array([d.year * 12 + d.month for d in days])
    items = []
    for area in PRICE_AREAS:
        values = stamps[area]
        breaks = np.flatnonzero((values[1:] != values[:-1]) | (month_codes[1:] != month_codes[:-1])) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(days)]):
            if values[lo] >= since.value:
                end = days[hi - 1] + timedelta(days=1)
                items.append(FeedItem(dataset_id, area, days[lo], end, pd.Timestamp(int(values[lo]), tz="UTC")))
    return items


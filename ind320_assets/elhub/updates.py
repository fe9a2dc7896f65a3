"""Elhub's `/updates` change feed: its items, and the partitions they touch.

`parse_updates` turns one `/updates` document into `Update`s; `touched_partitions`
maps them to the (month, price area) partition keys whose data changed, each
with the latest `lastUpdated` that touched it. What is public about the feed and
what is guessed is in docs/elhub_updates_api.md: the item's `attributes` are a
guess, so an item without them is read from what the public example does show
(`id`, `links.href`, `meta.lastUpdated`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
from dagster import MultiPartitionKey

from ind320_assets.domain import OSLO_TZ, PRICE_AREAS, ElhubDataset
from ind320_assets.elhub.errors import ElhubDataError
from ind320_assets.elhub.windows import local_midnight_utc
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.partitions import AREA_DIM, MONTH_DIM, MONTHS

# The only query parameters `ElhubClient.updates` sends.
UPDATES_PARAMETERS = ("dataset", "lastUpdated")
_OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ITEM_ID = re.compile(r"^(\d{8})_([A-Za-z_]+?)(?:_(NO[1-5]))?$")


@dataclass(frozen=True)
class Update:
    """One change the feed reports: `dataset_id`'s data of `[start, end)` changed at `last_updated`."""

    dataset_id: str  # upper case, e.g. PRODUCTION_PER_GROUP_MBA_HOUR
    price_area: str | None  # None: the item names no area, so it may touch every area
    start: pd.Timestamp  # UTC, first instant of the changed period
    end: pd.Timestamp  # UTC, exclusive
    last_updated: pd.Timestamp  # UTC

    @property
    def areas(self) -> tuple[str, ...]:
        return PRICE_AREAS if self.price_area is None else (self.price_area,)


def last_updated_param(since: datetime | pd.Timestamp) -> str:
    """`since` as the feed wants it: Oslo local time with its offset, `2021-03-01T00:00:00+01:00`."""
    stamp = pd.Timestamp(since)
    if stamp.tzinfo is None:
        raise ValueError(f"since {since!r} needs a time zone: a naive time is ambiguous")
    return stamp.tz_convert(OSLO_TZ).floor("s").isoformat()


def parse_updates(document: Any) -> list[Update]:
    """Validate one `/updates` document and return its items; `ElhubDataError` on anything else."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        keys = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise ElhubDataError(f"/updates response has no `data` list ({keys})")
    links = document.get("links")
    if isinstance(links, dict) and links.get("next"):
        # No paging is known; following it blindly could loop, ignoring it would miss updates.
        raise ElhubDataError(f"/updates response is paged (links.next = {links['next']!r}); paging is not supported")
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    return [_update(item, position, meta) for position, item in enumerate(document["data"])]


def touched_partitions(
    updates: Iterable[Update],
    dataset: ElhubDataset | None = None,
    current_time: datetime | None = None,
) -> dict[str, pd.Timestamp]:
    """{partition key: the latest lastUpdated touching it}, in partition order.

    A period names every month its local days overlap (a period across a month
    end names both months); an update without an area names all five areas.
    Months outside the partitions (before the first, after the current month at
    `current_time`) are left out. Only `dataset`'s updates count when it is given.
    """
    month_keys = MONTHS.get_partition_keys(current_time=current_time)
    windows = [MONTHS.time_window_for_partition_key(key) for key in month_keys]
    starts = [window.start.timestamp() for window in windows]
    ends = [window.end.timestamp() for window in windows]
    latest: dict[str, pd.Timestamp] = {}
    for update in updates:
        if dataset is not None and update.dataset_id != dataset.dataset_id:
            continue
        first = bisect_right(ends, update.start.timestamp())  # the first month ending after the start
        stop = bisect_left(starts, update.end.timestamp())  # the months starting before the end
        for month_key in month_keys[first:stop]:
            for area in update.areas:
                key = str(MultiPartitionKey({MONTH_DIM: month_key, AREA_DIM: area}))
                latest[key] = max(latest.get(key, update.last_updated), update.last_updated)
    return {key: latest[key] for key in PartitionSlice.from_keys(latest).keys}


def _update(item: Any, position: int, meta: dict[str, Any]) -> Update:
    if not isinstance(item, dict) or item.get("type") != "updates":
        raise ElhubDataError(f"/updates data[{position}] is not an item of type 'updates': {str(item)[:200]}")
    try:
        attributes = item.get("attributes")
        if isinstance(attributes, dict):
            update = _from_attributes(attributes)
        else:
            update = _from_id_and_link(item, meta)
    except (KeyError, TypeError, ValueError) as err:
        raise ElhubDataError(f"/updates data[{position}] cannot be read ({err}): {str(item)[:300]}") from err
    if update.price_area is not None and update.price_area not in PRICE_AREAS:
        raise ElhubDataError(f"/updates data[{position}] names price area {update.price_area!r}: {str(item)[:300]}")
    if not update.start < update.end:
        raise ElhubDataError(f"/updates data[{position}] has an empty or reversed period: {str(item)[:300]}")
    return update


def _from_attributes(attributes: dict[str, Any]) -> Update:
    """The replay's (guessed) item: every field spelled out."""
    return Update(
        dataset_id=str(attributes["dataset"]).upper(),
        price_area=attributes.get("priceArea"),
        start=_instant(attributes["startDate"], "startDate"),
        end=_instant(attributes["endDate"], "endDate"),
        last_updated=_instant(attributes["lastUpdated"], "lastUpdated"),
    )


def _from_id_and_link(item: dict[str, Any], meta: dict[str, Any]) -> Update:
    """An item as far as the public example shows it: `id`, a `links.href` to `/price-areas`."""
    match = _ITEM_ID.match(str(item["id"]))
    if match is None:
        raise ValueError(f"id {item['id']!r} is not YYYYMMDD_dataset")
    day = datetime.strptime(match[1], "%Y%m%d").date()
    href = (item.get("links") or {}).get("href", "")
    split = urlsplit(href)
    tail = split.path.rsplit("/price-areas", 1)[-1].strip("/") if "/price-areas" in split.path else ""
    query = {name: values[-1] for name, values in parse_qs(split.query).items()}
    start = _instant(query["startDate"], "startDate") if "startDate" in query else local_midnight_utc(day)
    end = _instant(query["endDate"], "endDate") if "endDate" in query else local_midnight_utc(day + timedelta(days=1))
    return Update(
        dataset_id=match[2].upper(),
        price_area=tail or match[3],
        start=start,
        end=end,
        last_updated=_instant(meta["lastUpdated"], "meta.lastUpdated"),
    )


def _instant(raw: Any, name: str) -> pd.Timestamp:
    """A UTC instant from an offset-carrying time, or from a date (its local midnight)."""
    text = str(raw)
    if _DATE.match(text):
        return local_midnight_utc(date.fromisoformat(text))
    if not _OFFSET_TIME.match(text):
        raise ValueError(f"{name} {text!r} is not a date or a time with an offset")
    return pd.Timestamp(text).tz_convert("UTC")

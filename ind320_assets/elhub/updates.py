"""Elhub's `/updates` change feed: its items, and the partitions they touch.

`parse_updates` turns one `/updates` document into `Update`s; `touched_partitions`
maps them to the (month, price area) partition keys whose data changed, each
with the latest `lastUpdated` that touched it. What is public about the feed and
what is guessed is in docs/elhub_updates_api.md: the item's `attributes` are a
guess, so each field falls back on its own to what the public example does show
(`id`, `links.href`, `meta.lastUpdated`), and an item that still names no
partition is left out and reported, not allowed to hide the rest of the feed.
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


class Updates(list[Update]):
    """The items of one `/updates` document, and why the ones left out could not be read.

    A list, so `ElhubClient.updates` hands it on unchanged and callers that want
    only the items need not know; `skipped` lets the sensor say what it left out.
    """

    def __init__(self, updates: Iterable[Update] = (), skipped: Iterable[str] = ()) -> None:
        super().__init__(updates)
        self.skipped = tuple(skipped)


def parse_updates(document: Any) -> Updates:
    """The items of one `/updates` document, each read field by field.

    The item's shape beyond `id` and `links.href` is a guess, so one odd item is
    left out (in `skipped`), not the whole feed: ElhubDataError only when the
    document is not a feed, is paged, or none of its items can be read, which
    means the format changed and the caller must not trust an empty answer.
    """
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        keys = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise ElhubDataError(f"/updates response has no `data` list ({keys})")
    links = _mapping(document.get("links"))
    if links.get("next"):
        # No paging is known; following it blindly could loop, ignoring it would miss updates.
        raise ElhubDataError(f"/updates response is paged (links.next = {links['next']!r}); paging is not supported")
    context = _DocumentContext(_mapping(document.get("meta")), _query(links.get("self")).get("dataset"))
    updates, skipped = [], []
    for position, item in enumerate(document["data"]):
        try:
            updates.append(_update(item, context))
        except ValueError as err:
            skipped.append(f"data[{position}] {err}: {str(item)[:200]}")
    if skipped and not updates:
        raise ElhubDataError(f"/updates: none of its {len(skipped)} item(s) can be read; the first: {skipped[0]}")
    return Updates(updates, skipped)


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


@dataclass(frozen=True)
class _DocumentContext:
    """What the whole document says that an item may leave out."""

    meta: dict[str, Any]
    dataset: str | None  # from `links.self`, when the request named one


def _update(item: Any, document: _DocumentContext) -> Update:
    """One item; each field from the first source that has it, ValueError when a field has none.

    Sources, best first: the (guessed) `attributes`; the public `links.href` to
    `/price-areas` (area in the path, `dataset`, `startDate`, `endDate` in the query);
    the public `id` (`YYYYMMDD_dataset`, maybe `_NOx`); the document's `links.self`
    and `meta.lastUpdated`.
    """
    if not isinstance(item, dict) or item.get("type", "updates") != "updates":
        raise ValueError("is not an item of type 'updates'")
    attributes = _mapping(item.get("attributes"))
    href = str(_mapping(item.get("links")).get("href") or "")
    query = _query(href)
    path = urlsplit(href).path
    href_area = path.rsplit("/price-areas", 1)[-1].strip("/") if "/price-areas" in path else ""
    id_match = _ITEM_ID.match(str(item.get("id", "")))
    id_dataset, id_area, day = (id_match[2], id_match[3], _id_day(id_match[1])) if id_match else (None, None, None)
    day_start = local_midnight_utc(day) if day else None
    day_end = local_midnight_utc(day + timedelta(days=1)) if day else None

    dataset = _first("dataset", attributes.get("dataset"), id_dataset, query.get("dataset"), document.dataset)
    area = _first_present(attributes.get("priceArea"), href_area, id_area)
    if area is not None and area not in PRICE_AREAS:
        raise ValueError(f"names price area {area!r}")
    update = Update(
        dataset_id=str(dataset).upper(),
        price_area=area,  # None: nothing names an area, so it may touch every area
        start=_first_instant("startDate", attributes.get("startDate"), query.get("startDate"), day_start),
        end=_first_instant("endDate", attributes.get("endDate"), query.get("endDate"), day_end),
        last_updated=_first_instant("lastUpdated", attributes.get("lastUpdated"), document.meta.get("lastUpdated")),
    )
    if not update.start < update.end:
        raise ValueError("has an empty or reversed period")
    return update


def _id_day(digits: str) -> date | None:
    try:
        return datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None


def _first_present(*candidates: Any) -> Any:
    return next((value for value in candidates if value), None)


def _first(name: str, *candidates: Any) -> Any:
    value = _first_present(*candidates)
    if value is None:
        raise ValueError(f"names no {name}")
    return value


def _first_instant(name: str, *candidates: Any) -> pd.Timestamp:
    """The first candidate that reads as an instant: an unreadable one falls back to the next."""
    problems = []
    for raw in candidates:
        if isinstance(raw, pd.Timestamp):
            return raw
        if raw:
            try:
                return _instant(raw, name)
            except ValueError as err:
                problems.append(str(err))
    raise ValueError("; ".join(problems) or f"names no {name}")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _query(url: Any) -> dict[str, str]:
    """The last value of each query parameter of `url`."""
    return {name: values[-1] for name, values in parse_qs(urlsplit(str(url or "")).query).items()}


def _instant(raw: Any, name: str) -> pd.Timestamp:
    """A UTC instant from an offset-carrying time, or from a date (its local midnight)."""
    text = str(raw)
    if _DATE.match(text):
        return local_midnight_utc(date.fromisoformat(text))
    if not _OFFSET_TIME.match(text):
        raise ValueError(f"{name} {text!r} is not a date or a time with an offset")
    return pd.Timestamp(text).tz_convert("UTC")

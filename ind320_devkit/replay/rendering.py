"""Frames -> byte-for-byte Elhub-shaped JSON:API documents.

Keys are in alphabetical order, as the real API sends them; times are
Norwegian local time with their offset (`2021-01-01T00:00:00+01:00`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from ind320_assets.domain import OSLO_TZ, PRICE_AREA_EIC, ElhubDataset
from ind320_devkit.replay.feed import FeedItem

PSEUDO_AREA = "*"
COUNTRY = "NO"


def local_iso(instants: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 local-time strings with a `+hh:mm` offset, one per instant."""
    index = pd.DatetimeIndex(instants)
    unique, positions = np.unique(index.asi8, return_inverse=True)
    text = pd.DatetimeIndex(unique, tz="UTC").tz_convert(OSLO_TZ).strftime("%Y-%m-%dT%H:%M:%S%z")
    with_colon = np.array([t[:-2] + ":" + t[-2:] for t in text], dtype=object)
    return with_colon[positions.reshape(-1)]


def local_iso_one(instant: pd.Timestamp) -> str:
    return str(local_iso(pd.DatetimeIndex([instant]))[0])


def price_areas_document(
    frame: pd.DataFrame,
    dataset: ElhubDataset,
    listed_areas: Sequence[str],
    with_pseudo_area: bool,
    self_link: str,
    created: pd.Timestamp,
) -> dict[str, Any]:
    """The `/price-areas` document for `frame`, which must be sorted by area, [group,] hour."""
    items = []
    if with_pseudo_area:
        items.append(_area_item(PSEUDO_AREA, PSEUDO_AREA, dataset.list_attribute, []))
    records_by_area = _records_by_area(frame, dataset)
    for area in listed_areas:
        items.append(_area_item(area, PRICE_AREA_EIC[area], dataset.list_attribute, records_by_area.get(area, [])))
    last_updated = frame["last_updated_time"].max() if len(frame) else created
    return {
        "data": items,
        "links": {"self": self_link},
        "meta": {"created": local_iso_one(created), "lastUpdated": local_iso_one(last_updated)},
    }


def updates_document(
    items: Sequence[FeedItem], api_base: str, self_link: str, created: pd.Timestamp
) -> dict[str, Any]:
    """The `/updates` document: one item per changed run of days (shape in docs/elhub_updates_api.md)."""
    # Times are formatted in one vectorised pass: a feed since 2021 holds ~10k items.
    starts = local_iso(_local_midnights([item.start for item in items]))
    ends = local_iso(_local_midnights([item.end for item in items]))
    stamps = local_iso(pd.DatetimeIndex([item.last_updated for item in items]))
    data = [_update_item(*row, api_base) for row in zip(items, starts, ends, stamps)]
    last_updated = max((item.last_updated for item in items), default=created)
    return {
        "data": data,
        "links": {"self": self_link},
        "meta": {"created": local_iso_one(created), "lastUpdated": local_iso_one(last_updated)},
    }


def groups_document(
    entity: str, groups: Sequence[tuple[str, str, str]], self_link: str, created: pd.Timestamp
) -> dict[str, Any]:
    """The `/production-groups` or `/consumption-groups` document for (id, name, description) triples."""
    data = [
        {"attributes": {"description": description, "name": name}, "id": group_id, "type": entity}
        for group_id, name, description in groups
    ]
    stamp = local_iso_one(created)
    return {"data": data, "links": {"self": self_link}, "meta": {"created": stamp, "lastUpdated": stamp}}


def errors_document(status: int, title: str, detail: str, self_link: str) -> dict[str, Any]:
    """A JSON:API error body like the API's."""
    return {"errors": [{"detail": detail, "links": {"self": self_link}, "status": str(status), "title": title}]}


def to_json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _update_item(item: FeedItem, start: str, end: str, last_updated: str, api_base: str) -> dict[str, Any]:
    # Dataset ids and ISO dates need no escaping.
    query = f"dataset={item.dataset_id}&startDate={item.start.isoformat()}&endDate={item.end.isoformat()}"
    return {
        "attributes": {
            "dataset": item.dataset_id,
            "endDate": end,
            "lastUpdated": last_updated,
            "priceArea": item.price_area,
            "startDate": start,
        },
        "id": f"{item.start:%Y%m%d}_{item.dataset_id.lower()}_{item.price_area}",
        "links": {"href": f"{api_base}/price-areas/{item.price_area}?{query}"},
        "type": "updates",
    }


def _local_midnights(days: Sequence[date]) -> pd.DatetimeIndex:
    """The UTC instants at which each local day begins."""
    return pd.DatetimeIndex([pd.Timestamp(day) for day in days]).tz_localize(OSLO_TZ).tz_convert("UTC")


def _area_item(area: str, eic: str, list_attribute: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "attributes": {"country": COUNTRY, "eic": eic, "name": area, list_attribute: records},
        "id": area,
        "type": "price-areas",
    }


def _records_by_area(frame: pd.DataFrame, dataset: ElhubDataset) -> dict[str, list[dict[str, Any]]]:
    if frame.empty:
        return {}
    columns: dict[str, Any] = {
        "startTime": local_iso(frame["start_time"]),
        "endTime": local_iso(frame["end_time"]),
        "lastUpdatedTime": local_iso(frame["last_updated_time"]),
        "priceArea": frame["price_area"].tolist(),
    }
    if dataset.group_field is not None:
        columns[dataset.group_field] = frame[dataset.group_column].tolist()
    for api_name, our_name in zip(dataset.quantity_fields, dataset.quantity_columns):
        columns[api_name] = frame[our_name].tolist()
    for api_name, our_name in dataset.extra_int_fields.items():
        columns[api_name] = frame[our_name].tolist()
    keys = sorted(columns)
    records = [dict(zip(keys, row)) for row in zip(*(columns[k] for k in keys))]
    by_area: dict[str, list[dict[str, Any]]] = {}
    for area, record in zip(columns["priceArea"], records):
        by_area.setdefault(area, []).append(record)
    return by_area

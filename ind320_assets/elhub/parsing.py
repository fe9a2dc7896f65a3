"""Elhub JSON:API documents -> validated pandas frames.

A response either passes every check and becomes a frame, or raises
`ElhubDataError` naming what was wrong; there is no partially parsed frame.
Timestamps are parsed with their own offsets and converted to UTC, so the two
`02:00` hours of a fall-back night stay distinct.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ind320_assets.domain import UNSPECIFIED_GROUP, ElhubDataset
from ind320_assets.elhub.errors import ElhubDataError
from ind320_assets.elhub.schema import conform
from ind320_assets.elhub.windows import DateWindow, local_midnight_utc

PSEUDO_AREA_ID = "*"  # Elhub's all-areas placeholder item; it never carries records.
TIMESTAMP_FIELDS = ("startTime", "endTime", "lastUpdatedTime")
# ISO 8601 with an explicit offset; a string without one would silently be read as UTC.
_OFFSET_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)$"
_ONE_HOUR = pd.Timedelta(hours=1)
_EXAMPLES = 3  # how many offending records an error message quotes


def required_fields(dataset: ElhubDataset) -> tuple[str, ...]:
    """Record fields that must be present in every record of `dataset`."""
    group = () if dataset.group_field is None else (dataset.group_field,)
    return (*TIMESTAMP_FIELDS, "priceArea", *group, *dataset.quantity_fields, *dataset.extra_int_fields)


def parse_price_areas(
    document: Any,
    dataset: ElhubDataset,
    window: DateWindow,
    allowed_areas: Collection[str],
) -> pd.DataFrame:
    """Validate one `/price-areas` response for `window` and return its records as a frame.

    `allowed_areas` are the area items this route may return; any other item is
    an error. The caller filters further if it wanted fewer areas.
    """
    items = _data_items(document)
    records: list[dict[str, Any]] = []
    item_ids: list[str] = []
    for position, item in enumerate(items):
        area_id, item_records = _area_item(item, position, dataset)
        if area_id == PSEUDO_AREA_ID:
            continue
        if area_id not in allowed_areas:
            raise ElhubDataError(
                f"response holds price area {area_id!r}, but only {sorted(allowed_areas)} were asked for"
            )
        records.extend(item_records)
        item_ids.extend([area_id] * len(item_records))
    return _records_frame(records, item_ids, dataset, window)


def _data_items(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        raise ElhubDataError(f"response is a {type(document).__name__}, not a JSON:API object")
    data = document.get("data")
    if not isinstance(data, list):
        raise ElhubDataError(f"response has no `data` list; its top-level keys are {sorted(document)}")
    return data


def _area_item(item: Any, position: int, dataset: ElhubDataset) -> tuple[str, list[Any]]:
    """The id and record list of one `data[]` item, after checking its shape."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise ElhubDataError(f"data[{position}] is not an item with a string `id`: {str(item)[:200]}")
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        raise ElhubDataError(f"data[{position}] (id {item['id']!r}) has no `attributes` object")
    item_records = attributes.get(dataset.list_attribute)
    if not isinstance(item_records, list):
        raise ElhubDataError(
            f"data[{position}] (id {item['id']!r}) has no `{dataset.list_attribute}` list; "
            f"attributes are {sorted(attributes)} (wrong dataset?)"
        )
    return item["id"], item_records


def _records_frame(
    records: list[Any], item_ids: list[str], dataset: ElhubDataset, window: DateWindow
) -> pd.DataFrame:
    column = _columns(records, item_ids, required_fields(dataset))

    areas = np.array(column["priceArea"], dtype=object)
    _fail_where(areas != np.array(item_ids, dtype=object), "priceArea differs from its area item", records)
    columns: dict[str, Any] = {"price_area": areas}
    if dataset.group_field is not None:
        groups = np.array(column[dataset.group_field], dtype=object)
        allowed_groups = np.array([*dataset.groups, UNSPECIFIED_GROUP], dtype=object)
        _fail_where(
            ~np.isin(groups, allowed_groups), f"{dataset.group_field} is not one of {list(allowed_groups)}", records
        )
        columns[dataset.group_column] = groups
        columns["is_unspecified_group"] = groups == UNSPECIFIED_GROUP

    for api_name, our_name in zip(dataset.quantity_fields, dataset.quantity_columns):
        quantity = _numbers(column[api_name], api_name, records)
        if dataset.signed_quantities:
            _fail_where(~np.isfinite(quantity), f"{api_name} is not a finite number", records)
        else:
            _fail_where(~np.isfinite(quantity) | (quantity < 0), f"{api_name} is not a finite number >= 0", records)
        columns[our_name] = quantity

    times = {name: _utc_times(column[name], name, records) for name in TIMESTAMP_FIELDS}
    start, end = times["startTime"], times["endTime"]
    _fail_where((end - start) != _ONE_HOUR, "endTime is not startTime + 1 hour", records)
    _fail_where(start != start.floor("h"), "startTime is not on a whole hour", records)
    window_start, window_end = local_midnight_utc(window.start), local_midnight_utc(window.end)
    _fail_where(
        (start < window_start) | (start >= window_end),
        f"startTime is outside the requested window {window.start}..{window.end} (did the API ignore the dates?)",
        records,
    )

    frame = pd.DataFrame(
        {**columns, "start_time": start, "end_time": end, "last_updated_time": times["lastUpdatedTime"]}
    )
    for api_name, our_name in dataset.extra_int_fields.items():
        counts = _integers(column[api_name], api_name, records)
        _fail_where(counts < 0, f"{api_name} is negative", records)
        frame[our_name] = counts
    return conform(frame, dataset)


def _columns(records: list[Any], item_ids: list[str], fields: Sequence[str]) -> dict[str, list[Any]]:
    """Field name -> values of all records; any missing or null field is an error."""
    try:
        columns = {name: [record[name] for record in records] for name in fields}
    except (KeyError, TypeError):
        _raise_for_incomplete_record(records, item_ids, fields)
        raise
    for name, values in columns.items():
        if None in values:
            index = values.index(None)
            raise ElhubDataError(f"record {index} of area {item_ids[index]} has a null {name}: {records[index]}")
    return columns


def _raise_for_incomplete_record(records: list[Any], item_ids: list[str], fields: Sequence[str]) -> None:
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ElhubDataError(f"record {index} of area {item_ids[index]} is not an object: {record!r}")
        missing = [name for name in fields if name not in record]
        if missing:
            raise ElhubDataError(f"record {index} of area {item_ids[index]} lacks {missing}: {record}")


def _numbers(values: list[Any], name: str, records: list[Any]) -> np.ndarray:
    """A float array, refusing strings and booleans rather than coercing them."""
    is_number = np.fromiter((type(v) in (int, float) for v in values), dtype=bool, count=len(values))
    _fail_where(~is_number, f"{name} is not a JSON number", records)
    return np.asarray(values, dtype="float64")


def _integers(values: list[Any], name: str, records: list[Any]) -> np.ndarray:
    is_integer = np.fromiter((type(v) is int for v in values), dtype=bool, count=len(values))
    _fail_where(~is_integer, f"{name} is not a JSON integer", records)
    return np.asarray(values, dtype="int64")


def _utc_times(values: list[Any], name: str, records: list[Any]) -> pd.DatetimeIndex:
    """UTC instants of offset-carrying ISO strings.

    Parsed once per distinct string: a month holds ~18k records but only
    ~750 distinct hours, which makes this many times faster.
    """
    is_text = np.fromiter((type(v) is str for v in values), dtype=bool, count=len(values))
    _fail_where(~is_text, f"{name} is not a string", records)
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    well_formed = pd.Series(distinct, dtype=object).str.match(_OFFSET_TIMESTAMP).to_numpy(dtype=bool)
    _fail_where(~well_formed[codes], f"{name} is not an ISO 8601 timestamp with an offset", records)
    try:
        parsed = pd.DatetimeIndex(pd.to_datetime(pd.Series(distinct, dtype=object), format="ISO8601", utc=True))
    except (ValueError, OverflowError) as err:
        raise ElhubDataError(f"{name} could not be parsed: {err}") from err
    return parsed.take(codes)


def _fail_where(bad: np.ndarray, problem: str, records: list[Any]) -> None:
    """Raise `ElhubDataError` quoting a few records where `bad` is true."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    positions = np.flatnonzero(bad)
    examples = "; ".join(str(records[i]) for i in positions[:_EXAMPLES])
    raise ElhubDataError(f"{len(positions)} record(s): {problem}. For example: {examples}")

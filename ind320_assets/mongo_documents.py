"""The MongoDB document model: one document per series and local day.

FerretDB 1.24 pays mostly per document, not per value: a year of production as
215,353 hourly documents took 11.8 s to insert and 14 s to read back; as 8,973
day documents holding the same values, 1.7 s and 3.5 s (bench/README.md). So the
rows are stored as
MongoDB's bucket pattern: one document per (price area, [group,] local day of
Europe/Oslo), the day's hours as parallel arrays in start-time order, one
element per row: 24 of them, 23 or 25 on the days clocks change.

    {_id: "NO1|hydro|2021-03-28", price_area: "NO1", month: "2021-03",
     production_group: "hydro", day: "2021-03-28",
     revision: <latest last_updated_time>, revision_sum: <their sum, ms>,
     start_time: [23 UTC datetimes], end_time: [...], last_updated_time: [...],
     quantity_kwh: [23 numbers]}

`revision` and `revision_sum` order writers (`revisions.py`): a document is only
ever replaced by one whose `revision_sum` is not smaller (`mongo_sync`).

A local day lies in one local month, so every document belongs to one partition
(`price_area`, `month`), and the `_id`s a partition can hold are its series'
days: 186 for a month of production, where hourly documents needed 4,464.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import chain, product
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pymongo.collection import Collection

from ind320_assets.mongo_sync import read_slice
from ind320_assets.partition_slice import local_day_label
from ind320_assets.revisions import REVISION_COLUMN, REVISION_FIELD, REVISION_SUM_FIELD, revision_ms
from ind320_assets.row_schema import PARTITION_COLUMNS, RowSchema

if TYPE_CHECKING:
    from ind320_assets.partition_slice import MonthArea, PartitionSlice

DAY = "day"  # the local date, `YYYY-MM-DD`, one field of every document


def day_fields(schema: RowSchema) -> list[str]:
    """The fields a document holds once: its series, its partition and its day."""
    return [*schema.series_columns, *(c for c in PARTITION_COLUMNS if c not in schema.series_columns), DAY]


def hour_fields(schema: RowSchema) -> list[str]:
    """The fields a document holds as arrays, one element per hour, `start_time` first."""
    start = schema.row_key[-1]
    return [start, *(c for c in schema.names if c not in schema.series_columns and c not in PARTITION_COLUMNS and c != start)]


def document_ids(frame: pd.DataFrame, schema: RowSchema, days: pd.Series | None = None) -> pd.Series:
    """Each row's document `_id`, `area|group|day` or `area|day` without groups."""
    ids = local_day_label(frame[schema.row_key[-1]]) if days is None else days
    for column in reversed(schema.series_columns):
        ids = frame[column] + "|" + ids
    return ids


def to_documents(frame: pd.DataFrame, schema: RowSchema) -> list[dict]:
    """The rows as day documents, built column-wise (a Python loop per row cost ~4 s for a year)."""
    if frame.empty:
        return []
    start = schema.row_key[-1]
    days = local_day_label(frame[start])
    keyed = frame.assign(_id=document_ids(frame, schema, days), **{DAY: days}).sort_values(["_id", start], kind="stable")
    firsts = np.flatnonzero(keyed["_id"].ne(keyed["_id"].shift()).to_numpy())
    bounds = list(zip(firsts.tolist(), [*firsts[1:].tolist(), len(keyed)]))
    once = {f: keyed[f].to_numpy()[firsts].tolist() for f in ["_id", *day_fields(schema)]}
    revisions = revision_ms(keyed[REVISION_COLUMN]).to_numpy()
    once[REVISION_FIELD] = pd.to_datetime(np.maximum.reduceat(revisions, firsts), unit="ms", utc=True).to_pydatetime().tolist()
    once[REVISION_SUM_FIELD] = np.add.reduceat(revisions, firsts).tolist()
    timestamps = {c.name for c in schema.columns if c.kind == "timestamp"}
    # Timestamps as datetimes, which pymongo encodes as BSON dates.
    hourly = {
        f: pd.DatetimeIndex(keyed[f]).to_pydatetime().tolist() if f in timestamps else keyed[f].tolist()
        for f in hour_fields(schema)
    }
    return [
        {**{f: values[i] for f, values in once.items()}, **{f: values[a:b] for f, values in hourly.items()}}
        for i, (a, b) in enumerate(bounds)
    ]


def to_rows(documents: list[dict], schema: RowSchema) -> pd.DataFrame:
    """The rows of day documents, one per array element, in the schema's columns."""
    hours = hour_fields(schema)
    lengths = [len(d[hours[0]]) for d in documents]
    columns = {
        **{f: np.repeat(np.array([d[f] for d in documents], dtype=object), lengths) for f in day_fields(schema)},
        **{f: list(chain.from_iterable(d[f] for d in documents)) for f in hours},
    }
    frame = pd.DataFrame(columns, columns=[*day_fields(schema), *hours])
    for column in (c.name for c in schema.columns if c.kind == "timestamp"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame[schema.names].astype({c.name: "float64" for c in schema.columns if c.kind == "double"})


def possible_ids(schema: RowSchema, partitions: Iterable[MonthArea]) -> Iterator[str]:
    """Every `_id` a document of these partitions can have, partition by partition: each
    series the schema allows (the parser refuses any other group) on each local day of
    the partition's month. Built as they are read."""
    for p in partitions:
        days = pd.date_range(p.month_start, p.month_end, freq="D", inclusive="left").strftime("%Y-%m-%d")
        yield from map("|".join, product([p.price_area], *_group_values(schema), days))


def possible_id_count(schema: RowSchema, partitions: Iterable[MonthArea]) -> int:
    """How many ids `possible_ids` gives, without building them."""
    return math.prod(len(v) for v in _group_values(schema)) * sum((p.month_end - p.month_start).days for p in partitions)


def read_partitions(
    collection: Collection, schema: RowSchema, partitions: PartitionSlice, projection: dict | None = None
) -> list[dict]:
    """The documents of `partitions`, read as `mongo_sync.read_slice` decides, over every `_id` they can hold."""
    return read_slice(
        collection, partitions.mongo_filter(), possible_ids(schema, partitions),
        possible_id_count(schema, partitions), projection,
    )


def _group_values(schema: RowSchema) -> list[list[str]]:
    """The values each group column may hold (none without groups)."""
    return [sorted(schema.column(group).allowed) for group in schema.series_columns[1:]]


def indexes(schema: RowSchema) -> list:  # -> list[pymongo.IndexModel]
    from pymongo import ASCENDING, IndexModel

    unique_name = "area_group_day_unique" if schema.group_column else "area_day_unique"
    return [
        IndexModel([(c, ASCENDING) for c in [*schema.series_columns, DAY]], unique=True, name=unique_name),
        IndexModel([(c, ASCENDING) for c in PARTITION_COLUMNS], name="area_month"),
    ]


# The unique index of hourly documents, the layout before day documents. It must go
# before the first day document comes in: MongoDB indexes each element of an array,
# so a day document would collide with the hourly documents of its own hours.
HOURLY_LAYOUT_INDEXES = ("area_group_start_unique", "area_start_unique")
# Takes its place while hourly documents remain, which a write of their partition removes.
UPGRADE_MARKER = "hourly_documents_remain"

"""The (month, price area) partitions one run handles, built once from its keys.

A single-run backfill hands an asset, an IO manager or a check many partition
keys at once. `PartitionSlice.from_keys(context.asset_partition_keys)` reads
them through Dagster's own API (`keys_by_dimension`, the month dimension's time
window) and owns everything derived from them: the (month, area) pairs, each
store's predicate, the fetch plan, the key each row belongs to, and the guard
against rows outside the run. Every Cassandra and MongoDB partition is one
(area, month) pair, so predicates are per pair, never a cross product.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import pandas as pd
from dagster import MultiPartitionKey

from ind320_assets.domain import OSLO_TZ, PRICE_AREAS
from ind320_assets.partitions import AREA_DIM, ELHUB_PARTITIONS, MONTH_DIM, MONTHS


@dataclass(frozen=True, order=True)
class MonthArea:
    """One partition: a local month of one price area."""

    month_start: date
    month_end: date  # exclusive: the first day of the next month
    price_area: str

    @property
    def month(self) -> str:
        """The `YYYY-MM` label stored in the tables' `month` column."""
        return self.month_start.strftime("%Y-%m")

    @property
    def key(self) -> str:
        return str(MultiPartitionKey({MONTH_DIM: self.month_start.strftime(MONTHS.fmt), AREA_DIM: self.price_area}))

    @property
    def pair(self) -> tuple[str, str]:
        """(price_area, month): the Cassandra partition key, and MongoDB's partition fields."""
        return self.price_area, self.month


@dataclass(frozen=True)
class FetchWindow:
    """One `client.fetch` call: local dates [start, end) for `areas`."""

    start: date
    end: date
    areas: tuple[str, ...]


@dataclass(frozen=True)
class PartitionSlice:
    partitions: tuple[MonthArea, ...]

    @classmethod
    def from_keys(cls, keys: Iterable[str]) -> PartitionSlice:
        """Partition keys (strings or `MultiPartitionKey`s) as a slice, with a clear error for a bad key."""
        return cls(tuple(sorted({_month_area(key) for key in keys})))

    @classmethod
    def of(cls, months: Iterable[date], areas: Iterable[str] = PRICE_AREAS) -> PartitionSlice:
        """Every (month, area) of `months` × `areas`: what a sensor or a schedule looks at."""
        return cls.from_keys(
            MultiPartitionKey({MONTH_DIM: m.strftime(MONTHS.fmt), AREA_DIM: a}) for m in months for a in areas
        )

    def __len__(self) -> int:
        return len(self.partitions)

    def __iter__(self):
        return iter(self.partitions)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.partitions]

    @cached_property
    def _by_pair(self) -> dict[tuple[str, str], MonthArea]:
        return {p.pair: p for p in self.partitions}

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """(price_area, month) per partition: bind these to `price_area = ? AND month = ?`."""
        return list(self._by_pair)

    def months_by_area(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for area, month in self.pairs:
            grouped.setdefault(area, []).append(month)
        return dict(sorted(grouped.items()))

    def mongo_filter(self) -> dict:
        """One `price_area` equality per area with its months: exact, never a cross product."""
        clauses = [{"price_area": a, "month": {"$in": m}} for a, m in self.months_by_area().items()]
        return clauses[0] if len(clauses) == 1 else {"$or": clauses}

    def cql_read_back(self, table: str) -> str:
        """The CQL a person can paste into cqlsh to see what the run wrote."""
        return "\n".join(
            f"SELECT * FROM {table} WHERE price_area = '{area}' AND month = '{month}';" for area, month in self.pairs
        )

    def fetch_plan(self) -> list[FetchWindow]:
        """As few `client.fetch` calls as cover the slice exactly.

        Months that want the same set of areas and follow each other become one
        call `[first month, month after last)`; the client then sends one request
        per month for all those areas. A year for all areas is one call, 12 requests.
        """
        areas_by_month: dict[tuple[date, date], set[str]] = {}
        for p in self.partitions:
            areas_by_month.setdefault((p.month_start, p.month_end), set()).add(p.price_area)
        plan: list[FetchWindow] = []
        for (start, end), areas in sorted(areas_by_month.items()):
            wanted = tuple(sorted(areas))
            if plan and plan[-1].end == start and plan[-1].areas == wanted:
                plan[-1] = FetchWindow(plan[-1].start, end, wanted)
            else:
                plan.append(FetchWindow(start, end, wanted))
        return plan

    def row_keys(self, frame: pd.DataFrame) -> pd.Series:
        """Each row's partition key, from its `price_area` and its local month (`month`
        when the frame has it, else derived from `start_time`). Refuses a frame holding
        rows of partitions outside this run."""
        if frame.empty:
            return pd.Series([], dtype=object, index=frame.index)
        months = frame["month"] if "month" in frame else local_month_label(frame["start_time"])
        pairs = list(zip(frame["price_area"], months))
        key_by_pair = {pair: p.key for pair, p in self._by_pair.items()}
        outside = sorted(set(pairs) - key_by_pair.keys())
        if outside:
            raise ValueError(f"Refusing rows outside this run's partitions (area, month): {outside[:5]}")
        return pd.Series([key_by_pair[pair] for pair in pairs], index=frame.index, dtype=object)

    def split(self, frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """{partition key: its rows} for every partition of the slice, empty ones included."""
        by_key = dict(iter(frame.groupby(self.row_keys(frame), sort=False))) if len(frame) else {}
        return {p.key: by_key.get(p.key, frame.iloc[0:0]).reset_index(drop=True) for p in self.partitions}

    def guard(self, frame: pd.DataFrame) -> None:
        """Refuse a frame holding rows of partitions outside this run."""
        self.row_keys(frame)


def _month_area(key: str) -> MonthArea:
    try:
        dimensions = ELHUB_PARTITIONS.get_partition_key_from_str(str(key)).keys_by_dimension
        month_key, area = dimensions[MONTH_DIM], dimensions[AREA_DIM]
        window = MONTHS.time_window_for_partition_key(month_key)
    except Exception:  # noqa: BLE001 - Dagster raises several types for a malformed key
        month_key, area, window = None, None, None
    if window is None or window.start.strftime(MONTHS.fmt) != month_key or area not in PRICE_AREAS:
        raise ValueError(
            f"Partition key {str(key)!r} is not of the form 'YYYY-MM-01|NO1' "
            f"(a month's first day and one of {', '.join(PRICE_AREAS)})"
        )
    return MonthArea(window.start.date(), window.end.date(), area)


def local_month_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM` of each UTC instant in Oslo time: the month an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    codes = local.dt.year * 100 + local.dt.month
    # Formats each distinct value once: `dt.strftime` formats every row in Python.
    return codes.map({c: f"{int(c) // 100:04d}-{int(c) % 100:02d}" for c in codes.unique()}).astype(object)


def local_day_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM-DD` of each UTC instant in Oslo time: the day an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    codes = local.dt.year * 10_000 + local.dt.month * 100 + local.dt.day
    # Formats each distinct value once: `dt.strftime` formats every row in Python.
    return codes.map({c: f"{int(c) // 10_000:04d}-{int(c) // 100 % 100:02d}-{int(c) % 100:02d}" for c in codes.unique()}).astype(object)

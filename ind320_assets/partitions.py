"""Every Elhub asset is partitioned by local month × price area.

Dagster joins a multi-partition key's values in alphabetical order of the
dimension names, so `month` and `price_area` give CLI keys like `2021-01-01|NO1`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
from dagster import MonthlyPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition

from ind320_assets.domain import FIRST_MONTH, OSLO_TZ, PRICE_AREAS

MONTH_DIM = "month"
AREA_DIM = "price_area"

ELHUB_PARTITIONS = MultiPartitionsDefinition(
    {
        # end_offset=1 includes the current, still-growing month.
        MONTH_DIM: MonthlyPartitionsDefinition(start_date=FIRST_MONTH, timezone=OSLO_TZ, end_offset=1),
        AREA_DIM: StaticPartitionsDefinition(list(PRICE_AREAS)),
    }
)


@dataclass(frozen=True, order=True)
class ElhubPartition:
    """One (local month, price area) slice of a dataset."""

    month_start: date
    price_area: str

    @property
    def key(self) -> str:
        return f"{self.month_start.isoformat()}|{self.price_area}"

    @property
    def month(self) -> str:
        """The `YYYY-MM` label stored in the tables' `month` column."""
        return self.month_start.strftime("%Y-%m")

    @property
    def month_end(self) -> date:
        """The first day of the next month: the exclusive end of the local window."""
        return next_month_start(self.month_start)

    @classmethod
    def from_key(cls, key: str) -> ElhubPartition:
        """Parse `2021-01-01|NO1` (or a MultiPartitionKey), with a clear error if malformed."""
        parts = str(key).split("|")
        if len(parts) != 2:
            raise ValueError(f"Partition key {key!r} is not of the form 'YYYY-MM-01|NO1'")
        month_text, area = parts
        try:
            month_start = date.fromisoformat(month_text)
        except ValueError:
            raise ValueError(f"Partition key {key!r}: {month_text!r} is not a date YYYY-MM-01") from None
        if month_start.day != 1 or area not in PRICE_AREAS:
            raise ValueError(f"Partition key {key!r}: want the first of a month and one of {PRICE_AREAS}")
        return cls(month_start, area)


def next_month_start(month_start: date) -> date:
    return date(month_start.year + month_start.month // 12, month_start.month % 12 + 1, 1)


def parse_partition_keys(keys: Iterable[str]) -> list[ElhubPartition]:
    return sorted({ElhubPartition.from_key(k) for k in keys})


def local_month_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM` of each UTC instant in Oslo time: the month an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    return _labels(local.dt.year * 100 + local.dt.month, lambda c: f"{c // 100:04d}-{c % 100:02d}")


def local_day_label(utc_times: pd.Series) -> pd.Series:
    """The `YYYY-MM-DD` of each UTC instant in Oslo time: the day an hour belongs to."""
    local = utc_times.dt.tz_convert(OSLO_TZ)
    code = local.dt.year * 10_000 + local.dt.month * 100 + local.dt.day
    return _labels(code, lambda c: f"{c // 10_000:04d}-{c // 100 % 100:02d}-{c % 100:02d}")


def _labels(codes: pd.Series, label: Callable[[int], str]) -> pd.Series:
    # Formats each distinct value once: `dt.strftime` formats every row in Python,
    # ~0.9 s for a year of production, this ~0.02 s.
    return codes.map({code: label(int(code)) for code in codes.unique()}).astype(object)


def partition_key_column(frame: pd.DataFrame) -> pd.Series:
    """Each row's partition key, from its `price_area` and local `start_time`."""
    return local_month_label(frame["start_time"]) + "-01|" + frame["price_area"].astype(str)

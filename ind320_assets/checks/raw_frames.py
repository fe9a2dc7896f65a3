"""Judge a raw Elhub frame before it may flow downstream.

Each function returns `(passed, metadata)`; the asset turns that into an
`AssetCheckResult`. Nothing here changes the data.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ind320_assets.domain import OSLO_TZ
from ind320_assets.partitions import ElhubPartition, partition_key_column

CheckOutcome = tuple[bool, dict]


def expected_hours_utc(start: date, end: date) -> pd.DatetimeIndex:
    """Every local hour of [start, end) in Oslo, as UTC instants (23- and 25-hour days included)."""
    local = pd.date_range(
        pd.Timestamp(start, tz=OSLO_TZ), pd.Timestamp(end, tz=OSLO_TZ), freq="h", inclusive="left"
    )
    return local.tz_convert("UTC")


def check_no_duplicate_keys(frame: pd.DataFrame, group_column: str) -> CheckOutcome:
    key = ["price_area", group_column, "start_time"]
    duplicated = frame[frame.duplicated(key, keep=False)]
    return duplicated.empty, {"duplicate_rows": len(duplicated)}


def check_quantities_valid(frame: pd.DataFrame) -> CheckOutcome:
    quantity = frame["quantity_kwh"].to_numpy(dtype=float)
    bad = ~np.isfinite(quantity) | (quantity < 0)
    return not bad.any(), {"invalid_quantities": int(bad.sum())}


def check_hours_complete(
    frame: pd.DataFrame, group_column: str, partitions: list[ElhubPartition], published_until: pd.Timestamp
) -> CheckOutcome:
    """Every series in each partition has every local hour of its month.

    Allowed, and reported: a series that starts late and is complete from then
    on (NO5 wind began 2021-06-02), and the unpublished tail of the current
    month (hours at or after `published_until`). Any hole is a failure.
    """
    keyed = frame.assign(_partition=partition_key_column(frame)) if len(frame) else frame.assign(_partition=[])
    late_starts: dict[str, str] = {}
    gaps: dict[str, int] = {}
    series_checked = 0
    for p in partitions:
        expected = expected_hours_utc(p.month_start, p.month_end)
        expected = expected[expected < published_until]
        rows = keyed[keyed["_partition"] == p.key]
        for group, series in rows.groupby(group_column):
            series_checked += 1
            present = pd.DatetimeIndex(series["start_time"])
            missing = expected.difference(present)
            if missing.empty:
                continue
            name = f"{p.key} {group}"
            if missing.max() < present.min():
                late_starts[name] = present.min().isoformat()
            else:
                gaps[name] = len(missing)
    metadata = {"series_checked": series_checked, "late_starts": late_starts, "gaps": gaps}
    return not gaps, metadata

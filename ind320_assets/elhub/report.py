"""What a fetch found besides the rows: duplicates, late starts, gaps.

Nothing here repairs data silently. Identical duplicates are dropped and
counted; conflicting duplicates are an error; missing hours are reported and
never filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from ind320_assets.domain import ElhubDataset
from ind320_assets.elhub.errors import ElhubDataError
from ind320_assets.elhub.schema import row_key_columns, series_key_columns
from ind320_assets.elhub.windows import expected_local_hours

SeriesKey = tuple[str, ...]  # (price area, group), or (price area,) for a dataset without groups


@dataclass(frozen=True)
class FetchReport:
    """Facts about one fetch; `as_metadata()` gives them as plain JSON values."""

    dataset_id: str
    start: date
    end: date
    areas: tuple[str, ...]
    requests_made: int
    rows: int
    expected_hours_per_series: int
    duplicates_dropped: int = 0
    # Rows per series actually received.
    series_rows: dict[SeriesKey, int] = field(default_factory=dict)
    # Series with fewer rows than the window's local hours, and by how many.
    missing_hours: dict[SeriesKey, int] = field(default_factory=dict)
    # Series whose first hour is after the window start (e.g. NO5 wind in June 2021).
    late_starts: dict[SeriesKey, pd.Timestamp] = field(default_factory=dict)
    # Series whose last hour is before the window's last hour.
    early_ends: dict[SeriesKey, pd.Timestamp] = field(default_factory=dict)
    # Hours missing between a series' first and last hour.
    gaps: dict[SeriesKey, list[pd.Timestamp]] = field(default_factory=dict)
    # Base series (area x base group, or area) with no rows at all in the window.
    absent_series: tuple[SeriesKey, ...] = ()

    def as_metadata(self) -> dict[str, Any]:
        """The report as JSON-ready values, with series keys written `AREA/group` (or `AREA`)."""

        def key(series: SeriesKey) -> str:
            return "/".join(series)

        return {
            "dataset": self.dataset_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "areas": list(self.areas),
            "requests_made": self.requests_made,
            "rows": self.rows,
            "expected_hours_per_series": self.expected_hours_per_series,
            "duplicates_dropped": self.duplicates_dropped,
            "series_rows": {key(k): v for k, v in self.series_rows.items()},
            "missing_hours": {key(k): v for k, v in self.missing_hours.items()},
            "late_starts": {key(k): v.isoformat() for k, v in self.late_starts.items()},
            "early_ends": {key(k): v.isoformat() for k, v in self.early_ends.items()},
            "gaps": {key(k): [h.isoformat() for h in hours] for k, hours in self.gaps.items()},
            "absent_series": [key(k) for k in self.absent_series],
        }


@dataclass(frozen=True)
class FetchResult:
    """The validated frame of a fetch and the report that goes with it."""

    frame: pd.DataFrame
    report: FetchReport


def drop_identical_duplicates(frame: pd.DataFrame, dataset: ElhubDataset) -> tuple[pd.DataFrame, int]:
    """Drop rows that repeat another row exactly; conflicting repeats raise `ElhubDataError`."""
    keys = row_key_columns(dataset)
    exact = frame.duplicated(keep="first")
    deduplicated = frame[~exact]
    conflicting = deduplicated.duplicated(subset=keys, keep=False)
    if conflicting.any():
        examples = deduplicated[conflicting].head(6).to_dict("records")
        raise ElhubDataError(
            f"{int(conflicting.sum())} rows share a {tuple(keys)} key with different values: {examples}"
        )
    return deduplicated.reset_index(drop=True), int(exact.sum())


@dataclass(frozen=True)
class Completeness:
    """How each series covers the window's local hours."""

    expected_hours_per_series: int
    series_rows: dict[SeriesKey, int]
    missing_hours: dict[SeriesKey, int]
    late_starts: dict[SeriesKey, pd.Timestamp]
    early_ends: dict[SeriesKey, pd.Timestamp]
    gaps: dict[SeriesKey, list[pd.Timestamp]]
    absent_series: tuple[SeriesKey, ...]


def assess_completeness(
    frame: pd.DataFrame, dataset: ElhubDataset, start: date, end: date, areas: tuple[str, ...]
) -> Completeness:
    """Compare every series in `frame` with the local hours of `[start, end)`."""
    expected = expected_local_hours(start, end)
    series_rows: dict[SeriesKey, int] = {}
    missing: dict[SeriesKey, int] = {}
    late: dict[SeriesKey, pd.Timestamp] = {}
    early: dict[SeriesKey, pd.Timestamp] = {}
    gaps: dict[SeriesKey, list[pd.Timestamp]] = {}
    for names, hours in frame.groupby(series_key_columns(dataset), sort=True)["start_time"]:
        series = tuple(str(name) for name in names)
        present = pd.DatetimeIndex(hours)
        series_rows[series] = len(present)
        if len(present) < len(expected):
            missing[series] = len(expected) - len(present)
        first, last = present.min(), present.max()
        if first > expected[0]:
            late[series] = first
        if last < expected[-1]:
            early[series] = last
        span = expected[(expected >= first) & (expected <= last)]
        holes = span.difference(present)
        if len(holes):
            gaps[series] = list(holes)
    absent = tuple(series for series in dataset.expected_series(areas) if series not in series_rows)
    return Completeness(len(expected), series_rows, missing, late, early, gaps, absent)

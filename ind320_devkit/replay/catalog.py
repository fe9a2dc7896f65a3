"""Everything the replay would serve, as frames: generated + recorded + revisions.

`ReplayCatalog.frame(...)` is the single source of truth: the HTTP server
renders exactly these rows (plus any injected faults), and tests compare what
the client fetched with the same call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from ind320_assets.domain import (
    DATASETS,
    FIRST_MONTH,
    OSLO_TZ,
    PRICE_AREAS,
    PRODUCTION,
    UNSPECIFIED_GROUP,
    ElhubDataset,
)
from ind320_devkit.replay.generator import SeriesYear, series_year
from ind320_devkit.replay.publication import FINAL_VERSION, published_end, published_version
from ind320_devkit.replay.recorded import RECORDED_END, RECORDED_START, recorded_production
from ind320_assets.elhub.schema import conform, empty_frame
from ind320_assets.elhub.windows import first_of_next_month, local_midnight_utc

FIRST_HOUR = local_midnight_utc(date.fromisoformat(FIRST_MONTH))
DEFAULT_WINDOW = pd.Timedelta(days=30)


@dataclass(frozen=True)
class Revision:
    """A republication of one dataset's month for some areas, with scaled quantities."""

    dataset_id: str
    month: date  # first day of the local month
    areas: frozenset[str]
    factor: float
    last_updated: pd.Timestamp  # UTC


class ReplayCatalog:
    """The replay's data as of `now` (a fixed instant, or the wall clock when None)."""

    def __init__(self, now: pd.Timestamp | str | None = None) -> None:
        self._fixed_now = _utc(now) if now is not None else None
        self._revisions: list[Revision] = []
        self._lock = threading.Lock()

    @property
    def now(self) -> pd.Timestamp:
        return self._fixed_now if self._fixed_now is not None else pd.Timestamp.now(tz="UTC").floor("s")

    @property
    def revisions(self) -> tuple[Revision, ...]:
        with self._lock:
            return tuple(self._revisions)

    def published_end(self, dataset: ElhubDataset) -> pd.Timestamp:
        """Exclusive UTC end of the hours published so far (through yesterday, local)."""
        return published_end(dataset.dataset_id, self.now)

    def default_window(self, dataset: ElhubDataset) -> tuple[pd.Timestamp, pd.Timestamp]:
        """What the API serves when no valid dates are given: the last 30 days published."""
        end = self.published_end(dataset)
        return end - DEFAULT_WINDOW, end

    def publish_revision(
        self,
        dataset_id: str,
        month: str | date,
        areas: Iterable[str],
        factor: float,
        last_updated: pd.Timestamp | str | None = None,
    ) -> Revision:
        """Republish `month` for `areas`: quantities x `factor` and a later `lastUpdatedTime`."""
        if dataset_id not in DATASETS:
            raise ValueError(f"unknown dataset {dataset_id!r}")
        month_start = _month_start(month)
        unknown = set(areas) - set(PRICE_AREAS)
        if unknown:
            raise ValueError(f"unknown price areas {sorted(unknown)}")
        with self._lock:
            if last_updated is None:
                # Strictly later than anything published before, so a change is always visible.
                previous = max((r.last_updated for r in self._revisions), default=None)
                stamp = self.now if previous is None else max(self.now, previous + pd.Timedelta(minutes=1))
            else:
                stamp = _utc(last_updated)
            revision = Revision(dataset_id, month_start, frozenset(areas), float(factor), stamp)
            self._revisions.append(revision)
        return revision

    def frame(
        self,
        dataset: ElhubDataset,
        start: date | datetime,
        end: date | datetime,
        areas: Iterable[str] = PRICE_AREAS,
        group: str | None = None,
    ) -> pd.DataFrame:
        """The rows served for `[start, end)` (local dates, or UTC instants), in the client's schema."""
        now = self.now  # one instant for the whole answer, even on a live clock
        lo = max(_instant(start), FIRST_HOUR)
        hi = min(_instant(end), published_end(dataset.dataset_id, now))
        wanted = tuple(a for a in PRICE_AREAS if a in set(areas))
        if lo >= hi or not wanted:
            return empty_frame(dataset)
        groups = _served_groups(dataset, group)
        pieces = [self._generated(dataset, lo, hi, wanted, groups, now)] if groups else []
        if dataset.dataset_id == PRODUCTION.dataset_id:
            recorded = recorded_production()
            pieces.append(
                recorded[
                    (recorded["start_time"] >= lo)
                    & (recorded["start_time"] < hi)
                    & recorded["price_area"].isin(wanted)
                    & recorded["production_group"].isin(groups)
                ]
            )
        pieces = [piece for piece in pieces if len(piece)]
        frame = pd.concat(pieces, ignore_index=True) if pieces else empty_frame(dataset)
        return conform(self._apply_revisions(frame, dataset), dataset)

    def _generated(
        self,
        dataset: ElhubDataset,
        lo: pd.Timestamp,
        hi: pd.Timestamp,
        areas: tuple[str, ...],
        groups: tuple[str | None, ...],
        now: pd.Timestamp,
    ) -> pd.DataFrame:
        """Generated rows of `[lo, hi)`, as published at `now`, minus the recording's hours.

        Each quantity column of a series (area, group) is generated as a series of its own
        (`generated_series`); they exist at the same hours, so they line up row by row."""
        series_columns = list(dataset.series_columns)
        columns: dict[str, list[np.ndarray]] = {
            name: [] for name in (*series_columns, "start_time", "last_updated_time", *dataset.quantity_columns)
        }
        counts: list[np.ndarray] = []
        for year in range(_local_year(lo), _local_year(hi - pd.Timedelta(hours=1)) + 1):
            for area in areas:
                for group in groups:
                    served = [
                        _served_slice(series_year(dataset.dataset_id, area, name, year), dataset, lo, hi, now)
                        for name in generated_series(dataset, group)
                    ]
                    if served[0] is None:
                        continue
                    hours, _, stamps, count = served[0]
                    if any(s is None or not np.array_equal(s[0], hours) for s in served):
                        raise AssertionError(f"{dataset.dataset_id} {area} {group}: quantities exist at different hours")
                    for name, value in zip(series_columns, (area, group)):
                        columns[name].append(np.full(len(hours), value, dtype=object))
                    columns["start_time"].append(hours)
                    columns["last_updated_time"].append(stamps)
                    for column, (_, quantity, _, _) in zip(dataset.quantity_columns, served):
                        columns[column].append(quantity)
                    if count is not None:
                        counts.append(count)
        if not columns["start_time"]:
            return empty_frame(dataset)
        frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
        frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
        frame["last_updated_time"] = pd.to_datetime(frame["last_updated_time"], utc=True)
        frame["end_time"] = frame["start_time"] + pd.Timedelta(hours=1)
        if dataset.group_column is not None:
            frame["is_unspecified_group"] = frame[dataset.group_column] == UNSPECIFIED_GROUP
        for column in dataset.extra_int_fields.values():
            frame[column] = np.concatenate(counts)
        return frame

    def _apply_revisions(self, frame: pd.DataFrame, dataset: ElhubDataset) -> pd.DataFrame:
        revisions = [r for r in self.revisions if r.dataset_id == dataset.dataset_id]
        if not revisions or frame.empty:
            return frame
        frame = frame.copy()
        for revision in revisions:
            month_lo = local_midnight_utc(revision.month)
            month_hi = local_midnight_utc(first_of_next_month(revision.month))
            hit = (
                (frame["start_time"] >= month_lo)
                & (frame["start_time"] < month_hi)
                & frame["price_area"].isin(revision.areas)
            ).to_numpy()
            for column in dataset.quantity_columns:
                revised = frame.loc[hit, column].to_numpy() * revision.factor
                # Keep Elhub's precision: 0.1 kWh for big values, Wh for small ones.
                frame.loc[hit, column] = np.where(abs(revised) >= 100, np.round(revised, 1), np.round(revised, 3))
            frame.loc[hit, "last_updated_time"] = revision.last_updated
        return frame


def replay_frame(
    dataset: ElhubDataset,
    start: date,
    end: date,
    areas: Iterable[str] = PRICE_AREAS,
    now: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """What a fresh replay server (no revisions, no faults) serves for local dates `[start, end)`."""
    return ReplayCatalog(now=now).frame(dataset, start, end, areas)


def _served_slice(
    series: SeriesYear, dataset: ElhubDataset, lo: pd.Timestamp, hi: pd.Timestamp, now: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    """(UTC hours, quantities, lastUpdatedTime, metering points) of one series-year in [lo, hi)."""
    grid = series.grid
    first, stop = grid.hours.searchsorted(lo), grid.hours.searchsorted(hi)
    if first >= stop:
        return None
    hours = grid.hours.asi8[first:stop]
    quantity = series.quantity[first:stop]
    keep = ~np.isnan(quantity)
    if dataset.dataset_id == PRODUCTION.dataset_id:
        # The recording is served verbatim instead of generated values for its hours.
        keep &= ~((hours >= RECORDED_START.value) & (hours < RECORDED_END.value))
    if not keep.any():
        return None
    days = grid.day_index[first:stop][keep]
    versions = np.empty(grid.days, dtype=np.int64)
    stamps = np.empty(grid.days, dtype=np.int64)
    for day in np.unique(days):
        version, stamp = published_version(dataset.dataset_id, grid.day(day), now)
        versions[day], stamps[day] = version, stamp.value
    final = quantity[keep]
    version = versions[days]
    preliminary = version < FINAL_VERSION
    if preliminary.any():
        # Earlier versions differed a little from the final figures.
        factor = series.preliminary_factor[np.minimum(version, FINAL_VERSION - 1), days]
        earlier = np.round(final * factor * series.divisor) / series.divisor
        final = np.where(preliminary, earlier, final)
    counts = series.metering_point_count[first:stop][keep] if series.metering_point_count is not None else None
    return hours[keep], final, stamps[days], counts


def _served_groups(dataset: ElhubDataset, group: str | None) -> tuple[str | None, ...]:
    """The groups served, or `(None,)`: one series per area for a dataset without groups."""
    if dataset.group_column is None:
        return (None,)
    groups = dataset.groups + ((UNSPECIFIED_GROUP,) if dataset.dataset_id == PRODUCTION.dataset_id else ())
    return groups if group is None else tuple(g for g in groups if g == group)


def generated_series(dataset: ElhubDataset, group: str | None) -> tuple[str, ...]:
    """The names the generator knows a series' quantities by: the group for a dataset with
    one quantity column (`hydro`), each quantity column for a dataset without groups."""
    if group is None:
        return dataset.quantity_columns
    if len(dataset.quantity_columns) != 1:
        raise NotImplementedError(f"{dataset.dataset_id}: the replay generates one quantity per group")
    return (group,)


def _month_start(month: str | date) -> date:
    """The first day of a month given as `YYYY-MM`, an ISO date or a date."""
    if isinstance(month, str):
        month = date.fromisoformat(month if len(month) > 7 else f"{month}-01")
    return month.replace(day=1)


def _instant(value: date | datetime | pd.Timestamp) -> pd.Timestamp:
    """Dates mean local midnight; datetimes must carry an offset."""
    if isinstance(value, datetime):
        return _utc(pd.Timestamp(value))
    return local_midnight_utc(value)


def _utc(value: pd.Timestamp | str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"timestamp {value!r} needs an explicit offset")
    return stamp.tz_convert("UTC")


def _local_year(instant: pd.Timestamp) -> int:
    return instant.tz_convert(OSLO_TZ).year

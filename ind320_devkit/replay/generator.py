"""Deterministic, plausible Elhub series for every hour the recording does not cover.

Each series (dataset, area, group) is generated a local year at a time:
a shape made of season x day profile x weather noise, scaled to a yearly
level and rounded like Elhub rounds. Noise is drawn per month from a seed
made of dataset, area, group and month, so the same bytes come out on every
run. Production levels are calibrated to the public 2021 totals and to the
2025 recording, with the years in between interpolated; consumption, exchange
and loss levels are plausible magnitudes. A dataset without groups has one
series per area and quantity column, named by the column
(`catalog.generated_series`).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from ind320_assets.domain import CONSUMPTION, EXCHANGE, LOSS, OSLO_TZ, PRODUCTION, UNSPECIFIED_GROUP
from ind320_devkit.replay import calibration as ref
from ind320_devkit.replay.publication import PRELIMINARY_VERSIONS
from ind320_devkit.replay.recorded import RECORDED_END, RECORDED_START, recorded_production
from ind320_assets.elhub.windows import expected_local_hours

FIRST_YEAR = 2021
RECORDED_YEAR = 2025
_TAU = 2 * math.pi


@dataclass(frozen=True)
class YearGrid:
    """Every local hour of one year, with the calendar features the shapes use."""

    year: int
    hours: pd.DatetimeIndex  # UTC start instants
    local_hour: np.ndarray
    weekday: np.ndarray  # 0 = Monday
    day_of_year: np.ndarray  # of the local date, 1-based
    day_index: np.ndarray  # local day number within the year, 0-based
    utc_hour: np.ndarray  # fractional hour of day in UTC, for the sun
    month_hours: tuple[int, ...]
    month_days: tuple[int, ...]

    @property
    def days(self) -> int:
        return sum(self.month_days)

    def day(self, index: int) -> date:
        return date(self.year, 1, 1) + timedelta(days=int(index))


@dataclass(frozen=True)
class SeriesYear:
    """One series over one local year, as the replay publishes it in its final version."""

    grid: YearGrid
    quantity: np.ndarray  # kWh per hour; NaN where the series does not exist
    divisor: int  # values are multiples of 1/divisor kWh (10 -> 0.1 kWh, 1000 -> 1 Wh)
    preliminary_factor: np.ndarray  # (versions before final, days): how earlier versions differed
    metering_point_count: np.ndarray | None  # per hour, consumption only


@lru_cache(maxsize=16)
def year_grid(year: int) -> YearGrid:
    hours = expected_local_hours(date(year, 1, 1), date(year + 1, 1, 1))
    local = hours.tz_convert(OSLO_TZ)
    month_starts = [date(year, m, 1) for m in range(1, 13)] + [date(year + 1, 1, 1)]
    month_hours = tuple(
        len(expected_local_hours(a, b)) for a, b in zip(month_starts[:-1], month_starts[1:])
    )
    month_days = tuple((b - a).days for a, b in zip(month_starts[:-1], month_starts[1:]))
    return YearGrid(
        year=year,
        hours=hours,
        local_hour=local.hour.to_numpy(),
        weekday=local.weekday.to_numpy(),
        day_of_year=local.dayofyear.to_numpy().astype(float),
        day_index=local.dayofyear.to_numpy() - 1,
        utc_hour=hours.hour.to_numpy().astype(float),
        month_hours=month_hours,
        month_days=month_days,
    )


@dataclass(frozen=True)
class Noise:
    """Standard random draws for one series-year, drawn month by month from per-month seeds."""

    day: np.ndarray  # normal, per day
    day_uniform: np.ndarray  # uniform [0, 1), per day
    hour: np.ndarray  # normal, per hour
    weather: np.ndarray  # normal, per hour (wind, sparse series)
    hour_uniform: np.ndarray  # uniform [0, 1), per hour
    revision: np.ndarray  # normal, (preliminary versions, days)


def series_seed(dataset_id: str, area: str, group: str, year: int, month: int) -> int:
    return zlib.crc32(f"{dataset_id}|{area}|{group}|{year:04d}-{month:02d}".encode())


@lru_cache(maxsize=1024)
def noise(dataset_id: str, area: str, group: str, year: int) -> Noise:
    grid = year_grid(year)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in Noise.__dataclass_fields__}
    for month, (n_hours, n_days) in enumerate(zip(grid.month_hours, grid.month_days), start=1):
        rng = np.random.default_rng(series_seed(dataset_id, area, group, year, month))
        parts["day"].append(rng.standard_normal(n_days))
        parts["day_uniform"].append(rng.random(n_days))
        parts["hour"].append(rng.standard_normal(n_hours))
        parts["weather"].append(rng.standard_normal(n_hours))
        parts["hour_uniform"].append(rng.random(n_hours))
        parts["revision"].append(rng.standard_normal((PRELIMINARY_VERSIONS, n_days)))
    return Noise(**{name: np.concatenate(chunks, axis=-1) for name, chunks in parts.items()})


def _smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing that keeps roughly unit variance, so persistence stays tunable."""
    radius = int(3 * sigma)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= math.sqrt(float((kernel**2).sum()))
    return np.convolve(values, kernel, mode="same")


def _season(grid: YearGrid, peak_day: float = 15.0) -> np.ndarray:
    """+1 around `peak_day` (mid-January by default), -1 half a year later."""
    return np.cos(_TAU * (grid.day_of_year - peak_day) / 365.25)


def _daily(grid: YearGrid, rng: Noise, sigma_days: float, strength: float) -> np.ndarray:
    """Day-to-day weather as a smooth multiplicative factor, expanded to hours."""
    return np.exp(strength * _smooth(rng.day, sigma_days))[grid.day_index]


# --- Production shapes (relative; the level is set by calibration) ----------


def _hydro(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    flood_weight = {"NO1": 0.35, "NO3": 0.2, "NO4": 0.25}.get(area, 0.1)  # run-of-river spring flood
    flood = flood_weight * np.exp(-(((grid.day_of_year - 158) / 22) ** 2))
    season = 1 + 0.2 * _season(grid) + flood
    day_profile = 1 + 0.09 * -np.cos(_TAU * (grid.local_hour - 4) / 24)
    weekend = np.where(grid.weekday >= 5, 0.94, 1.0)
    return season * day_profile * weekend * _daily(grid, rng, 2.0, 0.08) * (1 + 0.012 * rng.hour)


def _wind(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    capacity_factor = 0.3 + 0.1 * _season(grid) + 0.2 * _smooth(rng.weather, 9.0)
    return np.maximum(capacity_factor, 0.0) ** 1.3


def _thermal(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    outage = np.where(rng.day_uniform < 0.02, 0.2, 1.0)[grid.day_index]
    return (1 + 0.05 * _season(grid)) * _daily(grid, rng, 3.0, 0.05) * outage * (1 + 0.02 * rng.hour)


def _solar(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    latitude, longitude = (math.radians(v) for v in ref.AREA_LOCATION[area])
    declination = math.radians(23.44) * np.sin(_TAU * (284 + grid.day_of_year) / 365.0)
    solar_time = grid.utc_hour + 0.5 + math.degrees(longitude) / 15.0  # mid-hour
    hour_angle = np.radians(15.0 * (solar_time - 12.0))
    sin_elevation = math.sin(latitude) * np.sin(declination) + math.cos(latitude) * np.cos(
        declination
    ) * np.cos(hour_angle)
    cloudiness = (0.25 + 0.75 * rng.day_uniform)[grid.day_index]
    return np.clip(sin_elevation, 0.0, None) ** 1.3 * cloudiness


def _other(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    return (1 + 0.15 * _season(grid)) * np.exp(0.35 * _smooth(rng.hour, 12.0))


# --- Consumption shapes ------------------------------------------------------


def _gauss(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-(((x - centre) / width) ** 2))


def _household(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    h = grid.local_hour
    day_profile = 0.78 + 0.18 * _gauss(h, 8, 1.8) + 0.3 * _gauss(h, 19, 2.5) - 0.1 * (h < 5)
    return (1 + 0.38 * _season(grid)) * day_profile * _daily(grid, rng, 2.0, 0.05) * (1 + 0.01 * rng.hour)


def _cabin(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    doy = grid.day_of_year
    holidays = 1 + 0.4 * _gauss(doy, 95, 6) + 0.2 * _gauss(doy, 200, 15) + 0.5 * _gauss(doy, 362, 5)
    weekend = np.where((grid.weekday >= 5) | ((grid.weekday == 4) & (grid.local_hour >= 16)), 1.35, 1.0)
    day_profile = 0.85 + 0.25 * _gauss(grid.local_hour, 19, 3.0)
    return (1 + 0.5 * _season(grid)) * holidays * weekend * day_profile * _daily(grid, rng, 2.0, 0.06)


def _primary(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    working_hours = (grid.local_hour >= 6) & (grid.local_hour <= 18)
    return (1 + 0.15 * _season(grid)) * (1 + 0.1 * working_hours) * _daily(grid, rng, 2.0, 0.04) * (1 + 0.02 * rng.hour)


def _secondary(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    weekday = grid.weekday < 5
    shift = weekday & (grid.local_hour >= 6) & (grid.local_hour <= 18)
    return (1 + 0.05 * _season(grid)) * np.where(weekday, 1.0, 0.93) * (1 + 0.04 * shift) * _daily(
        grid, rng, 3.0, 0.03
    ) * (1 + 0.015 * rng.hour)


def _tertiary(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    open_hours = (grid.weekday < 5) * _gauss(grid.local_hour, 12, 4.5)
    return (1 + 0.25 * _season(grid)) * (0.7 + 0.6 * open_hours) * _daily(grid, rng, 2.0, 0.04) * (1 + 0.01 * rng.hour)


# --- Exchange and loss shapes (per area, one per quantity column) -----------------


def _exchange_in(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    """Imports: more in cold, dry spells and at night; weeks of weather decide the rest."""
    night = 1 + 0.15 * np.cos(_TAU * (grid.local_hour - 3) / 24)
    weather = 1 + 0.25 * _season(grid) + 0.6 * _smooth(rng.weather, 36.0)
    return np.maximum(weather, 0.05) * night * (1 + 0.03 * rng.hour)


def _exchange_out(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    """Exports: more in the day and in the wet half of the year."""
    day = 1 + 0.15 * np.cos(_TAU * (grid.local_hour - 17) / 24)
    weather = 1 + 0.2 * _season(grid, peak_day=200.0) + 0.6 * _smooth(rng.weather, 36.0)
    return np.maximum(weather, 0.05) * day * (1 + 0.03 * rng.hour)


def _loss(grid: YearGrid, area: str, rng: Noise) -> np.ndarray:
    """Grid loss follows the load, a little more than proportionally."""
    h = grid.local_hour
    day_profile = 0.82 + 0.2 * _gauss(h, 9, 3.0) + 0.25 * _gauss(h, 18, 3.0)
    return ((1 + 0.35 * _season(grid)) * day_profile) ** 1.3 * _daily(grid, rng, 2.0, 0.05) * (1 + 0.02 * rng.hour)


SHAPES = {
    PRODUCTION.dataset_id: {"hydro": _hydro, "wind": _wind, "thermal": _thermal, "solar": _solar, "other": _other},
    CONSUMPTION.dataset_id: {
        "household": _household,
        "cabin": _cabin,
        "primary": _primary,
        "secondary": _secondary,
        "tertiary": _tertiary,
    },
    EXCHANGE.dataset_id: {"exchange_in_quantity_kwh": _exchange_in, "exchange_out_quantity_kwh": _exchange_out},
    LOSS.dataset_id: {"calculated_loss_quantity_kwh": _loss},
}
# Datasets generated at plausible levels: (2021 kWh per (area, series), growth per year).
PLAUSIBLE_LEVELS: dict[str, tuple[dict[tuple[str, str], float], float]] = {
    CONSUMPTION.dataset_id: (ref.CONSUMPTION_2021_TOTAL_KWH, ref.CONSUMPTION_GROWTH_PER_YEAR),
    EXCHANGE.dataset_id: (ref.EXCHANGE_2021_TOTAL_KWH, 0.0),
    LOSS.dataset_id: (ref.LOSS_2021_TOTAL_KWH, ref.CONSUMPTION_GROWTH_PER_YEAR),
}


# --- Existence, levels and rounding -------------------------------------------


def exists(dataset_id: str, area: str, group: str, grid: YearGrid) -> np.ndarray:
    """Hours at which the series exists in the generated data."""
    hours = grid.hours
    if dataset_id == PRODUCTION.dataset_id and (area, group) == ("NO5", "wind"):
        return np.asarray(hours >= ref.NO5_WIND_FIRST_HOUR)
    if group == UNSPECIFIED_GROUP:
        # NO5's `*` series appears with the recording and carries on after it.
        return np.asarray(hours >= RECORDED_START) if area == "NO5" else np.zeros(len(hours), bool)
    return np.ones(len(hours), dtype=bool)


@lru_cache(maxsize=1024)
def shape(dataset_id: str, area: str, group: str, year: int) -> np.ndarray:
    grid = year_grid(year)
    return SHAPES[dataset_id][group](grid, area, noise(dataset_id, area, group, year))


def _pinned(dataset_id: str, area: str, group: str, year: int) -> dict[int, float]:
    """Hour index -> known real value that must be served verbatim."""
    if (dataset_id, area, group, year) == (PRODUCTION.dataset_id, "NO1", "hydro", 2021):
        return dict(enumerate(ref.NO1_HYDRO_2021_FIRST_HOURS_KWH))
    return {}


@lru_cache(maxsize=1024)
def level(dataset_id: str, area: str, group: str, year: int) -> float:
    """kWh per unit of shape for one series-year."""
    if dataset_id in PLAUSIBLE_LEVELS:
        totals, growth = PLAUSIBLE_LEVELS[dataset_id]
        base = totals[(area, group)] / shape(dataset_id, area, group, FIRST_YEAR).sum()
        return base * (1 + growth) ** (year - FIRST_YEAR)
    first = _production_2021_level(area, group)
    recorded = _production_recorded_level(area, group)
    progress = min(max((year - FIRST_YEAR) / (RECORDED_YEAR - FIRST_YEAR), 0.0), 1.0)
    return first * (recorded / first) ** progress  # geometric path from 2021 to the recording


def _production_2021_level(area: str, group: str) -> float:
    grid = year_grid(FIRST_YEAR)
    free = exists(PRODUCTION.dataset_id, area, group, grid)
    pinned = _pinned(PRODUCTION.dataset_id, area, group, FIRST_YEAR)
    free[list(pinned)] = False
    target = ref.PRODUCTION_2021_TOTAL_KWH[(area, group)] - math.fsum(pinned.values())
    return target / shape(PRODUCTION.dataset_id, area, group, FIRST_YEAR)[free].sum()


def _production_recorded_level(area: str, group: str) -> float:
    """The level at which the generated shape matches the recording's mean over its hours."""
    recorded = recorded_production()
    rows = recorded[(recorded["price_area"] == area) & (recorded["production_group"] == group)]
    grid = year_grid(RECORDED_YEAR)
    in_recording = np.asarray((grid.hours >= RECORDED_START) & (grid.hours < RECORDED_END))
    shape_mean = shape(PRODUCTION.dataset_id, area, group, RECORDED_YEAR)[in_recording].mean()
    return max(rows["quantity_kwh"].mean(), 1e-6) / shape_mean


def _blend_after_pinned(values: np.ndarray, pinned: dict[int, float], free: np.ndarray) -> np.ndarray:
    """Ease the generated hours after the pinned real ones so the seam has no jump.

    The free hours are rescaled afterwards so their total, and so the yearly
    calibration, is unchanged.
    """
    seam = max(pinned) + 1
    ratio = pinned[seam - 1] / values[seam]
    after = np.arange(len(values)) - seam
    ease = np.where(after >= 0, 1 + (ratio - 1) * np.exp(-np.clip(after, 0, None) / 18.0), 1.0)
    blended = values * ease
    blended[free] *= values[free].sum() / blended[free].sum()
    return blended


def _round_to_total(values: np.ndarray, divisor: int, total: float) -> np.ndarray:
    """Round to multiples of 1/divisor so that the rounded values still add up to `total`.

    Largest-remainder rounding: floor everything, then give the missing units
    to the hours that lost the most.
    """
    scaled = values * divisor
    units = np.floor(scaled)
    missing = int(round(total * divisor - units.sum()))
    if missing > 0:
        units[np.argsort(units - scaled, kind="stable")[:missing]] += 1
    return units / divisor


@lru_cache(maxsize=1024)
def series_year(dataset_id: str, area: str, group: str, year: int) -> SeriesYear:
    """The final published values of one series for one local year."""
    grid = year_grid(year)
    rng = noise(dataset_id, area, group, year)
    present = exists(dataset_id, area, group, grid)
    quantity = np.full(len(grid.hours), np.nan)
    revision = np.ones((PRELIMINARY_VERSIONS, grid.days))
    if group == UNSPECIFIED_GROUP:
        # Mostly zero with the odd few kWh, like the recorded NO5 `*` series.
        values = np.where(rng.hour_uniform < 0.08, np.round(4.8 * rng.weather**2 / 9, 3), 0.0)
        quantity[present] = np.minimum(values[present], 4.8)
        return SeriesYear(grid, quantity, 1000, revision, None)

    values = level(dataset_id, area, group, year) * shape(dataset_id, area, group, year)
    divisor = 10 if values[present].mean() >= 100 else 1000  # big series in 0.1 kWh, small in Wh
    pinned = _pinned(dataset_id, area, group, year)
    free = present.copy()
    free[list(pinned)] = False
    if pinned:
        values = _blend_after_pinned(values, pinned, free)
    quantity[free] = _round_to_total(values[free], divisor, values[free].sum())
    for index, value in pinned.items():
        quantity[index] = value
    reference = ref.PRODUCTION_2021_TOTAL_KWH.get((area, group))
    if dataset_id == PRODUCTION.dataset_id and year == FIRST_YEAR and reference is not None:
        # Put the last sub-unit difference (to the Wh) into the largest hour so the year adds up.
        largest = int(np.nanargmax(np.where(free, quantity, -1.0)))
        quantity[largest] = round(quantity[largest] + reference - math.fsum(quantity[present]), 3)
    revision = 1 + np.array([[0.012], [0.004]]) * rng.revision
    counts = _metering_points(dataset_id, area, group, grid, rng)
    return SeriesYear(grid, quantity, divisor, revision, counts)


def _metering_points(
    dataset_id: str, area: str, group: str, grid: YearGrid, rng: Noise
) -> np.ndarray | None:
    """Metering points per hour, constant within a local day and growing slowly."""
    if dataset_id != CONSUMPTION.dataset_id:
        return None
    base = ref.CONSUMPTION_2021_METERING_POINTS[(area, group)]
    day_numbers = np.arange(grid.days)
    months_since_start = (grid.year - FIRST_YEAR) * 12 + day_numbers / 30.44
    per_day = base * (1 + ref.METERING_POINT_GROWTH_PER_MONTH * months_since_start + 0.0005 * rng.day)
    # Elhub publishes no aggregate built from fewer than 5 metering points.
    return np.maximum(np.round(per_day), 5).astype("int64")[grid.day_index]

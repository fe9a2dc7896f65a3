"""When each delivery day is (re)published, and with which `lastUpdatedTime`.

Recent days follow the pattern seen in real responses: day D is published
about D+1, republished about D+6 and D+14, and then stays. Old years were
restated in bulk, so all their rows carry one timestamp (2021 rows carry
2024-12-20T10:35:40+01:00 in several public copies).
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from functools import lru_cache

import pandas as pd

from ind320_assets.domain import OSLO_TZ
from ind320_assets.elhub.windows import local_midnight_utc

# Bulk restatements: year -> the `lastUpdatedTime` all its rows carry.
RESTATEMENTS: dict[int, pd.Timestamp] = {
    2021: pd.Timestamp("2024-12-20T10:35:40+01:00"),  # Sheikh20o3 CSV, FIC
    2022: pd.Timestamp("2025-02-01T11:09:13+01:00"),  # date from FIC/KristofferHemm; time of day invented
    2023: pd.Timestamp("2025-03-29T01:42:43+01:00"),  # as in mghyly20's 2023 consumption responses
}
# (days after the delivery day, earliest local hour, spread in seconds) per version.
VERSION_SCHEDULE: tuple[tuple[int, int, int], ...] = ((1, 0, 3600), (6, 15, 900), (14, 17, 2700))
PRELIMINARY_VERSIONS = len(VERSION_SCHEDULE) - 1
FINAL_VERSION = PRELIMINARY_VERSIONS


@lru_cache(maxsize=8192)
def version_stamps(dataset_id: str, day: date) -> tuple[pd.Timestamp, ...]:
    """The UTC publication instants of each version of `day`, earliest first."""
    stamps = []
    for version, (lag_days, hour, spread_s) in enumerate(VERSION_SCHEDULE):
        jitter_s = zlib.crc32(f"{dataset_id}|{day.isoformat()}|{version}".encode()) % spread_s
        local = pd.Timestamp(day + timedelta(days=lag_days)) + pd.Timedelta(hours=hour, seconds=jitter_s)
        stamps.append(local.tz_localize(OSLO_TZ).tz_convert("UTC"))
    return tuple(stamps)


def published_version(dataset_id: str, day: date, now: pd.Timestamp) -> tuple[int, pd.Timestamp] | None:
    """(version, lastUpdatedTime) of `day` as seen at `now`, or None if not yet published."""
    restated = RESTATEMENTS.get(day.year)
    if restated is not None and restated <= now:
        return FINAL_VERSION, restated.tz_convert("UTC")
    latest = None
    for version, stamp in enumerate(version_stamps(dataset_id, day)):
        if stamp <= now:
            latest = (version, stamp)
    return latest


def published_end(dataset_id: str, now: pd.Timestamp) -> pd.Timestamp:
    """Exclusive UTC end of the published hours: the midnight after the last published day."""
    day = now.tz_convert(OSLO_TZ).date()
    while published_version(dataset_id, day, now) is None:
        day -= timedelta(days=1)
    return local_midnight_utc(day + timedelta(days=1))

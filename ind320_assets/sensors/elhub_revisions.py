"""Reload exactly the (month, area) partitions that Elhub revised or added.

Elhub republishes each delivery day about 1, 6 and 14 days later and now and
then restates whole years. Each tick asks the API once per month of the
look-back (all areas in one request), fingerprints every (month, area) by its
latest `lastUpdatedTime` and row count, and requests runs only where that
fingerprint differs from the one last seen.

The last-seen fingerprints live in the JSON cursor. When the cursor is missing
or unreadable, the sensor falls back to what the raw asset's materializations
recorded, so it reloads only what really changed rather than everything.

Each run targets all of the dataset's assets (raw → Cassandra → MongoDB → views) for its partition,
so downstream follows without the automation daemon, and its `run_key` names
the revision, so the same revision never runs twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pandas as pd
from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.domain import OSLO_TZ, PRICE_AREAS
from ind320_assets.elhub import ElhubApiError, ElhubDataError
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.revisions import Fingerprints, materialized_fingerprints, revision_fingerprints
from ind320_assets.resources.elhub import ElhubResource


def lookback_months(today: date, months: int) -> list[date]:
    """The current month and the `months - 1` before it, oldest first, never before 2021."""
    start = date(today.year, today.month, 1)
    result = [start]
    for _ in range(months - 1):
        previous = date(start.year - (start.month == 1), (start.month - 2) % 12 + 1, 1)
        if previous < date(2021, 1, 1):
            break
        result.insert(0, previous)
        start = previous
    return result


def read_cursor(cursor: str | None) -> Fingerprints | None:
    """The cursor's fingerprints, or None when it is missing or not ours."""
    if not cursor:
        return None
    try:
        value = json.loads(cursor)
    except ValueError:
        return None
    fingerprints = value.get("fingerprints") if isinstance(value, dict) else None
    return fingerprints if isinstance(fingerprints, dict) else None


def run_key(dataset_id: str, partition_key: str, fingerprint: dict) -> str:
    return f"{dataset_id}:{partition_key}:{fingerprint['last_updated']}:{fingerprint['rows']}"


def build_revision_sensor(
    spec: ElhubAssetSpec,
    *,
    name: str | None = None,
    lookback: int = 4,
    minimum_interval_seconds: int = 3600,
    today: Callable[[], date] = lambda: pd.Timestamp.now(tz=OSLO_TZ).date(),
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    raw_key = spec.key("raw")
    chain = spec.asset_keys

    @sensor(
        name=name or f"elhub_{spec.name}_revision_sensor",
        description=(
            f"Polls Elhub for {spec.dataset.dataset_id} over the current month and the {lookback - 1} "
            "before it, and reloads raw → Cassandra → MongoDB → views for each (month, area) whose "
            "lastUpdatedTime or row count changed."
        ),
        asset_selection=chain,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
    )
    def revision_sensor(context: SensorEvaluationContext, elhub: ElhubResource):
        months = lookback_months(today(), lookback)
        looked_at = PartitionSlice.of(months)
        known = read_cursor(context.cursor)
        if known is None:
            context.log.info("No usable cursor: comparing with the raw asset's materializations instead.")
            known = materialized_fingerprints(context.instance, raw_key, looked_at.keys)

        seen: Fingerprints = dict(known)
        requests, errors = [], {}
        for month, month_end in sorted({(p.month_start, p.month_end) for p in looked_at}):
            try:
                result = elhub.client().fetch(spec.dataset, start=month, end=month_end, areas=PRICE_AREAS)
            except (ElhubApiError, ElhubDataError) as error:
                # One bad month must not hide the others' revisions.
                errors[month.isoformat()] = str(error)
                context.log.warning(f"Elhub {month:%Y-%m} skipped this tick: {error}")
                continue
            for key, fingerprint in revision_fingerprints(result.frame, looked_at).items():
                seen[key] = fingerprint
                if known.get(key) != fingerprint:
                    requests.append(RunRequest(
                        run_key=run_key(spec.dataset.dataset_id, key, fingerprint),
                        partition_key=key,
                        asset_selection=chain,
                        tags={"elhub/revision": fingerprint["last_updated"], "elhub/rows": str(fingerprint["rows"])},
                    ))

        cursor = json.dumps({"fingerprints": seen}, sort_keys=True)
        if not requests:
            detail = f"; errors: {errors}" if errors else ""
            context.update_cursor(cursor)
            return SkipReason(f"No revision in {months[0]:%Y-%m}..{months[-1]:%Y-%m} since the last tick{detail}")
        return SensorResult(run_requests=requests, cursor=cursor)

    return revision_sensor

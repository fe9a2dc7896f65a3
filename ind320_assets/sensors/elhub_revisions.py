"""Reload exactly the (month, area) partitions that Elhub revised or added.

Each tick first marks failed the dataset's runs whose worker process is gone
(`run_worker.py`): a SIGKILLed run would otherwise show STARTED for ever. It
does not hold anything back for them or for live runs: the stores keep the
newest revision whichever run writes last, so concurrent runs are correct.

Then it sends Elhub's `/updates` feed one request for the sensor's dataset,
asking what changed on or after `FEED_OVERLAP` before the last `lastUpdated` it
has seen (the cursor, `revision_cursor.py`), and requests a run for each
(month, area) the feed names, whatever the month: a restatement of 2021-03
costs one small request, not a download of 2021. Each run targets all of the
dataset's assets (raw → Cassandra → MongoDB → views), so downstream follows
without the automation daemon, and its `run_key` names the revision (partition
and `lastUpdated`): Dagster drops a request whose `run_key` it has run, so the
items the overlap lists again never run twice, and a late one runs once.

Without a feed position (first tick, lost or corrupt cursor, the look-back
sensor's old cursor) the sensor reads the feed from a bounded horizon, the start
of the look-back window (the current month and the `lookback - 1` before it),
and trusts what the raw asset's materializations recorded: it reloads only
partitions that were loaded and that the feed shows a newer revision of. It
never loads a partition nobody loaded; from the next tick on, everything the
feed names is followed again.

When the feed fails (an HTTP error such as 404 where it is not served, a
5xx after the client's retries, an answer that cannot be read), the tick falls
back to look-back fingerprinting: it fetches the look-back months (one request
per month, all areas), fingerprints each (month, area) by its latest
`lastUpdatedTime` and row count (`revisions.py`), and requests the partitions
whose fingerprint changed. The tick's log and `SkipReason` say so; the feed
position is kept, so revisions of older months made meanwhile are still picked
up once the feed answers again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from ind320_assets.elhub import ElhubApiError, ElhubDataError, Updates, touched_partitions
from ind320_assets.elhub.windows import local_midnight_utc
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.revisions import Fingerprints, materialized_fingerprints, revision_fingerprints
from ind320_assets.run_worker import fail_dead_runs
from ind320_assets.sensors.revision_cursor import RevisionCursor

# How far before its cursor each tick re-reads the feed. An item can be published
# late, with a `lastUpdated` a little before the latest one the feed has already
# shown (written before, listed after); reading only from the cursor on would miss
# it for ever. The items listed again cost nothing: their run keys are spent.
FEED_OVERLAP = pd.Timedelta(hours=1)
TickOutcome = SensorResult | SkipReason


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


def run_key(dataset_id: str, partition_key: str, last_updated: str, rows: int | None = None) -> str:
    """Names one revision of one partition: `lastUpdated`, and the row count when the look-back measured it."""
    return ":".join([dataset_id, partition_key, last_updated, *([] if rows is None else [str(rows)])])


def oslo_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz=OSLO_TZ)


def revision_request(
    spec: ElhubAssetSpec, key: str, last_updated: str, source: str, rows: int | None = None, after: str | None = None
) -> RunRequest:
    """A run of all of the dataset's assets for one revision of one partition; `after` names
    the dead run it replaces, whose `run_key` is spent."""
    tags = {"elhub/revision": last_updated, "elhub/source": source}
    if rows is not None:
        tags["elhub/rows"] = str(rows)
    return RunRequest(
        run_key=run_key(spec.dataset.dataset_id, key, last_updated, rows) + (f":after:{after}" if after else ""),
        partition_key=key,
        asset_selection=spec.asset_keys,
        tags=tags,
    )


def fail_dead_dataset_runs(
    context: SensorEvaluationContext, spec: ElhubAssetSpec, sensor_name: str
) -> tuple[list[str], list[RunRequest]]:
    """Marks failed the dataset's in-progress runs whose worker is gone; one note (and log line)
    each, and a new request for each that a revision sensor had requested: its `run_key` is
    spent, and without a new one that revision would never load."""
    notes, requests = [], []
    for dead in fail_dead_runs(context.instance, spec.asset_keys, by=f"sensor {sensor_name}"):
        tags = dead.run.tags
        partition = tags.get("dagster/partition", "no partition")
        notes.append(f"run {dead.run.run_id} ({partition}) failed: its worker {dead.worker} is gone")
        revision = tags.get("elhub/revision")
        if revision is not None and "dagster/partition" in tags:
            requests.append(revision_request(spec, partition, revision, "dead run", after=dead.run.run_id))
            notes[-1] += ", requested again"
        context.log.warning(f"Dead run: {notes[-1]}; a rerun converges")
    return notes, requests


def revision_tick(
    context: SensorEvaluationContext,
    spec: ElhubAssetSpec,
    elhub: ElhubResource,
    cursor: RevisionCursor,
    months: list[date],
    current: pd.Timestamp,
) -> TickOutcome:
    """One request to the feed, or the look-back when it fails."""
    since = local_midnight_utc(months[0]) if cursor.feed_since is None else cursor.feed_since - FEED_OVERLAP
    try:
        updates = elhub.client().updates(spec.dataset, since)
    except (ElhubApiError, ElhubDataError) as error:
        context.log.warning(f"Elhub's /updates failed, falling back to look-back fingerprinting: {error}")
        return lookback_tick(context, spec, elhub, months, cursor, f"/updates failed: {error}")
    unreadable = updates.skipped if isinstance(updates, Updates) else ()
    if unreadable:
        context.log.warning(f"/updates: {len(unreadable)} item(s) name no partition and were left out: {unreadable[0]}")
    touched = touched_partitions(updates, spec.dataset, current_time=current)
    outcome = feed_tick(context, spec, cursor, since, touched)
    return with_notes(outcome, [f"{len(unreadable)} unreadable /updates item(s) left out"] if unreadable else [])


def feed_tick(
    context: SensorEvaluationContext,
    spec: ElhubAssetSpec,
    cursor: RevisionCursor,
    since: pd.Timestamp,
    touched: dict[str, pd.Timestamp],
) -> TickOutcome:
    """Requests for the partitions the feed names (read from `since`) that are not recorded as loaded.

    With a feed position, every partition named is requested, also those the
    overlap lists again: their run keys are spent, so Dagster drops them. The
    items a tick declines (loaded already, or never loaded when the cursor was
    lost) are remembered in the cursor, so that the next tick declines them again.
    """
    known: Fingerprints = cursor.fingerprints or {}  # what a fallback tick requested meanwhile
    lost = cursor.feed_since is None
    if lost:
        context.log.info(
            f"No feed position in the cursor: read /updates from {_local(since)} (the look-back's start) "
            "and compared with the raw asset's materializations."
        )
        known = {**materialized_fingerprints(context.instance, spec.key("raw"), list(touched)), **known}
    requests, declined = [], {}
    for key, stamp in touched.items():
        if cursor.declined.get(key) == stamp.isoformat():
            declined[key] = stamp  # an earlier tick declined this very item: so does this one
            continue
        recorded = known.get(key)
        if (recorded is not None and pd.Timestamp(recorded["last_updated"]) >= stamp) or (lost and recorded is None):
            # Loaded already; or never loaded, and a lost cursor reloads, it does not load.
            declined[key] = stamp
            continue
        requests.append(revision_request(spec, key, stamp.isoformat(), "updates"))

    latest = max([since if lost else cursor.feed_since, *touched.values()])
    # Only the items the next tick reads again need remembering.
    kept = {key: stamp.isoformat() for key, stamp in declined.items() if stamp >= latest - FEED_OVERLAP}
    next_cursor = RevisionCursor(feed_since=latest, declined=kept).serialize()
    named = f"/updates since {_local(since)} (1 request) names {len(touched)} partition(s)"
    if not requests:
        context.update_cursor(next_cursor)
        why = "none loaded and behind it (no cursor: loaded partitions only)" if lost else "all requested or declined already"
        return SkipReason(f"No new revision of {spec.dataset.dataset_id}: {named}, {why}")
    context.log.info(
        f"{named}; requesting {len(requests)} (Dagster drops a run key it has run): "
        f"{', '.join(r.partition_key for r in requests)}"
    )
    return SensorResult(run_requests=requests, cursor=next_cursor)


def lookback_tick(
    context: SensorEvaluationContext,
    spec: ElhubAssetSpec,
    elhub: ElhubResource,
    months: list[date],
    cursor: RevisionCursor,
    why: str,
) -> TickOutcome:
    """Fingerprints every (month, area) of the look-back; requests those that changed."""
    looked_at = PartitionSlice.of(months)
    known = cursor.fingerprints
    if known is None:
        known = materialized_fingerprints(context.instance, spec.key("raw"), looked_at.keys)

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
                requests.append(
                    revision_request(spec, key, fingerprint["last_updated"], "lookback", fingerprint["rows"])
                )

    # The feed position stays: once the feed answers, it resumes where it was.
    next_cursor = RevisionCursor(feed_since=cursor.feed_since, fingerprints=seen, declined=cursor.declined).serialize()
    span = f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"
    if not requests:
        detail = f"; errors: {errors}" if errors else ""
        context.update_cursor(next_cursor)
        return SkipReason(f"Fell back to look-back fingerprinting ({why}): no revision in {span}{detail}")
    context.log.warning(f"Fell back to look-back fingerprinting ({why}): requesting {len(requests)} in {span}")
    return SensorResult(run_requests=requests, cursor=next_cursor)


def with_notes(outcome: TickOutcome, notes: Sequence[str], requests: Sequence[RunRequest] = ()) -> TickOutcome:
    """The tick's outcome with the `requests` of dead runs added, and a skipped tick's reason
    with `notes` added, so the UI's tick list shows them too."""
    if requests:
        if isinstance(outcome, SkipReason):
            # The skipping tick has stored its cursor already (`context.update_cursor`).
            return SensorResult(run_requests=list(requests))
        return SensorResult(run_requests=[*(outcome.run_requests or []), *requests], cursor=outcome.cursor)
    if not notes or not isinstance(outcome, SkipReason):
        return outcome
    return SkipReason(f"{outcome.skip_message}; {'; '.join(notes)}")


def build_revision_sensor(
    spec: ElhubAssetSpec,
    *,
    name: str | None = None,
    lookback: int = 4,
    minimum_interval_seconds: int = 3600,
    now: Callable[[], pd.Timestamp] = oslo_now,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    sensor_name = name or f"elhub_{spec.name}_revision_sensor"

    @sensor(
        name=sensor_name,
        description=(
            f"Asks Elhub's /updates feed once per tick what changed in {spec.dataset.dataset_id} and reloads "
            "raw → Cassandra → MongoDB → views for each (month, area) it names; when the feed fails, "
            f"falls back to fingerprinting the current month and the {lookback - 1} before it. "
            "Marks failed the dataset's runs whose worker process is gone."
        ),
        asset_selection=spec.asset_keys,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=default_status,
    )
    def revision_sensor(context: SensorEvaluationContext, elhub: ElhubResource):
        dead, requests = fail_dead_dataset_runs(context, spec, sensor_name)
        current = now()
        months = lookback_months(current.date(), lookback)
        outcome = revision_tick(context, spec, elhub, RevisionCursor.parse(context.cursor), months, current)
        return with_notes(outcome, dead, requests)

    return revision_sensor


def _local(instant: pd.Timestamp) -> str:
    return instant.tz_convert(OSLO_TZ).isoformat()

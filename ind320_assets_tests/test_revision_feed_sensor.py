"""The revision sensor follows Elhub's /updates feed with one request a tick, and falls back to the look-back when it fails."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, materialize

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.domain import PRODUCTION
from ind320_assets.io_managers.parquet import ParquetIOManager
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.sensors.elhub_revisions import FEED_OVERLAP, build_revision_sensor
from ind320_assets.sensors.revision_cursor import RevisionCursor
from ind320_devkit.replay import Faults, ReplayServer
from ind320_devkit.replay.server import API_PREFIX
from ind320_assets_tests.replay_fixtures import REPLAY_NOW, replay_server  # noqa: F401 - a fixture

NOW = pd.Timestamp(REPLAY_NOW)  # the sensor's clock is the replay's: 2026-11-24 12:00 Oslo
# Four months of look-back: 2026-08..2026-11, so a lost cursor reads the feed from 2026-08-01.
SENSOR = build_revision_sensor(PRODUCTION_SPEC, lookback=4, now=lambda: NOW)
# One month of look-back keeps the fallback's download to one request.
SHORT_SENSOR = build_revision_sensor(PRODUCTION_SPEC, lookback=1, now=lambda: NOW)
OLD = "2021-03-01|NO2"
UPDATES_PATH = f"{API_PREFIX}/updates"
RAW_ASSET = build_dataset_assets(PRODUCTION_SPEC)[0]


class Tick:
    """One evaluation of a sensor: what it requested, skipped, logged, and the cursor it left."""

    def __init__(self, sensor, replay: ReplayServer, cursor: str | None, instance: DagsterInstance | None = None):
        context = build_sensor_context(
            instance=instance or DagsterInstance.ephemeral(), cursor=cursor,
            resources={"elhub": elhub(replay)},
        )
        self.logged: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: self.logged.append(record.getMessage())
        context.log.addHandler(handler)
        replay.clear_requests()
        result = sensor(context)
        self.requests = [(r.path, r.params) for r in replay.requests]
        if isinstance(result, SkipReason):
            self.run_requests, self.cursor, self.skipped = [], context.cursor, result.skip_message
        else:
            assert isinstance(result, SensorResult)
            self.run_requests, self.cursor, self.skipped = result.run_requests, result.cursor, None

    @property
    def keys(self) -> list[str]:
        return [r.partition_key for r in self.run_requests]


def elhub(replay: ReplayServer) -> ElhubResource:
    return ElhubResource(base_url=replay.url, max_attempts=2, backoff_base_s=0.01, max_requests_per_second=100)


def positioned_at(instant: str) -> str:
    """A cursor that has read the feed up to `instant`."""
    return RevisionCursor(feed_since=pd.Timestamp(instant).tz_convert("UTC")).serialize()


# Read up to the replay's clock: a tick re-reads the hour before it, when nothing is published.
UP_TO_NOW = positioned_at(REPLAY_NOW)


def test_a_revision_of_an_old_month_is_picked_up_through_the_feed_alone(replay_server):
    quiet = Tick(SENSOR, replay_server, UP_TO_NOW)
    assert quiet.run_requests == [] and "(1 request) names 0 partition(s)" in quiet.skipped
    assert quiet.requests == [(UPDATES_PATH, {"dataset": PRODUCTION.dataset_id, "lastUpdated": "2026-11-24T11:00:00+01:00"})]

    revision = replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.05)
    picked = Tick(SENSOR, replay_server, quiet.cursor)
    assert [path for path, _ in picked.requests] == [UPDATES_PATH]  # one request, no price-area data
    (request,) = picked.run_requests
    stamp = revision.last_updated.isoformat()
    assert request.partition_key == OLD
    assert request.run_key == f"{PRODUCTION.dataset_id}:{OLD}:{stamp}"
    assert request.asset_selection == PRODUCTION_SPEC.asset_keys  # raw → Cassandra → MongoDB → views
    assert request.tags["elhub/revision"] == stamp
    assert json.loads(picked.cursor)["feed"] == {"last_updated": stamp}

    # The overlap lists the revision again, under the same run key: Dagster drops a run key it has run.
    again = Tick(SENSOR, replay_server, picked.cursor)
    assert [r.run_key for r in again.run_requests] == [request.run_key]
    assert [path for path, _ in again.requests] == [UPDATES_PATH]
    assert json.loads(again.cursor) == json.loads(picked.cursor)

    # A later revision of the same partition is a new run key.
    replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.1)
    later = Tick(SENSOR, replay_server, again.cursor)
    assert later.keys == [OLD] and later.run_requests[0].run_key != request.run_key


def test_a_late_item_behind_the_cursor_is_requested_once(replay_server):
    """An item written before the latest one the feed showed, but listed only after it."""
    first = replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.05)  # at 12:00
    seen = Tick(SENSOR, replay_server, positioned_at("2026-11-24T11:30:00+01:00"))
    assert seen.keys == [OLD] and json.loads(seen.cursor)["feed"]["last_updated"] == first.last_updated.isoformat()

    late_stamp = pd.Timestamp("2026-11-24T11:40:00+01:00")
    assert first.last_updated - FEED_OVERLAP < late_stamp < first.last_updated  # behind the cursor, inside the overlap
    late = replay_server.publish_revision(PRODUCTION.dataset_id, "2022-05", ["NO1"], factor=0.9, last_updated=late_stamp)
    late_key = f"{PRODUCTION.dataset_id}:2022-05-01|NO1:{late.last_updated.isoformat()}"
    picked = Tick(SENSOR, replay_server, seen.cursor)
    assert picked.requests[0][1]["lastUpdated"] == "2026-11-24T11:00:00+01:00"  # an hour before the cursor
    issued = {r.run_key for r in seen.run_requests}
    assert {r.run_key for r in picked.run_requests} - issued == {late_key}
    assert json.loads(picked.cursor) == json.loads(seen.cursor)  # the late item does not move the cursor back

    # The third tick lists both again, under run keys already issued: no new run (Dagster drops spent keys).
    issued |= {r.run_key for r in picked.run_requests}
    third = Tick(SENSOR, replay_server, picked.cursor)
    assert {r.run_key for r in third.run_requests} <= issued and late_key in {r.run_key for r in third.run_requests}


def test_a_lost_cursor_reloads_only_loaded_partitions_the_feed_shows_behind(replay_server, tmp_path):
    instance = DagsterInstance.ephemeral()
    resources = {"elhub": elhub(replay_server), "parquet_io_manager": ParquetIOManager(base_dir=str(tmp_path))}
    recent = "2026-10-01|NO1"  # inside the look-back, loaded and up to date
    for key in (OLD, recent):
        assert materialize([RAW_ASSET], partition_key=key, resources=resources, instance=instance).success
    replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.05)

    # Read from the look-back's start, the feed names every recent partition (2026-07's last
    # days were republished in August) and the revised old one.
    named = Tick(SENSOR, replay_server, positioned_at("2026-08-01T00:00:00+02:00"))
    assert len(named.keys) == 5 * 5 + 1 and OLD in named.keys

    old_format = json.dumps({"fingerprints": {}})  # the look-back sensor's cursor: no feed position
    for lost in (None, "{not json", old_format, json.dumps({"version": 99})):
        tick = Tick(SENSOR, replay_server, lost, instance)
        assert tick.keys == [OLD], lost  # not the 24 partitions nobody loaded, not the up-to-date one
        assert tick.requests == [(UPDATES_PATH, {"dataset": PRODUCTION.dataset_id,
                                                 "lastUpdated": "2026-08-01T00:00:00+02:00"})]
        assert any("No feed position" in line for line in tick.logged)
        assert json.loads(tick.cursor)["feed"]["last_updated"] == pd.Timestamp(NOW).tz_convert("UTC").isoformat()

        # The items it declined lie in the next tick's overlap: declined again, not loaded.
        after = Tick(SENSOR, replay_server, tick.cursor, instance)
        assert after.keys == [OLD], lost

    # With the revision loaded, a lost cursor finds nothing to do.
    assert materialize([RAW_ASSET], partition_key=OLD, resources=resources, instance=instance).success
    caught_up = Tick(SENSOR, replay_server, None, instance)
    assert caught_up.run_requests == [] and "names 26 partition(s), none loaded and behind it" in caught_up.skipped


class ReplayWithoutFeed(ReplayServer):
    """The replay as an API that does not serve /updates: it answers 404 there, as for any unknown route."""

    def _route(self, path, params, self_link, faults):  # noqa: ANN001, ANN202 - ReplayServer's signature
        if path == UPDATES_PATH:
            path = f"{API_PREFIX}/no-such-route"
        return super()._route(path, params, self_link, faults)


@pytest.fixture
def replay_without_feed():
    """The replay as an API that does not serve /updates: 404, as for any unknown route."""
    server = ReplayWithoutFeed(port=0, now=REPLAY_NOW).start()
    yield server
    server.stop()


def test_a_feed_that_is_not_served_falls_back_to_the_lookback_and_says_so(replay_without_feed):
    first = Tick(SHORT_SENSOR, replay_without_feed, UP_TO_NOW)
    # Nothing loaded, nothing fingerprinted yet: the look-back requests the month's five partitions.
    assert first.keys == [f"2026-11-01|NO{n}" for n in range(1, 6)]
    assert all(r.tags["elhub/source"] == "lookback" for r in first.run_requests)
    assert [path for path, _ in first.requests] == [UPDATES_PATH, f"{API_PREFIX}/price-areas"]
    assert any("/updates failed, falling back to look-back fingerprinting" in line and "HTTP 404" in line
               for line in first.logged)

    second = Tick(SHORT_SENSOR, replay_without_feed, first.cursor)
    assert second.run_requests == []
    assert second.skipped.startswith("Fell back to look-back fingerprinting (/updates failed:")
    assert "HTTP 404" in second.skipped and "no revision in 2026-11..2026-11" in second.skipped
    assert json.loads(second.cursor)["feed"]["last_updated"] == "2026-11-24T11:00:00+00:00"  # kept


def test_a_failing_feed_falls_back_and_the_feed_resumes_where_it_was(replay_server):
    replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.05)
    replay_server.publish_revision(PRODUCTION.dataset_id, "2026-11", ["NO3"], factor=1.05)
    replay_server.set_faults(Faults(server_error_first_n=2))  # both attempts at /updates fail
    failed = Tick(SHORT_SENSOR, replay_server, UP_TO_NOW)
    assert [request.status for request in replay_server.requests] == [500, 503, 200]
    assert failed.keys == [f"2026-11-01|NO{n}" for n in range(1, 6)]  # the look-back reaches 2026-11 only
    assert any("HTTP 503" in line and "falling back" in line for line in failed.logged)

    # The feed answers again, from where it was: the old month's revision made meanwhile is
    # picked up, and NO3's, which the fallback requested already, is not requested twice.
    resumed = Tick(SHORT_SENSOR, replay_server, failed.cursor)
    assert resumed.keys == [OLD] and [path for path, _ in resumed.requests] == [UPDATES_PATH]
    assert "fingerprints" not in json.loads(resumed.cursor)  # the feed answered: the instance knows the rest


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, RevisionCursor(), id="absent"),
        pytest.param("{not json", RevisionCursor(), id="corrupt"),
        pytest.param('["a list"]', RevisionCursor(), id="not an object"),
        pytest.param('{"version": 3, "feed": {"last_updated": "2026-11-24T10:00:00+00:00"}}', RevisionCursor(),
                     id="a version from the future"),
        pytest.param('{"fingerprints": {"k": {"last_updated": "x", "rows": 1}}}',
                     RevisionCursor(fingerprints={"k": {"last_updated": "x", "rows": 1}}), id="version 1"),
        pytest.param('{"version": 2, "feed": {"last_updated": "2026-11-24T11:00:00"}}', RevisionCursor(),
                     id="a naive time is no position"),
        pytest.param('{"version": 2, "feed": {"last_updated": "2026-11-24T11:00:00+01:00"}}',
                     RevisionCursor(pd.Timestamp("2026-11-24T10:00:00Z")), id="version 2"),
        pytest.param('{"version": 2, "feed": {"last_updated": "2026-11-24T11:00:00+01:00", "seen": ["k", 3]}}',
                     RevisionCursor(pd.Timestamp("2026-11-24T10:00:00Z")), id="version 2 with the old seen list"),
    ],
)
def test_the_cursor_reads_every_format_it_may_meet(raw, expected):
    cursor = RevisionCursor.parse(raw)
    assert cursor == expected
    assert RevisionCursor.parse(cursor.serialize()) == cursor

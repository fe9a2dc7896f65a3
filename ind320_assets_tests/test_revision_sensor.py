"""The look-back fallback requests exactly the revised partitions, once, and survives a lost cursor.

These ticks run against a replay that does not serve /updates (404), so every
tick falls back to fingerprinting the look-back months; the feed itself is
tested in test_revision_feed_sensor.py.
"""

import json
import math
from datetime import date

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import OSLO_TZ, PRODUCTION
from ind320_devkit.replay import Faults
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.sensors.elhub_revisions import build_revision_sensor, lookback_months
from ind320_assets_tests.replay_fixtures import replay_server  # noqa: F401 - a fixture
from ind320_assets_tests.test_revision_feed_sensor import Tick, replay_without_feed  # noqa: F401 - a fixture
from ind320_assets_tests import stored_rows

pytestmark = pytest.mark.services

# A clock in February 2021 with a two-month look-back: 2021-01 and 2021-02, 10 partitions.
SENSOR = build_revision_sensor(PRODUCTION_SPEC, lookback=2, now=lambda: pd.Timestamp("2021-02-15", tz=OSLO_TZ))
REVISED = ["2021-01-01|NO1", "2021-02-01|NO3"]
PRODUCTION_ASSETS = build_dataset_assets(PRODUCTION_SPEC)


def tick(replay, instance, cursor):
    result = Tick(SENSOR, replay, cursor, instance)
    return result.run_requests, result.cursor, result.skipped


def test_lookback_is_the_current_month_and_those_before_it():
    assert lookback_months(date(2026, 11, 24), 4) == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert lookback_months(date(2021, 2, 3), 4) == [date(2021, 1, 1), date(2021, 2, 1)]


def test_a_revision_of_two_partitions_reloads_exactly_those_two(
    replay_without_feed, cassandra_keyspace, cql, mongo, mongo_db, tmp_path
):
    replay = replay_without_feed
    instance = DagsterInstance.ephemeral()
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    baseline = materialize(
        PRODUCTION_ASSETS, resources=resources, instance=instance,
        tags={"dagster/asset_partition_range_start": "2021-01-01|NO1",
              "dagster/asset_partition_range_end": "2021-02-01|NO5"},
    )
    assert baseline.success

    # No cursor yet: the sensor compares with what was materialized, finds nothing new.
    requests, cursor, skipped = tick(replay, instance, None)
    assert requests == [] and skipped.startswith("Fell back to look-back fingerprinting (/updates failed:")
    assert "HTTP 404" in skipped and "no revision in 2021-01..2021-02" in skipped

    for key in REVISED:
        month, area = key.split("|")
        replay.publish_revision(PRODUCTION.dataset_id, month[:7], [area], factor=1.25)
    requests, cursor, _ = tick(replay, instance, cursor)
    assert sorted(r.partition_key for r in requests) == REVISED
    assert all(r.run_key.startswith(f"{PRODUCTION.dataset_id}:") for r in requests)
    assert all(r.asset_selection == PRODUCTION_SPEC.asset_keys for r in requests)  # chain and views

    assert tick(replay, instance, cursor)[0] == []  # the same revision is never requested twice

    # A lost or corrupt cursor falls back to the materializations: only the two, not all ten.
    for broken in (None, "{not json"):
        assert sorted(r.partition_key for r in tick(replay, instance, broken)[0]) == REVISED

    for request in requests:
        assert materialize(PRODUCTION_ASSETS, partition_key=request.partition_key, resources=resources,
                           instance=instance, tags=request.tags).success

    for key in REVISED:
        month, area = key.split("|")
        start = date.fromisoformat(month)
        want = replay.frame(PRODUCTION, start, date(start.year, start.month + 1, 1), areas=[area])
        rows = pd.DataFrame(list(cql.execute(
            f"SELECT production_group, quantity_kwh FROM {cassandra_keyspace}.{PRODUCTION_SPEC.cassandra_table} "
            "WHERE price_area = %s AND month = %s", (area, month[:7]))))
        docs = stored_rows.mongo_rows(mongo_db[PRODUCTION_SPEC.mongo_collection], PRODUCTION_SPEC, {"price_area": area, "month": month[:7]})
        for frame in (rows, docs):
            got = {g: math.fsum(r["quantity_kwh"]) for g, r in frame.groupby("production_group")}
            assert got == {g: math.fsum(r["quantity_kwh"]) for g, r in want.groupby("production_group")}

    # After the reloads, even a corrupt cursor finds nothing left to do.
    assert tick(replay, instance, "{not json")[0] == []


def test_an_error_in_one_month_does_not_hide_the_others(replay_server):
    instance = DagsterInstance.ephemeral()
    # Both attempts at /updates fail, so the tick falls back; then both attempts for January.
    replay_server.set_faults(Faults(server_error_first_n=4))
    requests, cursor, _ = tick(replay_server, instance, json.dumps({"fingerprints": {}}))
    assert sorted(r.partition_key for r in requests) == [f"2021-02-01|NO{n}" for n in range(1, 6)]
    assert not any(key.startswith("2021-01") for key in json.loads(cursor)["fingerprints"])

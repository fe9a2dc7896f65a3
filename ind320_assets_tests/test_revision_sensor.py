"""The revision sensor requests exactly the revised partitions, once, and survives a lost cursor."""

import json
import math
from datetime import date

import pandas as pd
import pytest
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, materialize

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import PRODUCTION
from ind320_devkit.replay import Faults
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.sensors.elhub_revisions import build_revision_sensor, lookback_months

pytestmark = pytest.mark.services

# A clock in February 2021 with a two-month look-back: 2021-01 and 2021-02, 10 partitions.
SENSOR = build_revision_sensor(PRODUCTION_SPEC, lookback=2, today=lambda: date(2021, 2, 15))
REVISED = ["2021-01-01|NO1", "2021-02-01|NO3"]
PRODUCTION_ASSETS = build_dataset_assets(PRODUCTION_SPEC)


def tick(replay, instance, cursor):
    context = build_sensor_context(
        instance=instance, cursor=cursor,
        resources={"elhub": ElhubResource(base_url=replay.url, max_attempts=2, backoff_base_s=0.01)},
    )
    result = SENSOR(context)
    if isinstance(result, SkipReason):
        return [], context.cursor, result.skip_message
    assert isinstance(result, SensorResult)
    return result.run_requests, result.cursor, None


def test_lookback_is_the_current_month_and_those_before_it():
    assert lookback_months(date(2026, 11, 24), 4) == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert lookback_months(date(2021, 2, 3), 4) == [date(2021, 1, 1), date(2021, 2, 1)]


def test_a_revision_of_two_partitions_reloads_exactly_those_two(
    replay, cassandra_keyspace, cql, mongo, mongo_db, tmp_path
):
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
    assert requests == [] and "No revision" in skipped

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
        docs = pd.DataFrame(list(mongo_db[PRODUCTION_SPEC.mongo_collection].find({"price_area": area, "month": month[:7]})))
        for frame in (rows, docs):
            got = {g: math.fsum(r["quantity_kwh"]) for g, r in frame.groupby("production_group")}
            assert got == {g: math.fsum(r["quantity_kwh"]) for g, r in want.groupby("production_group")}

    # After the reloads, even a corrupt cursor finds nothing left to do.
    assert tick(replay, instance, "{not json")[0] == []


def test_an_error_in_one_month_does_not_hide_the_others(replay):
    instance = DagsterInstance.ephemeral()
    replay.set_faults(Faults(server_error_first_n=2))  # both attempts for January fail
    requests, cursor, _ = tick(replay, instance, json.dumps({"fingerprints": {}}))
    assert sorted(r.partition_key for r in requests) == [f"2021-02-01|NO{n}" for n in range(1, 6)]
    assert not any(key.startswith("2021-01") for key in json.loads(cursor)["fingerprints"])

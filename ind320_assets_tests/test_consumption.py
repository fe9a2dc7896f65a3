"""Datasets are declared, not copied: consumption, and a third one from a six-line spec."""

import math
from datetime import date

import pandas as pd
import pytest
from dagster import materialize

from ind320_assets.assets.datasets import CONSUMPTION_SPEC, build_dataset_assets
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.definitions import build_resources
from ind320_assets.domain import CONSUMPTION, PRODUCTION
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets_tests import stored_rows

pytestmark = pytest.mark.services


def test_one_consumption_partition_lands_with_exact_counts_and_sums(
    replay, cassandra_keyspace, cql, mongo, mongo_db, tmp_path
):
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    assets = build_dataset_assets(CONSUMPTION_SPEC)
    assert materialize(assets, partition_key="2021-10-01|NO2", resources=resources).success

    want = replay.frame(CONSUMPTION, date(2021, 10, 1), date(2021, 11, 1), areas=["NO2"])
    rows = pd.DataFrame(list(cql.execute(
        f"SELECT consumption_group, quantity_kwh, metering_point_count FROM {cassandra_keyspace}."
        f"{CONSUMPTION_SPEC.cassandra_table} WHERE price_area = 'NO2' AND month = '2021-10'")))
    docs = stored_rows.mongo_rows(mongo_db[CONSUMPTION_SPEC.mongo_collection], CONSUMPTION_SPEC, {"price_area": "NO2", "month": "2021-10"})
    assert len(rows) == len(docs) == len(want) == 5 * 745
    for frame in (rows, docs):
        for group, expected in want.groupby("consumption_group"):
            got = frame[frame["consumption_group"] == group]
            assert math.fsum(got["quantity_kwh"]) == math.fsum(expected["quantity_kwh"])
            assert int(got["metering_point_count"].sum()) == int(expected["metering_point_count"].sum())
    yearly = {d["consumption_group"]: d["quantity_kwh"] for d in mongo_db["elhub_consumption_yearly_totals"].find()}
    assert yearly == {g: round(math.fsum(r["quantity_kwh"]), 3) for g, r in want.groupby("consumption_group")}


def test_a_third_dataset_is_a_six_line_spec(replay, cassandra_keyspace, cql, mongo, mongo_db, tmp_path):
    """The replay serves only Elhub's two datasets, so the third reuses production's API dataset
    under names of its own: what makes it a dataset here is the spec, not a module."""
    spec = ElhubAssetSpec(
        name="pilot",
        dataset=PRODUCTION,
        cassandra_table="pilot_per_group_hour",
        mongo_collection="elhub_pilot",
    )
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    assets = build_dataset_assets(spec)
    assert sorted(key for a in assets for key in a.keys) == sorted(spec.asset_keys)
    assert materialize(assets, partition_key="2021-03-01|NO4", resources=resources).success

    want = replay.frame(PRODUCTION, date(2021, 3, 1), date(2021, 4, 1), areas=["NO4"])
    (row,) = cql.execute(f"SELECT count(*) AS n FROM {cassandra_keyspace}.pilot_per_group_hour")
    assert row.n == stored_rows.mongo_row_count(mongo_db["elhub_pilot"]) == len(want) == 5 * 743
    series = mongo_db["elhub_pilot_hourly_series"].find_one({"_id": "NO4|2021-03"})
    assert len(series["start_time"]) == 743
    assert mongo_db["elhub_pilot_daily_totals"].count_documents({}) == 5 * 31


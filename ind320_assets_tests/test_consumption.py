"""Consumption is declared, not copied: the same factory loads it with metering-point counts."""

import math
from datetime import date

import pandas as pd
import pytest
from dagster import materialize

from ind320_assets.assets.datasets import CONSUMPTION_SPEC
from ind320_assets.assets.elhub_pipeline import build_elhub_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import CONSUMPTION
from ind320_assets.resources.elhub import ElhubResource

pytestmark = pytest.mark.services


def test_one_consumption_partition_lands_with_exact_counts_and_sums(
    replay, cassandra_keyspace, cql, mongo, mongo_db, tmp_path
):
    resources = build_resources(keyspace=cassandra_keyspace, mongo_database=mongo.database, raw_dir=str(tmp_path))
    resources["elhub"] = ElhubResource(base_url=replay.url)
    chain = build_elhub_assets(CONSUMPTION_SPEC)
    assert materialize(chain, partition_key="2021-10-01|NO2", resources=resources).success

    want = replay.frame(CONSUMPTION, date(2021, 10, 1), date(2021, 11, 1), areas=["NO2"])
    rows = pd.DataFrame(list(cql.execute(
        f"SELECT consumption_group, quantity_kwh, metering_point_count FROM {cassandra_keyspace}."
        f"{CONSUMPTION_SPEC.cassandra_table} WHERE price_area = 'NO2' AND month = '2021-10'")))
    docs = pd.DataFrame(list(mongo_db[CONSUMPTION_SPEC.mongo_collection].find({"price_area": "NO2", "month": "2021-10"})))
    assert len(rows) == len(docs) == len(want) == 5 * 745
    for frame in (rows, docs):
        for group, expected in want.groupby("consumption_group"):
            got = frame[frame["consumption_group"] == group]
            assert math.fsum(got["quantity_kwh"]) == math.fsum(expected["quantity_kwh"])
            assert int(got["metering_point_count"].sum()) == int(expected["metering_point_count"].sum())

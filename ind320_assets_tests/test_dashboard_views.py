"""Dashboard views follow their base collection partition by partition and equal a recomputation."""

import io
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from dagster import materialize
from PIL import Image

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.charts import decode_chart
from ind320_assets.definitions import build_resources
from ind320_assets.domain import OSLO_TZ, PRODUCTION
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.views.refresh import ViewCollections
from ind320_assets_tests import stored_rows

pytestmark = pytest.mark.services

VIEWS = ViewCollections(PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.group_column)
GROUP = PRODUCTION_SPEC.group_column
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture
def run(replay, cassandra_keyspace, mongo, tmp_path, cql, mongo_db):
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    assets = build_dataset_assets(PRODUCTION_SPEC)

    def run(partition=None, *, start=None, end=None):
        tags = {RANGE_START: start, RANGE_END: end} if start else None
        result = materialize(assets, partition_key=partition, tags=tags, resources=resources)
        assert result.success
        return result

    return run


def recomputed_views(mongo_db) -> dict[str, dict[str, dict]]:
    """The three views computed afresh in pandas from every row of the base documents."""
    base = stored_rows.mongo_rows(mongo_db[VIEWS.base], PRODUCTION_SPEC)
    local = base["start_time"].dt.tz_convert(OSLO_TZ)
    base["day"], base["year"] = local.dt.strftime("%Y-%m-%d"), local.dt.strftime("%Y")
    daily = {
        f"{a}|{g}|{d}": round(math.fsum(rows["quantity_kwh"]), 3)
        for (a, g, d), rows in base.groupby(["price_area", GROUP, "day"])
    }
    yearly = {
        f"{a}|{g}|{y}": round(math.fsum(rows["quantity_kwh"]), 3)
        for (a, g, y), rows in base.groupby(["price_area", GROUP, "year"])
    }
    series = {
        f"{a}|{m}": {g: list(r.sort_values("start_time")["quantity_kwh"]) for g, r in rows.groupby(GROUP)}
        for (a, m), rows in base.groupby(["price_area", "month"])
    }
    return {"daily": daily, "yearly": yearly, "series": series}


def stored_views(mongo_db) -> dict[str, dict]:
    return {
        "daily": {d["_id"]: d["quantity_kwh"] for d in mongo_db[VIEWS.daily_totals].find()},
        "yearly": {d["_id"]: d["quantity_kwh"] for d in mongo_db[VIEWS.yearly_totals].find()},
        "series": {d["_id"]: d["series"] for d in mongo_db[VIEWS.hourly_series].find()},
    }


def test_views_equal_a_recomputation_after_one_partition_is_revised(run, replay, mongo_db):
    run(start="2021-10-01|NO1", end="2021-11-01|NO2")  # 2 months x 2 areas, one run
    before = stored_views(mongo_db)
    assert before == recomputed_views(mongo_db)
    # 2 areas x 5 groups x 61 days, and the yearly totals of both areas' five groups.
    assert len(before["daily"]) == 2 * 5 * 61 and len(before["yearly"]) == 2 * 5
    # The base day documents hold the stored columns, their day and their revision, no field
    # for grouping: the views are computed from the rows, not grouped in MongoDB.
    assert set(mongo_db[VIEWS.base].find_one()) == {
        "_id", "day", "revision", "revision_sum", *PRODUCTION_SPEC.stored_schema.names}

    replay.publish_revision(PRODUCTION.dataset_id, "2021-10", ["NO2"], factor=1.1)
    result = run("2021-10-01|NO2")
    after = stored_views(mongo_db)
    assert after == recomputed_views(mongo_db)

    # Only what the revised partition owns was rewritten.
    changed = {view: sorted(k for k in after[view] if after[view][k] != before[view][k]) for view in after}
    assert changed["series"] == ["NO2|2021-10"]
    assert changed["daily"] and all(k.startswith("NO2|") and "|2021-10-" in k for k in changed["daily"])
    assert changed["yearly"] and all(k.startswith("NO2|") for k in changed["yearly"])
    daily_metadata = result.asset_materializations_for_node("elhub_production_daily_totals")[0].metadata
    assert daily_metadata["documents_replaced"].value == len(changed["daily"])
    assert daily_metadata["documents_unchanged"].value == 5 * 31 - len(changed["daily"])

    # The revised October for NO2 is exactly the replay's, summed by day across the DST change.
    want = replay.frame(PRODUCTION, date(2021, 10, 1), date(2021, 11, 1), areas=["NO2"])
    hydro = want[want[GROUP] == "hydro"]
    dst_day = hydro[hydro["start_time"].dt.tz_convert(OSLO_TZ).dt.strftime("%Y-%m-%d") == "2021-10-31"]
    assert len(dst_day) == 25
    assert after["daily"]["NO2|hydro|2021-10-31"] == round(math.fsum(dst_day["quantity_kwh"]), 3)

    chart = mongo_db[VIEWS.hourly_series].find_one({"_id": "NO2|2021-10"})  # one query, one chart
    assert len(chart["start_time"]) == 745 and set(chart["series"]) == {"hydro", "other", "solar", "thermal", "wind"}
    assert chart["start_time"][0] == pd.Timestamp("2021-09-30T22:00Z")


def test_each_raw_partition_carries_its_own_chart_counts_and_sums(run):
    result = run(start="2021-03-01|NO1", end="2021-03-01|NO2")
    events = {e.partition: e.metadata for e in result.asset_materializations_for_node("elhub_production_raw")}
    assert set(events) == {"2021-03-01|NO1", "2021-03-01|NO2"}
    for metadata in events.values():
        assert metadata["dagster/row_count"].value == 5 * 743  # March 2021 has 743 local hours
        assert set(metadata["sums_kwh_per_group"].value) == {"hydro", "other", "solar", "thermal", "wind"}
        png = decode_chart(metadata["chart"].value)
        picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        assert picture.shape[0] > 100 and picture.shape[1] > 300 and picture.std() > 0
    assert events["2021-03-01|NO1"]["sums_kwh_per_group"] != events["2021-03-01|NO2"]["sums_kwh_per_group"]

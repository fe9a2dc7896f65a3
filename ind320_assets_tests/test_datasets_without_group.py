"""Datasets without a group (exchange, loss) are declarations only: same factory, same stores, same views."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import requests
from dagster import AssetKey, materialize
from pyspark.sql import types as T

from ind320_assets.assets.datasets import EXCHANGE_SPEC, LOSS_SPEC, SPECS, build_dataset_assets
from ind320_assets.definitions import build_resources, defs
from ind320_assets.domain import EXCHANGE, LOSS, OSLO_TZ, PRICE_AREA_EIC
from ind320_assets.elhub import DateWindow, ElhubDataError, parse_price_areas
from ind320_assets.mongo_documents import indexes
from ind320_assets.partition_slice import local_day_label, local_month_label
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.row_schema import schema_from_metadata
from ind320_assets.views.computation import daily_totals, hourly_series, kwh_total, yearly_totals
from ind320_assets.views.refresh import ViewCollections
from ind320_assets_tests import stored_rows

GROUPLESS = [EXCHANGE_SPEC, LOSS_SPEC]
STAGES = ("raw", "cassandra", "mongo", "daily_totals", "yearly_totals", "hourly_series")
MARCH = DateWindow(date(2021, 3, 1), date(2021, 4, 1))


# --- The declaration, with no service --------------------------------------------------


def test_the_declarations_are_data():
    assert (EXCHANGE.group_column, EXCHANGE.quantity_columns) == (None, ("exchange_in_quantity_kwh", "exchange_out_quantity_kwh"))
    assert (LOSS.group_column, LOSS.quantity_columns) == (None, ("calculated_loss_quantity_kwh",))
    assert (EXCHANGE.list_attribute, LOSS.list_attribute) == ("exchangePerMbaHour", "lossPerMbaHour")
    assert [s.name for s in SPECS[-2:]] == ["exchange", "loss"]


@pytest.mark.parametrize("spec", GROUPLESS, ids=lambda s: s.name)
def test_the_definitions_hold_six_assets_in_the_datasets_own_group_wired_as_the_others(spec):
    graph = defs.resolve_asset_graph()
    name = f"elhub_{spec.name}_"
    assert {k for k in graph.get_all_asset_keys() if k.path[-1].startswith(name)} == {AssetKey(name + s) for s in STAGES}
    assert {graph.get(spec.key(stage)).group_name for stage in STAGES} == {f"elhub_{spec.name}"}
    parents = {stage: {k.path[-1] for k in graph.get(spec.key(stage)).parent_keys} for stage in STAGES}
    assert parents == {
        "raw": set(), "cassandra": {name + "raw"}, "mongo": {name + "cassandra"},
        "daily_totals": {name + "cassandra", name + "mongo"}, "yearly_totals": {name + "daily_totals"},
        "hourly_series": {name + "cassandra", name + "mongo"},
    }
    checks = {(c.asset_key.path[-1], c.name) for a in defs.assets for c in a.check_specs if c.asset_key.path[-1].startswith(name)}
    assert checks == {(name + "raw", "hours_complete"), (name + "raw", "rows_not_withdrawn"),
                      (name + "cassandra", "matches_raw"), (name + "mongo", "matches_cassandra")}
    # No write pool: overlapping runs are correct (the newest revision wins), and a killed run holds no slot.
    assert all(not graph.get(spec.key(stage)).pools for stage in STAGES)


def test_the_tables_have_the_area_month_partition_and_the_hour_as_their_only_clustering_column():
    assert EXCHANGE_SPEC.stored_schema.create_table_cql("ks.exchange_per_hour") == (
        "CREATE TABLE IF NOT EXISTS ks.exchange_per_hour (price_area text, month text, start_time timestamp, "
        "end_time timestamp, last_updated_time timestamp, exchange_in_quantity_kwh double, "
        "exchange_out_quantity_kwh double, PRIMARY KEY ((price_area, month), start_time))"
    )
    assert LOSS_SPEC.stored_schema.create_table_cql("ks.loss_per_hour") == (
        "CREATE TABLE IF NOT EXISTS ks.loss_per_hour (price_area text, month text, start_time timestamp, "
        "end_time timestamp, last_updated_time timestamp, calculated_loss_quantity_kwh double, "
        "PRIMARY KEY ((price_area, month), start_time))"
    )


def test_the_spark_schema_and_the_mongo_indexes_follow_the_declaration():
    schema = EXCHANGE_SPEC.stored_schema.spark_schema()
    assert [(f.name, f.dataType, f.nullable) for f in schema.fields] == [
        ("price_area", T.StringType(), False), ("month", T.StringType(), True), ("start_time", T.TimestampType(), False),
        ("end_time", T.TimestampType(), True), ("last_updated_time", T.TimestampType(), True),
        ("exchange_in_quantity_kwh", T.DoubleType(), True), ("exchange_out_quantity_kwh", T.DoubleType(), True),
    ]
    (unique, area_month) = [index.document for index in indexes(EXCHANGE_SPEC.stored_schema)]
    assert (dict(unique["key"]), unique["unique"], unique["name"]) == ({"price_area": 1, "day": 1}, True, "area_day_unique")
    assert dict(area_month["key"]) == {"price_area": 1, "month": 1}


@pytest.mark.parametrize("spec", GROUPLESS, ids=lambda s: s.name)
def test_the_stores_read_the_schema_back_from_the_assets_metadata(spec):
    metadata = defs.resolve_asset_graph().get(spec.key("cassandra")).metadata
    schema = schema_from_metadata(metadata)
    assert metadata["cassandra/table"] == spec.cassandra_table
    assert (schema.row_key, schema.group_column, schema.quantity_columns) == (
        ("price_area", "start_time"), None, spec.quantity_columns)
    assert schema.primary_key == ("price_area", "month", "start_time")


def exchange_record(hour: int, kwh_in: object = 1200.5, kwh_out: object = 300.25) -> dict:
    return {
        "endTime": f"2021-03-01T{hour + 1:02d}:00:00+01:00", "exchangeInQuantityKwh": kwh_in,
        "exchangeOutQuantityKwh": kwh_out, "lastUpdatedTime": "2024-12-20T10:35:40+01:00", "priceArea": "NO1",
        "startTime": f"2021-03-01T{hour:02d}:00:00+01:00",
    }


def area_document(dataset, records: list[dict]) -> dict:
    item = {"attributes": {"country": "NO", "eic": PRICE_AREA_EIC["NO1"], "name": "NO1", dataset.list_attribute: records},
            "id": "NO1", "type": "price-areas"}
    return {"data": [item], "links": {"self": "x"}, "meta": {}}


def test_a_record_becomes_one_row_with_a_column_per_quantity():
    frame = parse_price_areas(area_document(EXCHANGE, [exchange_record(h) for h in range(3)]), EXCHANGE, MARCH, ["NO1"])
    assert list(frame.columns) == ["price_area", "start_time", "end_time", "last_updated_time",
                                   "exchange_in_quantity_kwh", "exchange_out_quantity_kwh"]
    assert len(frame) == 3 and frame["exchange_out_quantity_kwh"].tolist() == [300.25] * 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "12.5", None])
def test_a_quantity_that_is_not_a_finite_number_refuses_the_whole_response(bad):
    records = [exchange_record(0), exchange_record(1, kwh_out=bad)]
    with pytest.raises(ElhubDataError, match="exchangeOutQuantityKwh"):
        parse_price_areas(area_document(EXCHANGE, records), EXCHANGE, MARCH, ["NO1"])


def test_a_negative_loss_is_kept_and_a_negative_exchange_is_refused():
    loss = {k: v for k, v in exchange_record(0).items() if not k.startswith("exchange")}
    frame = parse_price_areas(area_document(LOSS, [{**loss, "calculatedLossQuantityKwh": -3.5}]), LOSS, MARCH, ["NO1"])
    assert frame["calculated_loss_quantity_kwh"].tolist() == [-3.5]
    with pytest.raises(ElhubDataError, match="exchangeInQuantityKwh is not a finite number >= 0"):
        parse_price_areas(area_document(EXCHANGE, [exchange_record(0, kwh_in=-1.0)]), EXCHANGE, MARCH, ["NO1"])


REVISION = pd.Timestamp("2024-04-02 08:00", tz="UTC")


def march_rows() -> pd.DataFrame:
    """Every local hour of March 2021 in NO1 (the 28th has 23), as the Cassandra IO manager hands them over."""
    hours = pd.date_range("2021-03-01", "2021-04-01", freq="h", inclusive="left", tz=OSLO_TZ).tz_convert("UTC")
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "price_area": "NO1", "start_time": hours, "month": local_month_label(pd.Series(hours)),
        "last_updated_time": REVISION,
        "exchange_in_quantity_kwh": np.round(rng.uniform(0, 2e6, len(hours)), 1),
        "exchange_out_quantity_kwh": np.round(rng.uniform(0, 1e6, len(hours)), 1),
    })


def test_the_views_sum_each_quantity_column_per_area_and_day_and_year():
    rows, quantities = march_rows(), EXCHANGE.quantity_columns
    assert len(rows) == 743
    daily = {d["_id"]: d for d in daily_totals(rows, None, quantities)}
    assert len(daily) == 31
    dst_day = rows[local_day_label(rows["start_time"]) == "2021-03-28"]
    assert len(dst_day) == 23
    assert daily["NO1|2021-03-28"] == {
        "_id": "NO1|2021-03-28", "price_area": "NO1", "day": "2021-03-28", "month": "2021-03", "year_key": "NO1|2021",
        **{c: kwh_total(dst_day[c]) for c in quantities}, "revision": REVISION,
        "revision_sum": REVISION.value // 10**6 * 23,
    }
    (year,) = yearly_totals(daily.values(), None, quantities)
    assert year == {
        "_id": "NO1|2021", "price_area": "NO1", "year": "2021", **{c: kwh_total(rows[c]) for c in quantities},
        "revision": REVISION, "revision_sum": REVISION.value // 10**6 * 743,
    }
    (series,) = hourly_series(rows, None, quantities)
    assert (series["_id"], len(series["start_time"]), sorted(series["series"])) == ("NO1|2021-03", 743, sorted(quantities))
    assert series["series"]["exchange_in_quantity_kwh"] == rows["exchange_in_quantity_kwh"].tolist()


def test_the_replay_serves_each_dataset_in_the_api_shape_with_23_and_25_hour_days(replay):
    for dataset, day, hours in ((EXCHANGE, "2021-03-28", 23), (LOSS, "2021-10-31", 25)):
        next_day = date.fromisoformat(day) + timedelta(days=1)
        params = {"dataset": dataset.dataset_id, "startDate": day, "endDate": next_day.isoformat()}
        document = requests.get(f"{replay.url}/price-areas", params=params, timeout=30).json()
        items = {item["id"]: item["attributes"][dataset.list_attribute] for item in document["data"]}
        assert items["*"] == [] and set(items) == {"*", "NO1", "NO2", "NO3", "NO4", "NO5"}
        for area in ("NO1", "NO5"):
            records = items[area]
            assert len(records) == hours
            assert set(records[0]) == {"startTime", "endTime", "lastUpdatedTime", "priceArea", *dataset.quantity_fields}
            assert all(isinstance(r[f], float) and math.isfinite(r[f]) for r in records for f in dataset.quantity_fields)


# --- End to end, on the real services ------------------------------------------------


@pytest.mark.services
@pytest.mark.parametrize(("spec", "partition", "hours"), [
    (EXCHANGE_SPEC, "2021-03-01|NO1", 743),  # spring forward: 2021-03-28 has 23 hours
    (LOSS_SPEC, "2021-10-01|NO3", 745),  # fall back: 2021-10-31 has 25 hours
], ids=["exchange", "loss"])
def test_one_partition_lands_end_to_end_with_exact_counts_and_sums(
    spec, partition, hours, replay, cassandra_keyspace, cql, mongo, mongo_db, tmp_path
):
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database},
                                parquet_io_manager={"base_dir": str(tmp_path)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    result = materialize(build_dataset_assets(spec), partition_key=partition, resources=resources)
    assert result.success
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "hours_complete": True, "rows_not_withdrawn": True, "matches_raw": True, "matches_cassandra": True}

    area, month = partition.split("|")[1], partition[:7]
    start = date.fromisoformat(partition[:10])
    want = replay.frame(spec.dataset, start, date(start.year + start.month // 12, start.month % 12 + 1, 1), areas=[area])
    quantities = list(spec.quantity_columns)
    assert len(want) == hours

    key = [(r.column_name, r.kind) for r in cql.execute(
        "SELECT column_name, kind FROM system_schema.columns WHERE keyspace_name = %s AND table_name = %s",
        (cassandra_keyspace, spec.cassandra_table)) if r.kind != "regular"]
    assert sorted(key) == [("month", "partition_key"), ("price_area", "partition_key"), ("start_time", "clustering")]
    stored = pd.DataFrame(list(cql.execute(
        f"SELECT start_time, {', '.join(quantities)} FROM {cassandra_keyspace}.{spec.cassandra_table} "
        "WHERE price_area = %s AND month = %s", (area, month))))
    docs = stored_rows.mongo_rows(mongo_db[spec.mongo_collection], spec, {"price_area": area, "month": month})
    assert len(stored) == len(docs) == hours
    for frame in (stored, docs):
        assert {c: math.fsum(frame[c]) for c in quantities} == {c: math.fsum(want[c]) for c in quantities}
    first = want["start_time"].min()
    assert docs.set_index("start_time").loc[first, quantities].tolist() == want.iloc[0][quantities].tolist()

    views = ViewCollections(spec.mongo_collection, None, spec.quantity_columns)
    days = local_day_label(want["start_time"])
    daily = {d["_id"]: d for d in mongo_db[views.daily_totals].find()}
    assert set(daily) == {f"{area}|{day}" for day in days.unique()}
    for day, rows in want.groupby(days):
        assert {c: daily[f"{area}|{day}"][c] for c in quantities} == {c: kwh_total(rows[c]) for c in quantities}
    short_or_long = {day: n for day, n in days.value_counts().items() if n != 24}
    assert short_or_long == ({"2021-03-28": 23} if hours == 743 else {"2021-10-31": 25})
    (yearly,) = mongo_db[views.yearly_totals].find()
    assert yearly["_id"] == f"{area}|2021"
    assert {c: yearly[c] for c in quantities} == {c: kwh_total(daily[d][c] for d in daily) for c in quantities}
    series = mongo_db[views.hourly_series].find_one({"_id": f"{area}|{month}"})
    assert len(series["start_time"]) == hours and set(series["series"]) == set(quantities)
    for c in quantities:
        assert math.fsum(series["series"][c]) == math.fsum(want[c])

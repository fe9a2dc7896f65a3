"""The three production assets against the real services and the replay server.

Every assertion reads the stores directly (cassandra-driver, pymongo), never
through our IO managers, and compares with the replay's own data.
"""

import math
from datetime import date

import pandas as pd
import pytest
from dagster import Config, DagsterInstance, materialize

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.assets.elhub_pipeline import build_elhub_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import PRODUCTION
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets_tests import stored_rows
from ind320_devkit.replay import Faults

pytestmark = pytest.mark.services

TABLE = PRODUCTION_SPEC.cassandra_table
COLLECTION = PRODUCTION_SPEC.mongo_collection
CHAIN = build_elhub_assets(PRODUCTION_SPEC)  # raw → Cassandra → MongoDB; the views have their own tests
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture
def run(replay, cassandra_keyspace, mongo, tmp_path, cql, mongo_db):
    """Materialize the production chain for a key or a key range, in one run."""
    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path / "raw")})
    # Fail fast when a test injects faults: two attempts, tiny backoff.
    resources["elhub"] = ElhubResource(base_url=replay.url, max_attempts=2, backoff_base_s=0.01)

    def run(partition: str | None = None, *, start: str | None = None, end: str | None = None,
            instance: DagsterInstance | None = None, raise_on_error: bool = True):
        tags = {RANGE_START: start, RANGE_END: end} if start else None
        return materialize(
            CHAIN, partition_key=partition, tags=tags, resources=resources,
            instance=instance, raise_on_error=raise_on_error,
        )

    return run


def cassandra_rows(cql, keyspace: str, area: str, month: str) -> pd.DataFrame:
    rows = cql.execute(
        f"SELECT production_group, start_time, end_time, last_updated_time, quantity_kwh "
        f"FROM {keyspace}.{TABLE} WHERE price_area = %s AND month = %s", (area, month)
    )
    frame = pd.DataFrame(list(rows), columns=["production_group", "start_time", "end_time", "last_updated_time", "quantity_kwh"])
    for column in ("start_time", "end_time", "last_updated_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def mongo_rows(mongo_db, area: str, month: str) -> pd.DataFrame:
    rows = stored_rows.mongo_rows(mongo_db[COLLECTION], PRODUCTION_SPEC, {"price_area": area, "month": month})
    return rows.sort_values(["production_group", "start_time"], ignore_index=True)


def sums(frame: pd.DataFrame) -> dict[str, float]:
    return {g: math.fsum(rows["quantity_kwh"]) for g, rows in frame.groupby("production_group")}


def expected(replay, area: str, month_start: date, month_end: date) -> pd.DataFrame:
    return replay.frame(PRODUCTION, month_start, month_end, areas=[area])


def test_one_partition_lands_in_both_stores_exactly(run, replay, cql, cassandra_keyspace, mongo_db):
    result = run("2021-01-01|NO1")
    assert result.success
    want = expected(replay, "NO1", date(2021, 1, 1), date(2021, 2, 1))
    assert len(want) == 5 * 744

    stored = cassandra_rows(cql, cassandra_keyspace, "NO1", "2021-01")
    docs = mongo_rows(mongo_db, "NO1", "2021-01")
    assert len(stored) == len(docs) == 3720
    assert sums(stored) == sums(docs) == sums(want)
    first_hydro = stored[stored["production_group"] == "hydro"].sort_values("start_time").iloc[0]
    assert first_hydro["start_time"] == pd.Timestamp("2020-12-31T23:00Z")
    assert first_hydro["quantity_kwh"] == 2507716.8  # the real API's value for this hour

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "hours_complete": True, "rows_not_withdrawn": True, "matches_raw": True, "matches_cassandra": True,
    }
    indexes = mongo_db[COLLECTION].index_information()
    assert indexes["area_group_day_unique"]["unique"]
    # One document per series and local day.
    assert mongo_db[COLLECTION].count_documents({"price_area": "NO1", "month": "2021-01"}) == 5 * 31


def test_a_range_of_months_and_areas_is_one_run_with_one_request_per_month(
    run, replay, cql, cassandra_keyspace, mongo_db
):
    requests_before = len(replay.requests)
    result = run(start="2021-02-01|NO2", end="2021-03-01|NO3")
    assert result.success
    assert len(replay.requests) - requests_before == 2  # Feb and Mar, both areas at once
    for area in ("NO2", "NO3"):
        for month_start, month_end, hours in ((date(2021, 2, 1), date(2021, 3, 1), 672), (date(2021, 3, 1), date(2021, 4, 1), 743)):
            stored = cassandra_rows(cql, cassandra_keyspace, area, month_start.strftime("%Y-%m"))
            assert len(stored) == 5 * hours
            assert sums(stored) == sums(expected(replay, area, month_start, month_end))
            assert len(mongo_rows(mongo_db, area, month_start.strftime("%Y-%m"))) == 5 * hours
    assert stored_rows.mongo_row_count(mongo_db[COLLECTION]) == 2 * 5 * (672 + 743)


def test_rematerializing_converges_to_identical_rows(run, cql, cassandra_keyspace, mongo_db):
    run("2021-04-01|NO4")
    first_c = cassandra_rows(cql, cassandra_keyspace, "NO4", "2021-04").sort_values(["production_group", "start_time"])
    first_m = mongo_rows(mongo_db, "NO4", "2021-04")
    result = run("2021-04-01|NO4")
    again_c = cassandra_rows(cql, cassandra_keyspace, "NO4", "2021-04").sort_values(["production_group", "start_time"])
    again_m = mongo_rows(mongo_db, "NO4", "2021-04")
    pd.testing.assert_frame_equal(first_c.reset_index(drop=True), again_c.reset_index(drop=True))
    pd.testing.assert_frame_equal(first_m.reset_index(drop=True), again_m.reset_index(drop=True))
    mongo_meta = result.asset_materializations_for_node("elhub_production_mongo")[0].metadata
    assert mongo_meta["documents_unchanged"].value == 5 * 30  # one per series and day
    assert mongo_meta["documents_inserted"].value == mongo_meta["documents_replaced"].value == 0


def test_a_revision_in_the_replay_updates_both_stores(run, replay, cql, cassandra_keyspace, mongo_db):
    run("2021-05-01|NO2")
    before = sums(cassandra_rows(cql, cassandra_keyspace, "NO2", "2021-05"))
    revision = replay.publish_revision(PRODUCTION.dataset_id, "2021-05", ["NO2"], factor=1.5)
    run("2021-05-01|NO2")

    want = expected(replay, "NO2", date(2021, 5, 1), date(2021, 6, 1))
    stored = cassandra_rows(cql, cassandra_keyspace, "NO2", "2021-05")
    docs = mongo_rows(mongo_db, "NO2", "2021-05")
    assert len(stored) == len(docs) == len(want) == 5 * 744
    assert sums(stored) == sums(docs) == sums(want) != before
    assert set(stored["last_updated_time"]) == {revision.last_updated}


class Withdraw(Config):
    group: str = ""  # the group whose rows the rerun no longer carries


def test_rows_withdrawn_from_a_partition_are_deleted_from_both_stores(
    run, replay, cql, cassandra_keyspace, mongo_db, tmp_path, mongo
):
    """The IO managers' stale-row delete, through a small asset that drops one series on its rerun."""
    from dagster import asset

    from ind320_assets.assets.elhub_pipeline import store_rows
    from ind320_assets.partitions import ELHUB_PARTITIONS
    from ind320_assets.row_schema import CASSANDRA_TABLE_KEY, COLUMN_SCHEMA_KEY, MONGO_COLLECTION_KEY

    metadata = {CASSANDRA_TABLE_KEY: TABLE, MONGO_COLLECTION_KEY: COLLECTION,
                COLUMN_SCHEMA_KEY: PRODUCTION_SPEC.stored_schema.table_schema()}
    raw = expected(replay, "NO5", date(2021, 8, 1), date(2021, 9, 1))

    @asset(partitions_def=ELHUB_PARTITIONS, io_manager_key="cassandra_io_manager", metadata=metadata)
    def to_cassandra(config: Withdraw) -> pd.DataFrame:
        return store_rows(raw[raw["production_group"] != config.group], PRODUCTION_SPEC)

    @asset(partitions_def=ELHUB_PARTITIONS, io_manager_key="mongo_io_manager", metadata=metadata)
    def to_mongo(config: Withdraw) -> pd.DataFrame:
        return store_rows(raw[raw["production_group"] != config.group], PRODUCTION_SPEC)

    resources = build_resources(cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database}, parquet_io_manager={"base_dir": str(tmp_path)})
    for withdrawn in ("", "solar"):
        config = {"ops": {name: {"config": {"group": withdrawn}} for name in ("to_cassandra", "to_mongo")}}
        assert materialize([to_cassandra, to_mongo], partition_key="2021-08-01|NO5", resources=resources,
                           run_config=config).success

    stored = cassandra_rows(cql, cassandra_keyspace, "NO5", "2021-08")
    docs = mongo_rows(mongo_db, "NO5", "2021-08")
    assert set(stored["production_group"]) == set(docs["production_group"]) == {"hydro", "other", "thermal", "wind"}
    assert len(stored) == len(docs) == 4 * 744


@pytest.mark.parametrize(
    ("partition", "month", "hours", "local_2am_hours", "utc_instants"),
    [
        # Spring forward: local 02:00 does not exist; 01:00 CET is 00:00Z and 03:00 CEST is 01:00Z.
        ("2021-03-01|NO1", "2021-03", 743, 0, ["2021-03-28T00:00Z", "2021-03-28T01:00Z"]),
        # Fall back: local 02:00 happens twice, at 00:00Z (CEST) and 01:00Z (CET).
        ("2021-10-01|NO1", "2021-10", 745, 2, ["2021-10-31T00:00Z", "2021-10-31T01:00Z"]),
    ],
)
def test_dst_months_round_trip_with_exact_utc_instants(
    run, cql, cassandra_keyspace, mongo_db, partition, month, hours, local_2am_hours, utc_instants
):
    run(partition)
    dst_day = f"{month}-{28 if month.endswith('03') else 31} 02"
    for frame in (cassandra_rows(cql, cassandra_keyspace, "NO1", month), mongo_rows(mongo_db, "NO1", month)):
        hydro = frame[frame["production_group"] == "hydro"].sort_values("start_time")
        assert len(hydro) == hours
        assert list(hydro["start_time"].diff().dropna().unique()) == [pd.Timedelta("1h")]  # contiguous, no duplicates
        local_hours = hydro["start_time"].dt.tz_convert("Europe/Oslo").dt.strftime("%Y-%m-%d %H")
        assert (local_hours == dst_day).sum() == local_2am_hours
        assert set(pd.to_datetime(utc_instants, utc=True)) <= set(hydro["start_time"])


def test_a_failing_fetch_writes_nothing_downstream(run, replay, cql, cassandra_keyspace, mongo_db):
    replay.set_faults(Faults(server_error_fraction=1.0))
    result = run("2021-07-01|NO3", raise_on_error=False)
    assert not result.success
    tables = [r.table_name for r in cql.execute(
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (cassandra_keyspace,))]
    assert TABLE not in tables  # the Cassandra step never ran, so it never created its table
    assert mongo_db[COLLECTION].count_documents({"price_area": "NO3", "month": "2021-07"}) == 0


def test_hourly_documents_of_the_layout_before_give_way_partition_by_partition(run, mongo_db):
    """A collection written before day documents: each partition's run replaces its
    hourly documents, and the day documents' unique index comes once none is left."""
    collection = mongo_db[COLLECTION]
    collection.create_index([("price_area", 1), ("production_group", 1), ("start_time", 1)],
                            unique=True, name="area_group_start_unique")
    hour = pd.Timestamp("2021-06-01T00:00Z").to_pydatetime()
    collection.insert_many([
        {"_id": f"{area}|hydro|2021-06-01T00:00:00Z", "price_area": area, "month": "2021-06",
         "production_group": "hydro", "start_time": hour, "quantity_kwh": 1.0}
        for area in ("NO1", "NO2")
    ])

    assert run("2021-06-01|NO1").success
    assert collection.find_one({"_id": "NO1|hydro|2021-06-01T00:00:00Z"}) is None
    assert collection.find_one({"_id": "NO2|hydro|2021-06-01T00:00:00Z"}) is not None  # not this run's partition
    # The old unique index went before the first day document came in (on MongoDB a day
    # document would collide with the hourly documents of its hours); a marker holds its place.
    assert set(collection.index_information()) == {"_id_", "hourly_documents_remain"}
    assert len(mongo_rows(mongo_db, "NO1", "2021-06")) == 5 * 720

    assert run("2021-06-01|NO2").success
    assert collection.count_documents({"day": {"$exists": False}}) == 0
    indexes = collection.index_information()
    assert set(indexes) == {"_id_", "area_month", "area_group_day_unique"} and indexes["area_group_day_unique"]["unique"]
    assert len(mongo_rows(mongo_db, "NO2", "2021-06")) == 5 * 720

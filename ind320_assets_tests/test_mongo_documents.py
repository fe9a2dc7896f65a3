"""The MongoDB day documents, without a server: ids, arrays across DST, the round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from ind320_assets.domain import EXCHANGE, PRODUCTION
from ind320_assets.mongo_documents import document_ids, possible_id_count, possible_ids, to_documents, to_rows
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.row_schema import stored_schema

PRODUCTION_ROWS, EXCHANGE_ROWS = stored_schema(PRODUCTION), stored_schema(EXCHANGE)


def _rows(area: str, groups: list[str], local_start: str, local_end: str) -> pd.DataFrame:
    hours = pd.date_range(pd.Timestamp(local_start, tz="Europe/Oslo"), pd.Timestamp(local_end, tz="Europe/Oslo"),
                          freq="h", inclusive="left").tz_convert("UTC")
    frames = [
        pd.DataFrame({
            "price_area": area, "month": hours.tz_convert("Europe/Oslo").strftime("%Y-%m"), "production_group": group,
            "start_time": hours, "end_time": hours + pd.Timedelta("1h"),
            "last_updated_time": pd.Timestamp("2024-12-20 09:35:40", tz="UTC"),
            "quantity_kwh": [float(i) + 0.125 * n for i in range(len(hours))],
        })
        for n, group in enumerate(groups)
    ]
    return pd.concat(frames, ignore_index=True)[PRODUCTION_ROWS.names].astype(PRODUCTION_ROWS.pandas_dtypes())


def test_one_document_per_series_and_local_day_with_23_24_and_25_hours():
    rows = _rows("NO1", ["hydro", "wind"], "2021-03-27", "2021-03-30")  # spring forward on 28 March
    rows = pd.concat([rows, _rows("NO1", ["hydro"], "2021-10-30", "2021-11-01")], ignore_index=True)  # back on 31 Oct
    documents = {d["_id"]: d for d in to_documents(rows.sample(frac=1, random_state=1), PRODUCTION_ROWS)}
    assert {i: len(d["start_time"]) for i, d in documents.items()} == {
        "NO1|hydro|2021-03-27": 24, "NO1|hydro|2021-03-28": 23, "NO1|hydro|2021-03-29": 24,
        "NO1|wind|2021-03-27": 24, "NO1|wind|2021-03-28": 23, "NO1|wind|2021-03-29": 24,
        "NO1|hydro|2021-10-30": 24, "NO1|hydro|2021-10-31": 25,
    }
    day = documents["NO1|hydro|2021-03-28"]
    assert (day["price_area"], day["production_group"], day["month"], day["day"]) == ("NO1", "hydro", "2021-03", "2021-03-28")
    # The local day starts at 23:00 UTC the evening before, and its arrays are in start-time order.
    assert day["start_time"][0] == pd.Timestamp("2021-03-27 23:00", tz="UTC")
    assert day["start_time"] == sorted(day["start_time"])
    assert len(day["end_time"]) == len(day["quantity_kwh"]) == len(day["last_updated_time"]) == 23
    assert documents["NO1|hydro|2021-10-31"]["start_time"][-1] == pd.Timestamp("2021-10-31 22:00", tz="UTC")


def test_rows_come_back_exactly_from_their_documents():
    rows = _rows("NO3", ["hydro", "solar", "*"], "2021-10-01", "2021-11-01")
    back = to_rows(to_documents(rows, PRODUCTION_ROWS), PRODUCTION_ROWS)
    key = list(PRODUCTION_ROWS.row_key)
    pd.testing.assert_frame_equal(back.sort_values(key, ignore_index=True), rows.sort_values(key, ignore_index=True))
    assert len(back) == 3 * 745 and back["quantity_kwh"].sum() == rows["quantity_kwh"].sum()


def test_a_dataset_without_groups_has_one_document_per_area_and_day():
    hours = pd.date_range("2021-01-31 23:00", periods=48, freq="h", tz="UTC")
    rows = pd.DataFrame({
        "price_area": "NO2", "month": "2021-02", "start_time": hours, "end_time": hours + pd.Timedelta("1h"),
        "last_updated_time": hours, "exchange_in_quantity_kwh": 1.5, "exchange_out_quantity_kwh": -2.0,
    })[EXCHANGE_ROWS.names].astype(EXCHANGE_ROWS.pandas_dtypes())
    documents = to_documents(rows, EXCHANGE_ROWS)
    assert [d["_id"] for d in documents] == ["NO2|2021-02-01", "NO2|2021-02-02"]
    assert sorted(documents[0]) == sorted(
        ["_id", "price_area", "month", "day", "revision", "revision_sum", *EXCHANGE_ROWS.names[2:]])
    assert documents[0]["revision"] == hours[23]  # the latest last_updated_time of the day's hours
    assert documents[0]["revision_sum"] == sum(t.value // 10**6 for t in hours[:24])
    pd.testing.assert_frame_equal(to_rows(documents, EXCHANGE_ROWS), rows)


@pytest.mark.parametrize(("key", "days"), [("2021-02-01|NO2", 28), ("2021-10-01|NO3", 31), ("2024-02-01|NO4", 29)])
def test_possible_ids_are_every_allowed_series_on_every_local_day(key, days):
    partitions = PartitionSlice.from_keys([key])
    ids = list(possible_ids(PRODUCTION_ROWS, partitions))
    series = len(PRODUCTION.groups) + 1  # and the unspecified group `*`
    assert len(ids) == len(set(ids)) == series * days == possible_id_count(PRODUCTION_ROWS, partitions)
    area, first_day = key.split("|")[1], key[:10]
    assert f"{area}|hydro|{first_day}" in ids and f"{area}|*|{first_day}" in ids
    # The ids of real rows are among them, the first local hour (the evening before in UTC) included.
    rows = _rows(area, ["wind"], first_day, (pd.Timestamp(first_day) + pd.Timedelta(days=1)).strftime("%Y-%m-%d"))
    assert set(document_ids(rows, PRODUCTION_ROWS)) == {f"{area}|wind|{first_day}"} <= set(ids)
    assert len(list(possible_ids(EXCHANGE_ROWS, partitions))) == days == possible_id_count(EXCHANGE_ROWS, partitions)

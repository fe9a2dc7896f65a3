"""The replay must answer like Elhub, serve believable deterministic data, and inject faults on cue."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest
import requests

from ind320_assets.domain import CONSUMPTION, PRICE_AREA_EIC, PRICE_AREAS, PRODUCTION
from ind320_devkit.replay import Faults, ReplayCatalog, ReplayServer, replay_frame
from ind320_devkit.replay import calibration as ref
from ind320_devkit.replay import generator
from ind320_devkit.replay.faults import apply_data_faults
from ind320_devkit.replay.recorded import RECORDED_END, RECORDED_START, recorded_production
from ind320_assets_tests.replay_fixtures import REPLAY_NOW, replay_server  # noqa: F401

MARCH_2021 = {"dataset": PRODUCTION.dataset_id, "startDate": "2021-03-01", "endDate": "2021-04-01"}


@pytest.fixture(scope="module")
def production_2021() -> pd.DataFrame:
    return replay_frame(PRODUCTION, date(2021, 1, 1), date(2022, 1, 1), now=REPLAY_NOW)


def get(server: ReplayServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, timeout=10)


# --- The API's shape and manners ------------------------------------------------------


def test_all_areas_route_has_the_json_api_shape(replay_server: ReplayServer) -> None:
    response = get(replay_server, "/price-areas", **MARCH_2021)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.text.startswith(
        '{"data":[{"attributes":{"country":"NO","eic":"*","name":"*","productionPerGroupMbaHour":[]},"id":"*","type":"price-areas"},'
    )
    body = response.json()
    assert list(body) == ["data", "links", "meta"]
    assert [item["id"] for item in body["data"]] == ["*", *PRICE_AREAS]
    for item in body["data"][1:]:
        assert item["type"] == "price-areas"
        assert item["attributes"]["eic"] == PRICE_AREA_EIC[item["id"]]
        assert list(item["attributes"]) == ["country", "eic", "name", "productionPerGroupMbaHour"]
    first = body["data"][1]["attributes"]["productionPerGroupMbaHour"][0]
    assert first == {
        "endTime": "2021-03-01T01:00:00+01:00",
        "lastUpdatedTime": "2024-12-20T10:35:40+01:00",
        "priceArea": "NO1",
        "productionGroup": "hydro",
        "quantityKwh": first["quantityKwh"],
        "startTime": "2021-03-01T00:00:00+01:00",
    }
    assert body["links"]["self"].endswith("/price-areas?dataset=PRODUCTION_PER_GROUP_MBA_HOUR&endDate=2021-04-01&startDate=2021-03-01")
    assert body["meta"] == {"created": "2026-11-24T12:00:00+01:00", "lastUpdated": "2024-12-20T10:35:40+01:00"}


def test_single_area_route_returns_one_item_without_the_pseudo_area(replay_server: ReplayServer) -> None:
    body = get(replay_server, "/price-areas/NO3", dataset=CONSUMPTION.dataset_id, startDate="2021-01-01", endDate="2021-01-02").json()
    assert [item["id"] for item in body["data"]] == ["NO3"]
    records = body["data"][0]["attributes"]["consumptionPerGroupMbaHour"]
    assert len(records) == 24 * 5  # 600 rows a day for all five areas, as observed
    assert list(records[0]) == [
        "consumptionGroup", "endTime", "lastUpdatedTime", "meteringPointCount", "priceArea", "quantityKwh", "startTime"
    ]  # fmt: skip
    assert {r["consumptionGroup"] for r in records} == set(CONSUMPTION.groups)
    assert all(isinstance(r["meteringPointCount"], int) and r["meteringPointCount"] >= 5 for r in records)


def test_errors_look_like_the_api_s(replay_server: ReplayServer) -> None:
    bad_dataset = get(replay_server, "/price-areas", dataset="NOPE")
    assert bad_dataset.status_code == 400
    assert bad_dataset.headers["Content-Type"] == "application/vnd.api+json"
    error = bad_dataset.json()["errors"][0]
    assert error["status"] == "400" and error["title"] == "Invalid dataset for price-area entity"
    assert error["detail"] == "creationTime: 2026-11-24T12:00:00+01:00" and "self" in error["links"]

    unknown_path = get(replay_server, "/production", dataset=PRODUCTION.dataset_id)
    assert (unknown_path.status_code, unknown_path.headers["Content-Type"], unknown_path.text) == (
        404, "text/plain", "404 page not found"
    )  # fmt: skip
    assert get(replay_server, "/price-areas/NO9", dataset=PRODUCTION.dataset_id).status_code == 404
    too_long = get(replay_server, "/price-areas", dataset=PRODUCTION.dataset_id, startDate="2021-01-01", endDate="2021-03-01")
    assert too_long.status_code == 400 and too_long.json()["errors"][0]["title"] == "Invalid period"


def test_lower_case_dataset_ids_are_accepted(replay_server: ReplayServer) -> None:
    response = get(replay_server, "/price-areas/NO1", dataset="production_per_group_mba_hour", startDate="2021-01-01", endDate="2021-01-02")
    assert response.status_code == 200


def test_unsupported_parameters_are_ignored_and_give_the_default_window(replay_server: ReplayServer) -> None:
    body = get(
        replay_server, "/price-areas/NO1", dataset=PRODUCTION.dataset_id,
        startTime="2021-01-01T00:00:00Z", endTime="2021-01-31T23:00:00Z", **{"page[size]": "5"},
    ).json()  # fmt: skip
    starts = pd.to_datetime([r["startTime"] for r in body["data"][0]["attributes"]["productionPerGroupMbaHour"]], utc=True)
    published_end = pd.Timestamp("2026-11-23T23:00Z")  # end of yesterday, local
    assert starts.max() == published_end - pd.Timedelta(hours=1)
    assert starts.min() == published_end - pd.Timedelta(days=30)
    assert starts.year.unique().tolist() == [2026]


def test_a_time_of_day_is_read_as_oslo_wall_clock_and_its_offset_ignored(replay_server: ReplayServer) -> None:
    body = get(
        replay_server, "/price-areas/NO1", dataset=PRODUCTION.dataset_id, productionGroup="hydro",
        startDate="2021-01-01T00:00:00+02:00", endDate="2021-01-01T03:00:00+02:00",
    ).json()  # fmt: skip
    records = body["data"][0]["attributes"]["productionPerGroupMbaHour"]
    assert [r["startTime"] for r in records] == [f"2021-01-01T0{h}:00:00+01:00" for h in range(3)]
    assert records[0]["quantityKwh"] == 2507716.8


# --- The data ------------------------------------------------------------------------


def test_2021_production_has_the_reference_structure(production_2021: pd.DataFrame) -> None:
    assert len(production_2021) == 215_353
    counts = production_2021.groupby("production_group").size().to_dict()
    assert counts == {"hydro": 43_800, "other": 43_800, "solar": 43_800, "thermal": 43_800, "wind": 40_153}
    no5_wind = production_2021[(production_2021["price_area"] == "NO5") & (production_2021["production_group"] == "wind")]
    assert no5_wind["start_time"].min() == ref.NO5_WIND_FIRST_HOUR
    assert set(production_2021["last_updated_time"]) == {pd.Timestamp("2024-12-20T10:35:40+01:00")}
    assert (production_2021["quantity_kwh"] >= 0).all()


def test_2021_totals_match_the_public_reference(production_2021: pd.DataFrame) -> None:
    by_group = {g: math.fsum(rows["quantity_kwh"]) for g, rows in production_2021.groupby("production_group")}
    for group, total in ref.PRODUCTION_2021_GROUP_TOTAL_KWH.items():
        assert by_group[group] == pytest.approx(total, rel=1e-12, abs=0.01)
    by_series = {k: math.fsum(rows["quantity_kwh"]) for k, rows in production_2021.groupby(["price_area", "production_group"])}
    for series, total in ref.PRODUCTION_2021_TOTAL_KWH.items():
        assert by_series[series] == pytest.approx(total, abs=0.001)  # to the Wh


def test_no1_hydro_starts_2021_with_the_known_real_values(production_2021: pd.DataFrame) -> None:
    no1_hydro = production_2021[(production_2021["price_area"] == "NO1") & (production_2021["production_group"] == "hydro")]
    assert tuple(no1_hydro["quantity_kwh"].iloc[:25]) == ref.NO1_HYDRO_2021_FIRST_HOURS_KWH
    assert no1_hydro.iloc[0]["quantity_kwh"] == 2507716.8
    # No seam: the first generated hour is within 5% of the last known one.
    assert abs(no1_hydro["quantity_kwh"].iloc[25] / no1_hydro["quantity_kwh"].iloc[24] - 1) < 0.05


def test_quantities_are_rounded_like_elhub_s(production_2021: pd.DataFrame) -> None:
    def off_grid(quantity: pd.Series, per_kwh: int) -> int:
        values = quantity.to_numpy() * per_kwh
        return int((~np.isclose(values, np.round(values), atol=1e-6)).sum())

    by_series = production_2021.groupby(["price_area", "production_group"])["quantity_kwh"]
    assert {series: off_grid(q, 1000) for series, q in by_series} == dict.fromkeys(by_series.groups, 0)  # never finer than a Wh
    # Series under 100 kWh/h on average stay in Wh; the big ones are in 0.1 kWh, bar one
    # hour that absorbs the reference total's last digits.
    small = {("NO1", "other"), ("NO2", "other"), ("NO3", "other"), ("NO3", "thermal"), ("NO4", "solar"),
             ("NO5", "other"), ("NO5", "wind")}  # fmt: skip
    assert {series for series, q in by_series if q.mean() < 100} == small
    assert max(off_grid(q, 10) for series, q in by_series if series not in small) <= 1


def test_the_data_has_daily_and_seasonal_shape(production_2021: pd.DataFrame) -> None:
    local = production_2021["start_time"].dt.tz_convert("Europe/Oslo")
    solar = production_2021[(production_2021["production_group"] == "solar") & (production_2021["price_area"] == "NO1")]
    solar_local = local[solar.index]
    assert solar.loc[solar_local.dt.hour == 1, "quantity_kwh"].max() == 0  # no sun at night
    assert solar.loc[solar_local.dt.month == 6, "quantity_kwh"].sum() > 5 * solar.loc[solar_local.dt.month == 12, "quantity_kwh"].sum()
    household = replay_frame(CONSUMPTION, date(2021, 1, 1), date(2022, 1, 1), areas=["NO1"], now=REPLAY_NOW)
    household = household[household["consumption_group"] == "household"]
    month = household["start_time"].dt.tz_convert("Europe/Oslo").dt.month
    assert household.loc[month == 1, "quantity_kwh"].mean() > 1.5 * household.loc[month == 7, "quantity_kwh"].mean()


def test_consumption_has_25_series_and_metering_points_constant_within_a_day() -> None:
    frame = replay_frame(CONSUMPTION, date(2023, 3, 1), date(2023, 4, 1), now=REPLAY_NOW)
    assert set(frame.groupby(["price_area", "consumption_group"]).size()) == {743}
    assert len(frame.groupby(["price_area", "consumption_group"])) == 25
    assert (frame["metering_point_count"] >= 5).all() and str(frame["metering_point_count"].dtype) == "int64"
    per_day = frame.groupby(["price_area", "consumption_group", frame["start_time"].dt.tz_convert("Europe/Oslo").dt.date])
    assert (per_day["metering_point_count"].nunique() == 1).all()


def test_the_recording_is_served_verbatim() -> None:
    served = replay_frame(PRODUCTION, RECORDED_START, RECORDED_END, now=REPLAY_NOW)
    pd.testing.assert_frame_equal(served, recorded_production())


def test_generation_is_deterministic_across_processes() -> None:
    def digest(frame: pd.DataFrame) -> str:
        return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()

    here = digest(replay_frame(CONSUMPTION, date(2024, 2, 1), date(2024, 3, 1), now=REPLAY_NOW))
    code = (
        "import hashlib, pandas as pd; from datetime import date; from ind320_assets.domain import CONSUMPTION;"
        "from ind320_devkit.replay import replay_frame;"
        f"f = replay_frame(CONSUMPTION, date(2024, 2, 1), date(2024, 3, 1), now='{REPLAY_NOW}');"
        "print(hashlib.sha256(pd.util.hash_pandas_object(f, index=False).to_numpy().tobytes()).hexdigest())"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=os.getcwd()).stdout.strip()
    assert here == there


def test_one_month_of_all_areas_generates_from_cold_caches() -> None:
    for cache in (generator.series_year, generator.shape, generator.noise, generator.level, generator.year_grid):
        cache.cache_clear()
    frame = replay_frame(PRODUCTION, date(2023, 7, 1), date(2023, 8, 1), now=REPLAY_NOW)
    assert len(frame) == 25 * 744


def test_recent_days_follow_the_d1_d6_d14_republication_pattern() -> None:
    frame = replay_frame(PRODUCTION, date(2026, 11, 1), date(2026, 11, 30), areas=["NO1"], now=REPLAY_NOW)
    local_day = frame["start_time"].dt.tz_convert("Europe/Oslo").dt.date
    assert local_day.max() == date(2026, 11, 23)  # published through yesterday
    lag_days = {
        day: (stamps.iloc[0].tz_convert("Europe/Oslo").date() - day).days
        for day, stamps in frame.groupby(local_day)["last_updated_time"]
    }
    assert lag_days[date(2026, 11, 23)] == 1 and lag_days[date(2026, 11, 17)] == 6 and lag_days[date(2026, 11, 9)] == 14
    assert set(lag_days.values()) == {1, 6, 14}

    later = replay_frame(PRODUCTION, date(2026, 11, 23), date(2026, 11, 24), areas=["NO1"], now="2026-12-24T12:00:00+01:00")
    preliminary = frame[local_day == date(2026, 11, 23)].reset_index(drop=True)
    ratio = later["quantity_kwh"].sum() / preliminary["quantity_kwh"].sum()
    assert ratio != 1 and abs(ratio - 1) < 0.05  # revised a little, not invented anew


def test_publish_revision_scales_one_month_for_chosen_areas_with_later_stamps(replay_server: ReplayServer) -> None:
    before = replay_server.frame(PRODUCTION, date(2021, 3, 1), date(2021, 4, 1))
    first = replay_server.publish_revision(PRODUCTION.dataset_id, month="2021-03", areas=["NO2"], factor=2.0)
    second = replay_server.publish_revision(PRODUCTION.dataset_id, month="2021-03", areas=["NO2"], factor=0.5)
    assert second.last_updated > first.last_updated
    after = replay_server.frame(PRODUCTION, date(2021, 3, 1), date(2021, 4, 1))
    no2 = after["price_area"] == "NO2"
    assert set(after.loc[no2, "last_updated_time"]) == {second.last_updated}
    assert np.allclose(after.loc[no2, "quantity_kwh"], before.loc[no2, "quantity_kwh"], atol=0.06)
    pd.testing.assert_frame_equal(after[~no2], before[~no2])
    with pytest.raises(ValueError, match="unknown dataset"):
        replay_server.publish_revision("NOPE", month="2021-03", areas=["NO1"], factor=1.1)


# --- Faults --------------------------------------------------------------------------


def test_first_n_faults_stack_in_order_and_fractions_are_seeded() -> None:
    faults = Faults(throttle_first_n=2, server_error_first_n=1, truncated_body_first_n=1)
    assert [faults.transport_fault(i) for i in range(5)] == ["throttle", "throttle", "server_error", "truncated_body", None]
    seeded = Faults(server_error_fraction=0.25, seed=3)
    picks = [seeded.transport_fault(i) for i in range(400)]
    assert picks == [Faults(server_error_fraction=0.25, seed=3).transport_fault(i) for i in range(400)]
    assert 70 < picks.count("server_error") < 130
    assert picks != [Faults(server_error_fraction=0.25, seed=4).transport_fault(i) for i in range(400)]


def test_faults_read_environment_variables() -> None:
    faults = Faults.from_env({"ELHUB_REPLAY_LATENCY_MS": "150", "ELHUB_REPLAY_CONFLICTING_DUPLICATES": "true", "ELHUB_REPLAY_DROP_HOURS": "2"})
    assert (faults.latency_ms, faults.conflicting_duplicates, faults.drop_hours) == (150.0, True, 2)


def test_data_faults_drop_interior_hours_and_repeat_records() -> None:
    frame = replay_frame(PRODUCTION, date(2021, 2, 1), date(2021, 2, 3), areas=["NO1"], now=REPLAY_NOW)
    dropped = apply_data_faults(frame, PRODUCTION, Faults(drop_hours=3))
    assert len(dropped) == len(frame) - 5 * 3
    for _, series in dropped.groupby("production_group"):
        assert series["start_time"].min() == frame["start_time"].min()
        assert series["start_time"].max() == frame["start_time"].max()
    repeated = apply_data_faults(frame, PRODUCTION, Faults(duplicate_records=4))
    assert len(repeated) == len(frame) + 4 and repeated.duplicated().sum() == 4


def test_latency_is_fixed_plus_seeded_jitter() -> None:
    assert [Faults(latency_ms=200).delay_s(i) for i in range(3)] == [0.2, 0.2, 0.2]
    jittered = [Faults(latency_ms=100, jitter_ms=50, seed=1).delay_s(i) for i in range(50)]
    assert jittered == [Faults(latency_ms=100, jitter_ms=50, seed=1).delay_s(i) for i in range(50)]
    assert all(0.1 <= d < 0.15 for d in jittered) and len(set(jittered)) == 50


def test_a_delayed_request_is_answered_and_logged(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(latency_ms=50))
    get(replay_server, "/price-areas/NO1", dataset=PRODUCTION.dataset_id, startDate="2021-01-01", endDate="2021-01-02", extra="x")
    logged = replay_server.requests[-1]
    assert logged.path == "/energy-data/v0/price-areas/NO1" and logged.status == 200
    assert logged.params == {"dataset": PRODUCTION.dataset_id, "startDate": "2021-01-01", "endDate": "2021-01-02", "extra": "x"}


def test_the_command_line_server_picks_a_port_and_injects_faults() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ind320_devkit.replay", "--port", "0", "--now", REPLAY_NOW],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ELHUB_REPLAY_SERVER_ERROR_FIRST_N": "1"},
    )
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("ELHUB_API_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        params = {"dataset": PRODUCTION.dataset_id, "startDate": "2021-01-01", "endDate": "2021-01-02"}
        assert requests.get(f"{url}/price-areas/NO1", params=params, timeout=10).status_code == 500
        assert requests.get(f"{url}/price-areas/NO1", params=params, timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0


def test_catalog_frame_accepts_utc_instants_and_clips_to_published_hours() -> None:
    catalog = ReplayCatalog(now=REPLAY_NOW)
    frame = catalog.frame(PRODUCTION, pd.Timestamp("2026-11-23T20:00Z"), pd.Timestamp("2026-11-25T00:00Z"), areas=["NO1"])
    assert frame["start_time"].min() == pd.Timestamp("2026-11-23T20:00Z")
    assert frame["start_time"].max() == pd.Timestamp("2026-11-23T22:00Z")
    assert catalog.frame(PRODUCTION, date(2020, 1, 1), date(2020, 2, 1)).empty  # nothing before 2021

"""Elhub JSON must become exactly the right frame, or a clear error with no frame at all."""

from __future__ import annotations

import copy
import json
import math
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ind320_assets.domain import CONSUMPTION, PRICE_AREA_EIC, PRICE_AREAS, PRODUCTION, ElhubDataset
from ind320_assets.elhub import DateWindow, ElhubDataError, empty_frame, frame_dtypes, parse_price_areas
from ind320_assets.elhub.report import FetchReport, assess_completeness, drop_identical_duplicates
from ind320_assets_tests.replay_fixtures import recorded_rows

RECORDED_WINDOW = DateWindow(date(2025, 10, 20), date(2025, 11, 19))
JANUARY_FIRST = DateWindow(date(2021, 1, 1), date(2021, 1, 2))


def document(dataset: ElhubDataset, records_by_area: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A JSON:API document shaped like the API's, built by hand for the test."""
    pseudo = {"attributes": {"country": "NO", "eic": "*", "name": "*", dataset.list_attribute: []}, "id": "*", "type": "price-areas"}
    items = [pseudo] + [
        {
            "attributes": {"country": "NO", "eic": PRICE_AREA_EIC[area], "name": area, dataset.list_attribute: records},
            "id": area,
            "type": "price-areas",
        }
        for area, records in records_by_area.items()
    ]
    return {"data": items, "links": {"self": "https://example.test"}, "meta": {"created": "x", "lastUpdated": "y"}}


def production_record(hour: int, group: str = "hydro", area: str = "NO1", quantity: Any = 2507716.8) -> dict[str, Any]:
    return {
        "endTime": f"2021-01-01T{hour + 1:02d}:00:00+01:00",
        "lastUpdatedTime": "2024-12-20T10:35:40+01:00",
        "priceArea": area,
        "productionGroup": group,
        "quantityKwh": quantity,
        "startTime": f"2021-01-01T{hour:02d}:00:00+01:00",
    }


def small_production_document() -> dict[str, Any]:
    return document(PRODUCTION, {"NO1": [production_record(h) for h in range(3)] + [production_record(0, group="*", quantity=0.0)]})


# --- The real recorded window ---------------------------------------------------


@pytest.fixture(scope="module")
def recorded_document_and_sums() -> tuple[dict[str, Any], dict[tuple[str, str], float], dict[tuple[str, str], int]]:
    """The recording as an API document, plus its per-series sums and counts, all without pandas."""
    rows = recorded_rows()
    by_area: dict[str, list[dict[str, Any]]] = defaultdict(list)
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in rows:
        record = dict(row, quantityKwh=float(row["quantityKwh"]), startTime=row["startTime"].replace(" ", "T"))
        by_area[row["priceArea"]].append(record)
        values[(row["priceArea"], row["productionGroup"])].append(float(row["quantityKwh"]))
    sums = {series: math.fsum(v) for series, v in values.items()}
    counts = {series: len(v) for series, v in values.items()}
    return document(PRODUCTION, dict(by_area)), sums, counts


def test_the_recorded_window_parses_with_exact_counts_and_sums(recorded_document_and_sums) -> None:
    doc, sums, counts = recorded_document_and_sums
    frame = parse_price_areas(doc, PRODUCTION, RECORDED_WINDOW, PRICE_AREAS)

    assert len(frame) == 18_599
    parsed_counts = frame.groupby(["price_area", "production_group"]).size().to_dict()
    assert parsed_counts == counts
    assert {n for (_, g), n in parsed_counts.items() if g != "*"} == {712}
    assert parsed_counts[("NO5", "*")] == 712 and parsed_counts[("NO2", "*")] == 87
    parsed_sums = {key: math.fsum(rows["quantity_kwh"]) for key, rows in frame.groupby(["price_area", "production_group"])}
    assert parsed_sums == sums  # exact: fsum is independent of order
    assert frame["is_unspecified_group"].sum() == 712 + 87
    assert (frame["is_unspecified_group"] == (frame["production_group"] == "*")).all()
    assert frame["start_time"].min() == pd.Timestamp("2025-10-20T07:00Z")
    assert frame["end_time"].max() == pd.Timestamp("2025-11-18T23:00Z")


def test_the_recorded_fall_back_night_keeps_both_two_oclock_hours(recorded_document_and_sums) -> None:
    frame = parse_price_areas(recorded_document_and_sums[0], PRODUCTION, RECORDED_WINDOW, PRICE_AREAS)
    hydro = frame[(frame["price_area"] == "NO1") & (frame["production_group"] == "hydro")]
    local = hydro["start_time"].dt.tz_convert("Europe/Oslo")
    assert (local.dt.date == date(2025, 10, 26)).sum() == 25
    two_oclock = hydro.loc[(local.dt.date == date(2025, 10, 26)) & (local.dt.hour == 2), "start_time"]
    assert list(two_oclock) == [pd.Timestamp("2025-10-26T00:00Z"), pd.Timestamp("2025-10-26T01:00Z")]
    assert not frame.duplicated(["price_area", "production_group", "start_time"]).any()


def test_the_frame_has_the_fixed_schema_and_order() -> None:
    frame = parse_price_areas(small_production_document(), PRODUCTION, JANUARY_FIRST, PRICE_AREAS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == frame_dtypes(PRODUCTION)
    assert list(frame["production_group"]) == ["*", "hydro", "hydro", "hydro"]  # sorted by area, group, hour
    assert frame.loc[1, "start_time"] == pd.Timestamp("2020-12-31T23:00Z")
    assert frame.loc[1, "quantity_kwh"] == 2507716.8
    assert list(frame["is_unspecified_group"]) == [True, False, False, False]


def test_consumption_records_carry_metering_point_counts() -> None:
    record = {
        "consumptionGroup": "household",
        "endTime": "2021-01-01T01:00:00+01:00",
        "lastUpdatedTime": "2024-12-20T10:35:40+01:00",
        "meteringPointCount": 1363,
        "priceArea": "NO3",
        "quantityKwh": 2094.047,
        "startTime": "2021-01-01T00:00:00+01:00",
    }
    frame = parse_price_areas(document(CONSUMPTION, {"NO3": [record]}), CONSUMPTION, JANUARY_FIRST, ("NO3",))
    assert {c: str(t) for c, t in frame.dtypes.items()} == frame_dtypes(CONSUMPTION)
    assert frame.loc[0, "metering_point_count"] == 1363
    with pytest.raises(ElhubDataError, match="meteringPointCount is not a JSON integer"):
        bad = dict(record, meteringPointCount=13.5)
        parse_price_areas(document(CONSUMPTION, {"NO3": [bad]}), CONSUMPTION, JANUARY_FIRST, ("NO3",))


@pytest.mark.parametrize("dataset", [PRODUCTION, CONSUMPTION])
def test_empty_frame_has_the_schema(dataset: ElhubDataset) -> None:
    frame = empty_frame(dataset)
    assert frame.empty
    assert {c: str(t) for c, t in frame.dtypes.items()} == frame_dtypes(dataset)


# --- Every contract violation is an error --------------------------------------


def first_record(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["data"][1]["attributes"]["productionPerGroupMbaHour"][0]


def set_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: first_record(doc).__setitem__(name, value)


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "missing field": (lambda doc: first_record(doc).pop("quantityKwh"), "lacks \\['quantityKwh'\\]"),
    "null quantity": (set_field("quantityKwh", None), "null quantityKwh"),
    "negative quantity": (set_field("quantityKwh", -1.0), "finite number >= 0"),
    "NaN quantity": (set_field("quantityKwh", float("nan")), "finite number >= 0"),
    "infinite quantity": (set_field("quantityKwh", float("inf")), "finite number >= 0"),
    "quantity as text": (set_field("quantityKwh", "12.5"), "not a JSON number"),
    "quantity as boolean": (set_field("quantityKwh", True), "not a JSON number"),
    "unknown group": (set_field("productionGroup", "nuclear"), "productionGroup is not one of"),
    "area differs from its item": (set_field("priceArea", "NO2"), "priceArea differs"),
    "two-hour interval": (set_field("endTime", "2021-01-01T02:00:00+01:00"), "endTime is not startTime \\+ 1 hour"),
    "no offset": (set_field("startTime", "2021-01-01T00:00:00"), "with an offset"),
    "not a timestamp": (set_field("lastUpdatedTime", "yesterday"), "with an offset"),
    "timestamp as number": (set_field("startTime", 1609455600), "startTime is not a string"),
    "half hour": (
        lambda doc: first_record(doc).update(startTime="2021-01-01T00:30:00+01:00", endTime="2021-01-01T01:30:00+01:00"),
        "whole hour",
    ),
    "outside the window": (
        lambda doc: first_record(doc).update(startTime="2025-10-20T09:00:00+02:00", endTime="2025-10-20T10:00:00+02:00"),
        "outside the requested window",
    ),
    "record not an object": (lambda doc: doc["data"][1]["attributes"]["productionPerGroupMbaHour"].append([1, 2]), "not an object"),
    "no data list": (lambda doc: doc.pop("data"), "no `data` list"),
    "item without attributes": (lambda doc: doc["data"][1].pop("attributes"), "no `attributes`"),
    "other dataset's list": (
        lambda doc: doc["data"][1]["attributes"].__setitem__(
            "consumptionPerGroupMbaHour", doc["data"][1]["attributes"].pop("productionPerGroupMbaHour")
        ),
        "no `productionPerGroupMbaHour` list",
    ),
    "unknown area item": (lambda doc: doc["data"][1].__setitem__("id", "NO9"), "price area 'NO9'"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_contract_violations_raise_a_clear_error(name: str) -> None:
    mutate, message = MUTATIONS[name]
    doc = copy.deepcopy(small_production_document())
    mutate(doc)
    with pytest.raises(ElhubDataError, match=message):
        parse_price_areas(doc, PRODUCTION, JANUARY_FIRST, PRICE_AREAS)


def test_an_area_that_was_not_asked_for_is_an_error_on_the_single_area_route() -> None:
    doc = document(PRODUCTION, {"NO2": [production_record(0, area="NO2")]})
    with pytest.raises(ElhubDataError, match="only \\['NO1'\\] were asked for"):
        parse_price_areas(doc, PRODUCTION, JANUARY_FIRST, ("NO1",))


def test_a_non_object_document_is_an_error() -> None:
    with pytest.raises(ElhubDataError, match="not a JSON:API object"):
        parse_price_areas([], PRODUCTION, JANUARY_FIRST, PRICE_AREAS)


# --- Duplicates and completeness --------------------------------------------------


def hourly_frame(hours: pd.DatetimeIndex, area: str = "NO1", group: str = "hydro") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "price_area": area,
            "production_group": group,
            "start_time": hours,
            "end_time": hours + pd.Timedelta(hours=1),
            "last_updated_time": pd.Timestamp("2024-12-20T09:35:40Z"),
            "quantity_kwh": np.arange(len(hours), dtype=float),
            "is_unspecified_group": group == "*",
        }
    )


def test_identical_duplicates_are_dropped_and_counted() -> None:
    frame = hourly_frame(pd.date_range("2021-01-01", periods=4, freq="h", tz="UTC"))
    doubled = pd.concat([frame, frame.iloc[[1, 3]]], ignore_index=True)
    deduplicated, dropped = drop_identical_duplicates(doubled, PRODUCTION)
    assert dropped == 2
    pd.testing.assert_frame_equal(deduplicated, frame)


def test_conflicting_duplicates_are_an_error() -> None:
    frame = hourly_frame(pd.date_range("2021-01-01", periods=4, freq="h", tz="UTC"))
    conflicting = frame.iloc[[2]].assign(quantity_kwh=99.0)
    with pytest.raises(ElhubDataError, match="different values"):
        drop_identical_duplicates(pd.concat([frame, conflicting], ignore_index=True), PRODUCTION)


def test_late_starts_early_ends_gaps_and_absent_series_are_reported_not_filled() -> None:
    window = pd.date_range("2021-01-31T23:00Z", "2021-02-28T22:00Z", freq="h")  # February 2021, local
    assert len(window) == 672
    late = hourly_frame(window[100:], group="wind")
    holed = hourly_frame(window.delete([10, 11, 500]), group="hydro")
    early = hourly_frame(window[:87], group="*")
    frame = pd.concat([late, holed, early], ignore_index=True)
    coverage = assess_completeness(frame, PRODUCTION, date(2021, 2, 1), date(2021, 3, 1), ("NO1",))

    assert coverage.expected_hours_per_series == 672
    assert coverage.late_starts == {("NO1", "wind"): window[100]}
    assert ("NO1", "wind") not in coverage.gaps  # contiguous after its first hour: not a gap
    assert coverage.gaps == {("NO1", "hydro"): [window[10], window[11], window[500]]}
    assert coverage.early_ends == {("NO1", "*"): window[86]}
    assert coverage.missing_hours == {("NO1", "wind"): 100, ("NO1", "hydro"): 3, ("NO1", "*"): 672 - 87}
    assert coverage.absent_series == (("NO1", "other"), ("NO1", "solar"), ("NO1", "thermal"))
    assert len(frame) == 572 + 669 + 87  # nothing was added


def test_report_metadata_is_plain_json() -> None:
    report = FetchReport(
        dataset_id=PRODUCTION.dataset_id,
        start=date(2021, 6, 1),
        end=date(2021, 7, 1),
        areas=("NO5",),
        requests_made=1,
        rows=10,
        expected_hours_per_series=720,
        late_starts={("NO5", "wind"): pd.Timestamp("2021-06-01T22:00Z")},
        gaps={("NO5", "hydro"): [pd.Timestamp("2021-06-03T00:00Z")]},
    )
    metadata = report.as_metadata()
    assert json.loads(json.dumps(metadata)) == metadata
    assert metadata["late_starts"] == {"NO5/wind": "2021-06-01T22:00:00+00:00"}
    assert metadata["gaps"] == {"NO5/hydro": ["2021-06-03T00:00:00+00:00"]}

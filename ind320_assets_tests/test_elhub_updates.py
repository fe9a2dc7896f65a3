"""The /updates feed must name exactly the partitions whose served data changed, so a sensor can trust it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from ind320_assets.domain import CONSUMPTION, DATASETS, PRICE_AREAS, PRODUCTION
from ind320_assets.elhub import UPDATES_PARAMETERS, ElhubApiError, ElhubDataError, Update, parse_updates, touched_partitions
from ind320_assets.elhub.updates import last_updated_param
from ind320_assets.partition_slice import local_month_label
from ind320_devkit.replay import Faults, ReplayServer
from ind320_assets_tests.replay_fixtures import REPLAY_NOW, fast_client, replay_server  # noqa: F401

NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)  # the partitions run through November 2026
T1 = pd.Timestamp("2026-11-24T11:00:00Z")
T2 = pd.Timestamp("2026-11-24T12:00:00Z")


def update(start: str, end: str, area: str | None = "NO2", stamp: pd.Timestamp = T1, dataset=PRODUCTION) -> Update:
    """An update of local times given with their offsets."""
    return Update(dataset.dataset_id, area, pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC"), stamp)


# --- Mapping updates to partitions (pure) -----------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        pytest.param("2021-03-01T00:00+01:00", "2021-04-01T00:00+02:00", ["2021-03-01"], id="a whole month, ending at the next local midnight"),
        pytest.param("2021-03-31T23:00+02:00", "2021-04-01T01:00+02:00", ["2021-03-01", "2021-04-01"], id="across the local month end, all of it on 31 March in UTC"),
        pytest.param("2021-03-28T00:00+01:00", "2021-03-29T00:00+02:00", ["2021-03-01"], id="the 23-hour spring-forward day"),
        pytest.param("2021-10-31T00:00+02:00", "2021-11-01T00:00+01:00", ["2021-10-01"], id="the 25-hour fall-back day"),
        pytest.param("2021-10-31T02:00+01:00", "2021-10-31T03:00+01:00", ["2021-10-01"], id="the repeated 02:00 hour"),
        pytest.param("2021-10-31T23:00+01:00", "2021-11-01T00:00+01:00", ["2021-10-01"], id="October's last hour, 22:00 UTC"),
        pytest.param("2021-11-01T00:00+01:00", "2021-11-01T01:00+01:00", ["2021-11-01"], id="November's first hour, still 31 October in UTC"),
        pytest.param("2021-01-01T00:00+01:00", "2022-01-01T00:00+01:00", [f"2021-{m:02d}-01" for m in range(1, 13)], id="a restated year names every month"),
        pytest.param("2020-12-01T00:00+01:00", "2021-01-02T00:00+01:00", ["2021-01-01"], id="months before the first partition are left out"),
        pytest.param("2026-11-30T00:00+01:00", "2027-01-01T00:00+01:00", ["2026-11-01"], id="months after the current one are left out"),
    ],
)
def test_an_update_names_every_local_month_its_period_overlaps(start: str, end: str, months: list[str]) -> None:
    touched = touched_partitions([update(start, end)], current_time=NOW)
    assert touched == {f"{month}|NO2": T1 for month in months}


def test_an_update_without_an_area_names_all_five() -> None:
    touched = touched_partitions([update("2021-03-05T00:00+01:00", "2021-03-06T00:00+01:00", area=None)], current_time=NOW)
    assert touched == {f"2021-03-01|{area}": T1 for area in PRICE_AREAS}


def test_the_latest_update_of_a_partition_names_its_revision_and_other_datasets_are_left_out() -> None:
    updates = [
        update("2021-03-01T00:00+01:00", "2021-03-02T00:00+01:00", stamp=T2),
        update("2021-03-20T00:00+01:00", "2021-03-21T00:00+01:00", stamp=T1),
        update("2021-04-01T00:00+02:00", "2021-04-02T00:00+02:00", area="NO1", stamp=T1),
        update("2021-05-01T00:00+02:00", "2021-05-02T00:00+02:00", stamp=T2, dataset=CONSUMPTION),
    ]
    touched = touched_partitions(updates, dataset=PRODUCTION, current_time=NOW)
    assert touched == {"2021-03-01|NO2": T2, "2021-04-01|NO1": T1}  # in partition order
    assert list(touched) == ["2021-03-01|NO2", "2021-04-01|NO1"]
    assert "2021-05-01|NO2" in touched_partitions(updates, current_time=NOW)


@settings(max_examples=150, deadline=None)
@given(
    first_hour=st.integers(min_value=0, max_value=24 * 365 * 3),
    hours=st.integers(min_value=1, max_value=24 * 70),
)
def test_the_months_named_are_the_local_months_of_the_period_s_hours(first_hour: int, hours: int) -> None:
    start = pd.Timestamp("2020-12-31T23:00Z") + pd.Timedelta(hours=first_hour)
    end = start + pd.Timedelta(hours=hours)
    touched = touched_partitions([Update(PRODUCTION.dataset_id, "NO3", start, end, T1)], current_time=NOW)
    every_hour = pd.Series(pd.date_range(start, end, freq="h", inclusive="left"))
    expected = {f"{label}-01|NO3" for label in local_month_label(every_hour)}
    assert set(touched) == expected


def test_since_is_sent_in_oslo_time_with_its_offset() -> None:
    assert last_updated_param(pd.Timestamp("2021-01-15T11:00:00Z")) == "2021-01-15T12:00:00+01:00"
    assert last_updated_param(datetime(2021, 7, 1, 10, 0, 0, 500, tzinfo=timezone.utc)) == "2021-07-01T12:00:00+02:00"
    with pytest.raises(ValueError, match="time zone"):
        last_updated_param(datetime(2021, 7, 1))


# --- Reading documents (pure) ------------------------------------------------------------


def test_an_item_with_only_the_public_fields_is_read_from_its_id_link_and_meta() -> None:
    document = {
        "meta": {"created": "2024-11-06T09:28:20+01:00", "lastUpdated": "2024-11-06T09:28:20+01:00"},
        "links": {"self": "https://api.elhub.no/energy-data/v0/updates?dataset=consumption_per_group_mba_hour"},
        "data": [
            {"type": "updates", "id": "20241030_consumption_per_group_mba_hour",
             "links": {"href": "https://api.elhub.no/energy-data/v0/price-areas?dataset=CONSUMPTION_PER_GROUP_MBA_HOUR"}},
            {"type": "updates", "id": "20241027_consumption_per_group_mba_hour",
             "links": {"href": "https://api.elhub.no/energy-data/v0/price-areas/NO4?dataset=X&startDate=2024-10-27&endDate=2024-10-28"}},
        ],
    }  # fmt: skip
    first, second = parse_updates(document)
    stamp = pd.Timestamp("2024-11-06T08:28:20Z")
    assert first == Update("CONSUMPTION_PER_GROUP_MBA_HOUR", None, pd.Timestamp("2024-10-29T23:00Z"), pd.Timestamp("2024-10-30T23:00Z"), stamp)
    # The fall-back day 2024-10-27 has 25 hours.
    assert second == Update("CONSUMPTION_PER_GROUP_MBA_HOUR", "NO4", pd.Timestamp("2024-10-26T22:00Z"), pd.Timestamp("2024-10-27T23:00Z"), stamp)
    assert set(touched_partitions([first], current_time=NOW)) == {f"2024-10-01|{a}" for a in PRICE_AREAS}


ITEM_LINK = "https://api.elhub.no/energy-data/v0/price-areas/NO3?dataset=PRODUCTION_PER_GROUP_MBA_HOUR&startDate=2021-03-01&endDate=2021-04-01"
META = {"created": "2026-11-24T12:00:00+01:00", "lastUpdated": "2026-11-24T12:00:00+01:00"}
MARCH_NO3 = Update(PRODUCTION.dataset_id, "NO3", pd.Timestamp("2021-02-28T23:00Z"), pd.Timestamp("2021-03-31T22:00Z"), T2 - pd.Timedelta(hours=1))


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param(None, id="no attributes"),
        pytest.param({}, id="empty attributes"),
        pytest.param({"lastUpdated": "2026-11-24T12:00:00+01:00"}, id="only lastUpdated"),
        pytest.param({"dataSet": "X", "area": "NO1", "from": "2021-03-05", "updatedAt": "2026"}, id="names the client does not know"),
        pytest.param({"dataset": None, "priceArea": "", "startDate": "2021-03-01T00:00:00", "endDate": 20210401}, id="values it cannot read"),
        pytest.param({"dataset": "production_per_group_mba_hour", "priceArea": "NO3", "startDate": "2021-03-01T00:00:00+01:00",
                      "endDate": "2021-04-01T00:00:00+02:00", "lastUpdated": "2026-11-24T11:00:00Z"}, id="all of it"),
    ],
)  # fmt: skip
def test_each_field_of_an_item_falls_back_on_its_own(attributes: dict | None) -> None:
    """An attribute the client does not know, or cannot read, falls back to `id`, `links.href` and `meta`."""
    item = {"type": "updates", "id": "20210301_production_per_group_mba_hour", "links": {"href": ITEM_LINK}}
    if attributes is not None:
        item["attributes"] = attributes
    updates = parse_updates({"meta": META, "data": [item]})
    assert updates == [MARCH_NO3] and updates.skipped == ()
    assert touched_partitions(updates, PRODUCTION, current_time=NOW) == {"2021-03-01|NO3": MARCH_NO3.last_updated}


def test_the_dataset_may_come_from_the_request_and_the_area_from_the_id() -> None:
    # No type, no id, no dataset in the link: the dataset is the one the request asked for.
    item = {"links": {"href": "https://api.elhub.no/energy-data/v0/price-areas/NO4?startDate=2021-03-05&endDate=2021-03-06"}}
    document = {"meta": META, "links": {"self": "https://api.elhub.no/energy-data/v0/updates?dataset=consumption_per_group_mba_hour"},
                "data": [item, {"type": "updates", "id": "20210305_consumption_per_group_mba_hour_NO4"}]}  # fmt: skip
    one_day = Update(CONSUMPTION.dataset_id, "NO4", pd.Timestamp("2021-03-04T23:00Z"), pd.Timestamp("2021-03-05T23:00Z"), MARCH_NO3.last_updated)
    assert parse_updates(document) == [one_day, one_day]


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"type": "price-areas", "id": "NO1"}, "type 'updates'"),
        ({"type": "updates", "id": "garbage"}, "names no dataset"),
        ({"type": "updates", "attributes": {"dataset": "X", "priceArea": "SE3", "startDate": "2021-03-01", "endDate": "2021-04-01"}}, "SE3"),
        ({"type": "updates", "attributes": {"dataset": "X", "priceArea": "NO1", "startDate": "2021-04-01", "endDate": "2021-03-01"}}, "reversed"),
        ({"type": "updates", "attributes": {"dataset": "X", "priceArea": "NO1", "startDate": "2021-03-01T00:00:00",
                                            "endDate": "2021-04-01"}}, "offset"),
        ({"type": "updates", "attributes": {"dataset": "X", "priceArea": "NO1", "endDate": "2021-04-01"}}, "names no startDate"),
    ],
)  # fmt: skip
def test_an_item_that_names_no_partition_is_left_out_and_the_rest_is_read(item: dict, problem: str) -> None:
    good = {"type": "updates", "id": "20210301_production_per_group_mba_hour", "links": {"href": ITEM_LINK}}
    updates = parse_updates({"meta": META, "data": [good, item]})
    assert updates == [MARCH_NO3]
    (skipped,) = updates.skipped
    assert skipped.startswith("data[1]") and problem in skipped


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "no `data` list"),
        ({"data": [], "links": {"next": "https://api.elhub.no/energy-data/v0/updates?page=2"}}, "paged"),
        ({"data": [{"type": "updates", "id": "garbage"}, {"type": "price-areas"}]}, "none of its 2 item"),
    ],
)  # fmt: skip
def test_a_document_the_client_cannot_trust_is_refused(document: object, problem: str) -> None:
    """A feed none of whose items can be read has changed its format: an empty answer would hide that."""
    with pytest.raises(ElhubDataError, match=problem):
        parse_updates(document)


# --- The replay's feed, read by the client ---------------------------------------------------


def test_a_revision_of_an_old_month_appears_in_the_feed_with_its_time(replay_server: ReplayServer) -> None:
    client = fast_client(replay_server)
    revision = replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.05)

    updates = client.updates(PRODUCTION, since=revision.last_updated)

    assert updates == [
        Update(PRODUCTION.dataset_id, "NO2", pd.Timestamp("2021-02-28T23:00Z"), pd.Timestamp("2021-03-31T22:00Z"), revision.last_updated)
    ]
    assert touched_partitions(updates) == {"2021-03-01|NO2": revision.last_updated}
    (request,) = replay_server.requests
    assert request.path == "/energy-data/v0/updates"
    assert set(request.params) == set(UPDATES_PARAMETERS)
    assert request.params["lastUpdated"] == "2026-11-24T12:00:00+01:00"  # the `+` arrived, so it was encoded
    # The rows behind the item carry its time and the revised values.
    march = client.fetch(PRODUCTION, date(2021, 3, 1), date(2021, 4, 1), areas=["NO2"]).frame
    assert (march["last_updated_time"] == revision.last_updated).all()
    # A later `since` no longer sees it; a second revision is strictly later.
    assert client.updates(PRODUCTION, since=revision.last_updated + pd.Timedelta(seconds=1)) == []
    second = replay_server.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2", "NO5"], factor=1.0)
    assert second.last_updated > revision.last_updated
    assert touched_partitions(client.updates(PRODUCTION, since=second.last_updated)) == {
        "2021-03-01|NO2": second.last_updated, "2021-03-01|NO5": second.last_updated
    }  # fmt: skip


def test_the_items_follow_the_published_rows_day_by_day(replay_server: ReplayServer) -> None:
    """Every (area, local day) whose served rows changed since `since` is in one item, with their time."""
    client = fast_client(replay_server)
    replay_server.publish_revision(PRODUCTION.dataset_id, "2025-10", ["NO3"], factor=0.97, last_updated="2025-11-05T08:00:00+01:00")
    since = pd.Timestamp("2025-11-01T00:00:00+01:00")
    served = client.fetch(PRODUCTION, date(2025, 10, 1), date(2025, 12, 1)).frame  # holds the real recording
    local_day = served["start_time"].dt.tz_convert("Europe/Oslo").dt.date
    latest = served.groupby([served["price_area"], local_day])["last_updated_time"].max()
    changed = {key: stamp for key, stamp in latest.items() if stamp >= since}

    listed: dict[tuple[str, date], pd.Timestamp] = {}
    for update in client.updates(PRODUCTION, since=since):
        for day in pd.date_range(update.start, update.end, freq="h", inclusive="left").tz_convert("Europe/Oslo").date:
            if date(2025, 10, 1) <= day < date(2025, 12, 1):
                listed[(update.price_area, day)] = update.last_updated

    assert listed == changed
    assert changed[("NO3", date(2025, 10, 2))] == pd.Timestamp("2025-11-05T07:00:00Z")  # the revision
    assert len({stamp for (area, day), stamp in changed.items() if date(2025, 10, 20) <= day < date(2025, 11, 19)}) > 5  # recorded stamps


def test_without_last_updated_the_feed_covers_the_last_24_hours(replay_server: ReplayServer) -> None:
    response = requests.get(f"{replay_server.url}/updates", params={"dataset": "consumption_per_group_mba_hour"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    body = response.json()
    assert list(body) == ["data", "links", "meta"] and body["meta"]["created"] == "2026-11-24T12:00:00+01:00"
    updates = parse_updates(body)
    assert updates and all(u.last_updated >= pd.Timestamp(REPLAY_NOW) - pd.Timedelta(hours=24) for u in updates)
    assert {u.dataset_id for u in updates} == {CONSUMPTION.dataset_id}
    item = body["data"][0]
    assert list(item) == ["attributes", "id", "links", "type"] and item["type"] == "updates"
    assert item["id"].startswith(f"{pd.Timestamp(item['attributes']['startDate']):%Y%m%d}_consumption_per_group_mba_hour")
    assert item["links"]["href"].startswith(f"{replay_server.url}/price-areas/{item['attributes']['priceArea']}?dataset=")


def test_without_a_dataset_the_feed_lists_every_dataset(replay_server: ReplayServer) -> None:
    updates = fast_client(replay_server).updates(None, since=pd.Timestamp(REPLAY_NOW) - pd.Timedelta(days=2))
    assert {u.dataset_id for u in updates} == set(DATASETS)
    assert "dataset" not in replay_server.requests[0].params


def test_bad_parameters_get_api_errors(replay_server: ReplayServer) -> None:
    unencoded_plus = requests.get(f"{replay_server.url}/updates?lastUpdated=2026-11-24T10:00:00+01:00", timeout=10)
    assert unencoded_plus.status_code == 400
    assert unencoded_plus.json()["errors"][0]["title"] == "Invalid lastUpdated"
    unknown = requests.get(f"{replay_server.url}/updates", params={"dataset": "NOPE"}, timeout=10)
    assert unknown.status_code == 400
    spaced = requests.get(f"{replay_server.url}/updates", params={"lastUpdated": "2026-11-24 10:00:00+01:00"}, timeout=10)
    assert spaced.status_code == 200  # the form of the public spec's example


def test_the_feed_is_retried_through_transport_faults(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(throttle_first_n=1, retry_after_s=0, server_error_first_n=1, malformed_json_first_n=1, truncated_body_first_n=1))
    client = fast_client(replay_server, max_attempts=5)
    revision = replay_server.publish_revision(CONSUMPTION.dataset_id, "2022-07", ["NO4"], factor=1.01)
    updates = client.updates(CONSUMPTION, since=revision.last_updated)
    assert [(u.price_area, u.last_updated) for u in updates] == [("NO4", revision.last_updated)]
    assert [r.fault for r in replay_server.requests] == ["throttle", "server_error", "malformed_json", "truncated_body", None]


def test_a_feed_that_keeps_failing_raises_an_api_error(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(server_error_first_n=10))
    with pytest.raises(ElhubApiError, match=r"after 3 attempts.*/updates"):
        fast_client(replay_server, max_attempts=3).updates(PRODUCTION, since=pd.Timestamp(REPLAY_NOW))


# --- Group lists -------------------------------------------------------------------------------


def test_group_lists_have_the_api_s_shape(replay_server: ReplayServer) -> None:
    consumption = requests.get(f"{replay_server.url}/consumption-groups", params={"dataset": PRODUCTION.dataset_id}, timeout=10)
    assert consumption.status_code == 200 and consumption.headers["Content-Type"] == "application/json; charset=utf-8"
    body = consumption.json()
    assert list(body) == ["data", "links", "meta"]
    # The ids and order of the public copy (mghyly20's groupes_de_consommation.csv).
    assert [i["id"] for i in body["data"]] == ["household", "cabin", "primary", "secondary", "tertiary", "industry", "private", "business", "*"]
    assert body["data"][6]["attributes"] == {"description": "Combination of Household and Cabin", "name": "Private"}
    assert {i["type"] for i in body["data"]} == {"consumption-groups"}
    production = requests.get(f"{replay_server.url}/production-groups", timeout=10).json()["data"]
    assert production[0] == {
        "attributes": {"description": "Unit in which solar energy is converted to electricity with unspecified equipment/devices.", "name": "Solar"},
        "id": "solar",
        "type": "production-groups",
    }  # fmt: skip
    assert set(PRODUCTION.groups) <= {i["id"] for i in production}

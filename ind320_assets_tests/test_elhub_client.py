"""The client against the replay server: exact rows, the right requests, and every fault handled."""

from __future__ import annotations

import math
import re
import threading
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest
import requests
import tenacity.nap

from ind320_assets.domain import CONSUMPTION, PRICE_AREAS, PRODUCTION, ElhubDataset
from ind320_assets.elhub import SENT_PARAMETERS, ElhubApiError, ElhubClient, ElhubDataError
from ind320_assets.elhub.client import DEFAULT_BASE_URL
from ind320_assets.elhub.rate_limit import RateLimiter
from ind320_devkit.replay import Faults, ReplayServer
from ind320_devkit.replay.recorded import RECORDED_END, RECORDED_START
from ind320_assets_tests.replay_fixtures import REPLAY_NOW, fast_client, recorded_rows, replay_server  # noqa: F401

JANUARY_2021 = (date(2021, 1, 1), date(2021, 2, 1))
# A hang fault holds its request for `hang_s` (35 s) or until the server stops, so a
# short timeout always fires first: the hang cases do not depend on how busy the machine is.
# A request that must succeed gets the helper's 10 s timeout instead.
HANG_TIMEOUT_S = 0.3


def group_sums(frame: pd.DataFrame, group_column: str = "production_group") -> dict[str, float]:
    return {group: math.fsum(rows["quantity_kwh"]) for group, rows in frame.groupby(group_column)}


# --- Whole pulls ------------------------------------------------------------------


def test_a_full_2021_production_pull_is_215353_rows_in_12_requests(replay_server: ReplayServer) -> None:
    client = fast_client(replay_server)
    result = client.fetch(PRODUCTION, date(2021, 1, 1), date(2022, 1, 1), areas=PRICE_AREAS)

    assert len(result.frame) == 215_353
    assert result.report.requests_made == client.requests_made == len(replay_server.requests) == 12
    assert {r.path for r in replay_server.requests} == {"/energy-data/v0/price-areas"}
    counts = result.frame.groupby(["price_area", "production_group"]).size()
    assert counts.drop(("NO5", "wind")).eq(8760).all() and counts[("NO5", "wind")] == 5113
    assert result.report.late_starts == {("NO5", "wind"): pd.Timestamp("2021-06-01T22:00Z")}
    assert result.report.gaps == {} and result.report.duplicates_dropped == 0
    assert result.report.expected_hours_per_series == 8760

    expected = replay_server.frame(PRODUCTION, date(2021, 1, 1), date(2022, 1, 1))
    pd.testing.assert_frame_equal(result.frame, expected)
    assert group_sums(result.frame) == group_sums(expected)
    no1_hydro = result.frame[(result.frame["price_area"] == "NO1") & (result.frame["production_group"] == "hydro")]
    assert no1_hydro.iloc[0]["start_time"] == pd.Timestamp("2020-12-31T23:00Z")
    assert no1_hydro.iloc[0]["quantity_kwh"] == 2507716.8


def test_one_area_at_a_time_uses_the_single_area_route_60_requests_for_a_year(replay_server: ReplayServer) -> None:
    client = fast_client(replay_server)
    frames = [client.fetch(PRODUCTION, date(2021, 1, 1), date(2022, 1, 1), areas=[area]).frame for area in PRICE_AREAS]
    assert client.requests_made == len(replay_server.requests) == 60
    assert {r.path for r in replay_server.requests} == {f"/energy-data/v0/price-areas/{a}" for a in PRICE_AREAS}
    combined = pd.concat(frames, ignore_index=True)
    assert len(combined) == 215_353
    assert group_sums(combined) == group_sums(replay_server.frame(PRODUCTION, date(2021, 1, 1), date(2022, 1, 1)))


def test_a_subset_of_areas_comes_from_the_all_areas_route_and_only_holds_those_areas(replay_server: ReplayServer) -> None:
    result = fast_client(replay_server).fetch(CONSUMPTION, *JANUARY_2021, areas=("NO3", "NO1"))
    assert [r.path for r in replay_server.requests] == ["/energy-data/v0/price-areas"]
    assert set(result.frame["price_area"]) == {"NO1", "NO3"}
    assert len(result.frame) == 2 * 5 * 744
    assert (result.frame["metering_point_count"] >= 5).all()
    pd.testing.assert_frame_equal(result.frame, replay_server.frame(CONSUMPTION, *JANUARY_2021, areas=["NO1", "NO3"]))


def test_the_client_sends_only_dataset_and_date_only_start_and_exclusive_end(replay_server: ReplayServer) -> None:
    fast_client(replay_server).fetch(PRODUCTION, date(2021, 1, 15), date(2021, 3, 2), areas=["NO2"])
    sent = [r.params for r in replay_server.requests]
    assert all(set(params) == set(SENT_PARAMETERS) for params in sent)
    assert sorted((p["startDate"], p["endDate"]) for p in sent) == [
        ("2021-01-15", "2021-02-01"),
        ("2021-02-01", "2021-03-01"),
        ("2021-03-01", "2021-03-02"),
    ]
    assert {p["dataset"] for p in sent} == {PRODUCTION.dataset_id}


# --- Time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "hours", "first_utc", "transition_utc"),
    [
        (date(2021, 3, 1), 743, "2021-02-28T23:00Z", ("2021-03-28T00:00Z", "2021-03-28T01:00Z")),
        (date(2021, 10, 1), 745, "2021-09-30T22:00Z", ("2021-10-31T00:00Z", "2021-10-31T01:00Z")),
        (date(2025, 3, 1), 743, "2025-02-28T23:00Z", ("2025-03-30T00:00Z", "2025-03-30T01:00Z")),
        (date(2025, 10, 1), 745, "2025-09-30T22:00Z", ("2025-10-26T00:00Z", "2025-10-26T01:00Z")),
    ],
)
def test_dst_months_have_every_local_hour_once(
    replay_server: ReplayServer, month: date, hours: int, first_utc: str, transition_utc: tuple[str, str]
) -> None:
    end = date(month.year, month.month + 1, 1)
    result = fast_client(replay_server).fetch(PRODUCTION, month, end)
    base = result.frame[~result.frame["is_unspecified_group"]]
    assert set(base.groupby(["price_area", "production_group"]).size()) == {hours}
    assert result.report.expected_hours_per_series == hours
    hydro = base[(base["price_area"] == "NO1") & (base["production_group"] == "hydro")]["start_time"]
    assert hydro.iloc[0] == pd.Timestamp(first_utc)
    assert (hydro.diff().dropna() == pd.Timedelta(hours=1)).all()
    for instant in transition_utc:  # two consecutive UTC hours around the transition
        assert pd.Timestamp(instant) in set(hydro)


def test_the_repeated_fall_back_hour_arrives_as_two_local_strings(replay_server: ReplayServer) -> None:
    body = requests.get(
        f"{replay_server.url}/price-areas/NO1",
        params={"dataset": PRODUCTION.dataset_id, "startDate": "2021-10-31", "endDate": "2021-11-01"},
        timeout=10,
    ).text
    assert '"startTime":"2021-10-31T02:00:00+02:00"' in body
    assert '"startTime":"2021-10-31T02:00:00+01:00"' in body


def test_no5_wind_starting_on_2021_06_02_is_a_late_start_not_a_gap(replay_server: ReplayServer) -> None:
    result = fast_client(replay_server).fetch(PRODUCTION, date(2021, 6, 1), date(2021, 7, 1), areas=["NO5"])
    assert result.report.late_starts == {("NO5", "wind"): pd.Timestamp("2021-06-01T22:00Z")}
    assert result.report.missing_hours == {("NO5", "wind"): 24}
    assert result.report.series_rows[("NO5", "wind")] == 696
    assert result.report.gaps == {}


def test_the_recorded_real_hours_arrive_verbatim(replay_server: ReplayServer) -> None:
    result = fast_client(replay_server).fetch(PRODUCTION, date(2025, 10, 20), date(2025, 11, 19))
    frame = result.frame
    recorded = frame[(frame["start_time"] >= RECORDED_START) & (frame["start_time"] < RECORDED_END)]
    assert len(recorded) == 18_599
    expected: dict[tuple[str, str], list[float]] = {}
    for row in recorded_rows():
        expected.setdefault((row["priceArea"], row["productionGroup"]), []).append(float(row["quantityKwh"]))
    got = {key: math.fsum(rows["quantity_kwh"]) for key, rows in recorded.groupby(["price_area", "production_group"])}
    assert got == {key: math.fsum(values) for key, values in expected.items()}
    # NO5's `*` series starts with the recording; NO2's stops after 87 hours.
    assert result.report.late_starts[("NO5", "*")] == RECORDED_START
    assert result.report.early_ends[("NO2", "*")] == pd.Timestamp("2025-10-23T21:00Z")  # 23:00 local


# --- Transport faults: a correct frame after retries, or a clear error -----------


@pytest.mark.parametrize(
    "faults",
    [
        Faults(throttle_first_n=2, retry_after_s=0),
        Faults(server_error_first_n=3),
        Faults(malformed_json_first_n=2),
        Faults(truncated_body_first_n=2),
        Faults(throttle_first_n=1, server_error_first_n=1, malformed_json_first_n=1, retry_after_s=0),
    ],
    ids=["429", "5xx", "malformed-json", "truncated-body", "mixed"],
)
def test_transient_faults_are_retried_to_the_exact_frame(replay_server: ReplayServer, faults: Faults) -> None:
    replay_server.set_faults(faults)
    client = fast_client(replay_server, max_concurrent_requests=1)
    result = client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])
    failures = sum(
        getattr(faults, f"{kind}_first_n") for kind in ("hang", "throttle", "server_error", "malformed_json", "truncated_body")
    )
    assert result.report.requests_made == client.requests_made == failures + 1
    pd.testing.assert_frame_equal(result.frame, replay_server.frame(PRODUCTION, *JANUARY_2021, areas=["NO1"]))


class ShortTimeoutFirst(requests.Session):
    """A session whose first `n` requests get HANG_TIMEOUT_S instead of the client's timeout."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.short_left = n

    def request(self, method, url, **kwargs):  # noqa: ANN001, ANN201 - requests' signature
        if self.short_left > 0:
            self.short_left -= 1
            kwargs["timeout"] = HANG_TIMEOUT_S
        return super().request(method, url, **kwargs)


def test_a_hung_request_times_out_and_its_retry_gives_the_exact_frame(replay_server: ReplayServer) -> None:
    # The first request hangs until the server stops, so its short timeout always fires;
    # the retry is answered at once and has the helper's 10 s to arrive.
    replay_server.set_faults(Faults(hang_first_n=1))
    client = fast_client(replay_server, max_concurrent_requests=1, session=ShortTimeoutFirst(1))
    result = client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])
    assert result.report.requests_made == client.requests_made == 2
    assert [r.fault for r in replay_server.requests] == ["hang", None]
    pd.testing.assert_frame_equal(result.frame, replay_server.frame(PRODUCTION, *JANUARY_2021, areas=["NO1"]))


@pytest.mark.parametrize(
    ("faults", "timeout_s", "status", "reason"),
    [
        (Faults(server_error_first_n=100), 10.0, "HTTP 50", "Internal Server Error|Service Unavailable"),
        (Faults(throttle_first_n=100, retry_after_s=0), 10.0, "HTTP 429", "Too Many Requests"),
        (Faults(malformed_json_first_n=100), 10.0, "HTTP 200", "not valid JSON"),
        (Faults(truncated_body_first_n=100), 10.0, "no HTTP status", "ChunkedEncodingError|ConnectionError"),
        # Every request hangs until the server stops: only the timeout can end it.
        (Faults(hang_first_n=100), HANG_TIMEOUT_S, "no HTTP status", "Timeout"),
    ],
    ids=["5xx", "429", "malformed-json", "truncated-body", "hang"],
)
def test_persistent_faults_end_in_a_clear_error_without_a_frame(
    replay_server: ReplayServer, faults: Faults, timeout_s: float, status: str, reason: str
) -> None:
    replay_server.set_faults(faults)
    client = fast_client(replay_server, timeout_s=timeout_s, max_attempts=3, max_concurrent_requests=1)
    with pytest.raises(ElhubApiError) as caught:
        client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])
    message = str(caught.value)
    assert f"{replay_server.url}/price-areas/NO1" in message
    assert "'startDate': '2021-01-01'" in message and "'endDate': '2021-02-01'" in message
    assert status in message
    assert re.search(reason, message)
    assert caught.value.attempts == 3 and client.requests_made == 3


def test_retry_after_is_honoured(replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # tenacity sleeps through `tenacity.nap.time`; a recording clock stands in for it.
    waits: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=waits.append))
    replay_server.set_faults(Faults(throttle_first_n=1, retry_after_s=1))
    fast_client(replay_server).fetch(PRODUCTION, date(2021, 1, 1), date(2021, 1, 2), areas=["NO1"])
    assert waits == [1.0]  # Retry-After, not the 1 ms backoff
    assert [r.status for r in replay_server.requests] == [429, 200]


def test_seeded_fractions_of_failures_are_deterministic(replay_server: ReplayServer) -> None:
    attempts = []
    for _ in range(2):
        replay_server.set_faults(Faults(server_error_fraction=0.3, throttle_fraction=0.1, retry_after_s=0, seed=7))
        client = fast_client(replay_server, max_attempts=6, max_concurrent_requests=1)
        result = client.fetch(PRODUCTION, date(2021, 1, 1), date(2021, 7, 1), areas=["NO4"])
        assert len(result.frame) == 5 * len(pd.date_range("2020-12-31T23:00Z", "2021-06-30T21:00Z", freq="h"))
        attempts.append(client.requests_made)
    assert attempts[0] == attempts[1] > 6


def test_other_4xx_are_not_retried_and_name_the_api_reason(replay_server: ReplayServer) -> None:
    unknown = ElhubDataset("NO_SUCH_DATASET", "productionGroup", "production_group", ("hydro",))
    client = fast_client(replay_server)
    with pytest.raises(ElhubApiError) as caught:
        client.fetch(unknown, *JANUARY_2021, areas=["NO1"])
    assert caught.value.status == 400 and client.requests_made == 1
    assert "Invalid dataset for price-area entity" in str(caught.value)
    assert "creationTime: 2026-11-24T12:00:00+01:00" in str(caught.value)
    assert "NO_SUCH_DATASET" in str(caught.value)


def test_an_unknown_path_is_a_404_error_with_the_plain_text_reason(replay_server: ReplayServer) -> None:
    client = fast_client(replay_server, base_url=replay_server.url + "/nowhere")
    with pytest.raises(ElhubApiError, match="HTTP 404.*404 page not found"):
        client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])
    assert client.requests_made == 1


def test_connection_refused_is_retried_then_reported() -> None:
    server = ReplayServer(port=0, now=REPLAY_NOW).start()
    url = server.url
    server.stop()
    client = ElhubClient(base_url=url, max_attempts=2, backoff_base_s=0.001, timeout_s=10.0)
    with pytest.raises(ElhubApiError, match="after 2 attempts.*no HTTP status.*ConnectionError"):
        client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])


# --- Data faults: reported, never silently fixed ------------------------------------


def test_identical_duplicates_are_dropped_and_counted(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(duplicate_records=7))
    result = fast_client(replay_server).fetch(PRODUCTION, date(2021, 1, 1), date(2021, 3, 1))
    assert result.report.duplicates_dropped == 14  # 7 per response, two months
    pd.testing.assert_frame_equal(result.frame, replay_server.frame(PRODUCTION, date(2021, 1, 1), date(2021, 3, 1)))


def test_conflicting_duplicates_are_an_error(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(duplicate_records=3, conflicting_duplicates=True))
    with pytest.raises(ElhubDataError, match="different values"):
        fast_client(replay_server).fetch(PRODUCTION, *JANUARY_2021, areas=["NO1"])


def test_dropped_hours_are_reported_as_gaps_and_never_filled(replay_server: ReplayServer) -> None:
    replay_server.set_faults(Faults(drop_hours=2))
    result = fast_client(replay_server).fetch(PRODUCTION, *JANUARY_2021, areas=["NO2"])
    served = replay_server.frame(PRODUCTION, *JANUARY_2021, areas=["NO2"])
    assert len(result.frame) == len(served) - 5 * 2
    assert set(result.report.gaps) == {("NO2", g) for g in PRODUCTION.groups}
    assert all(len(hours) == 2 for hours in result.report.gaps.values())
    assert result.report.missing_hours == {("NO2", g): 2 for g in PRODUCTION.groups}
    missing = pd.MultiIndex.from_tuples(
        [(area, group, hour) for (area, group), hours in result.report.gaps.items() for hour in hours]
    )
    keyed = served.set_index(["price_area", "production_group", "start_time"])
    assert not missing.isin(result.frame.set_index(["price_area", "production_group", "start_time"]).index).any()
    pd.testing.assert_frame_equal(result.frame, keyed.drop(missing).reset_index())


def test_a_published_revision_changes_values_and_last_updated_for_its_areas_only(replay_server: ReplayServer) -> None:
    client = fast_client(replay_server)
    march = (date(2021, 3, 1), date(2021, 4, 1))
    before = client.fetch(PRODUCTION, *march).frame
    revision = replay_server.publish_revision(PRODUCTION.dataset_id, month="2021-03", areas=["NO1", "NO2"], factor=1.1)
    after = client.fetch(PRODUCTION, *march).frame

    pd.testing.assert_frame_equal(after, replay_server.frame(PRODUCTION, *march))
    revised = after["price_area"].isin(["NO1", "NO2"])
    assert set(after.loc[revised, "last_updated_time"]) == {revision.last_updated}
    assert set(after.loc[~revised, "last_updated_time"]) == set(before.loc[~revised, "last_updated_time"])
    pd.testing.assert_frame_equal(after[~revised], before[~revised])
    ratio = math.fsum(after.loc[revised, "quantity_kwh"]) / math.fsum(before.loc[revised, "quantity_kwh"])
    assert ratio == pytest.approx(1.1, rel=1e-6)
    # Other months are untouched.
    assert client.fetch(PRODUCTION, date(2021, 4, 1), date(2021, 4, 2)).frame["last_updated_time"].nunique() == 1


# --- Client configuration -------------------------------------------------------------


def test_base_url_is_the_argument_or_the_public_api(monkeypatch) -> None:
    # The environment is read in one place, definitions.py; the client never reads it.
    monkeypatch.setenv("ELHUB_API_URL", "http://127.0.0.1:9/energy-data/v0/")
    assert ElhubClient().base_url == DEFAULT_BASE_URL == "https://api.elhub.no/energy-data/v0"
    assert ElhubClient(base_url="http://other/energy-data/v0/").base_url == "http://other/energy-data/v0"


def test_bad_arguments_are_refused_before_any_request() -> None:
    client = ElhubClient(base_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="unknown price areas"):
        client.fetch(PRODUCTION, *JANUARY_2021, areas=["NO9"])
    with pytest.raises(ValueError, match="empty or reversed"):
        client.fetch(PRODUCTION, date(2021, 2, 1), date(2021, 2, 1))
    assert client.requests_made == 0


def test_the_rate_limiter_gives_threads_distinct_evenly_spaced_slots() -> None:
    # A stopped clock and a sleep that returns at once: each acquire's wait says which
    # slot it reserved, whatever the scheduler does with the threads.
    limiter = RateLimiter(max_per_second=50.0, clock=lambda: 100.0, sleep=lambda seconds: None)
    waits: list[float] = []
    lock = threading.Lock()

    def burst() -> None:
        for _ in range(5):
            wait = limiter.acquire()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 20 calls in 4 threads: 20 different slots, 1/50 s apart, none shared.
    assert sorted(round(w, 9) for w in waits) == [round(k * 0.02, 9) for k in range(20)]


def test_the_rate_limiter_waits_exactly_one_interval_per_call() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 9))
        now[0] += seconds

    limiter = RateLimiter(5.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.acquire()
    assert waits == [0.2, 0.2, 0.2]

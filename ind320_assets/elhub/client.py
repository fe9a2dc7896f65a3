"""The Elhub client: one code path for every MBA-hour dataset.

`ElhubClient.fetch(dataset, start, end, areas)` splits the local window into
month requests, asks for all groups (and, when more than one area is wanted,
all areas) per request, validates each response, and returns the rows with a
report of duplicates, late starts and gaps. `ElhubClient.updates(dataset, since)`
reads the `/updates` change feed (see `updates.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pandas as pd
import requests

from ind320_assets.domain import PRICE_AREAS, ElhubDataset
from ind320_assets.elhub.parsing import parse_price_areas
from ind320_assets.elhub.report import FetchReport, FetchResult, assess_completeness, drop_identical_duplicates
from ind320_assets.elhub.schema import conform, empty_frame
from ind320_assets.elhub.transport import JsonTransport
from ind320_assets.elhub.updates import Update, last_updated_param, parse_updates
from ind320_assets.elhub.windows import DateWindow, month_windows

# The one home of the client's defaults; `ElhubResource` uses the same.
DEFAULT_BASE_URL = "https://api.elhub.no/energy-data/v0"
DEFAULT_TIMEOUT_S = 30.0  # per HTTP request
DEFAULT_MAX_ATTEMPTS = 5  # per request: the only retry layer for HTTP
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_MAX_REQUESTS_PER_SECOND = 5.0  # the API's published limit
# The only query parameters the client ever sends. The API silently ignores
# unknown ones and falls back to its default window, so anything else is a bug.
SENT_PARAMETERS = ("dataset", "startDate", "endDate")


class ElhubClient:
    """Fetches Elhub price-area datasets over a pooled, rate-limited, retrying transport."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_base_s: float = DEFAULT_BACKOFF_BASE_S,
        max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND,
        *,
        max_backoff_s: float = 30.0,
        max_concurrent_requests: int = 4,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_concurrent_requests = max(1, max_concurrent_requests)
        self._transport = JsonTransport(
            timeout_s=timeout_s,
            max_attempts=max_attempts,
            backoff_base_s=backoff_base_s,
            max_backoff_s=max_backoff_s,
            max_requests_per_second=max_requests_per_second,
            pool_size=self.max_concurrent_requests,
            session=session,
        )

    @property
    def requests_made(self) -> int:
        """HTTP requests this client has sent, retries included."""
        return self._transport.requests_made

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> ElhubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(
        self, dataset: ElhubDataset, start: date, end: date, areas: Iterable[str] = PRICE_AREAS
    ) -> FetchResult:
        """All rows of `dataset` for local dates `[start, end)` and the wanted `areas`.

        Raises `ElhubApiError` when a request fails for good and `ElhubDataError`
        when a response breaks the data contract; no partial frame is returned.
        """
        wanted = _canonical_areas(areas)
        if not start < end:
            raise ValueError(f"empty or reversed window: start {start} must be before end {end}")
        windows = month_windows(start, end)
        pieces, requests_made = self._fetch_windows(dataset, windows, wanted)
        frame = conform(pd.concat(pieces, ignore_index=True), dataset) if pieces else empty_frame(dataset)
        frame, duplicates = drop_identical_duplicates(frame, dataset)
        coverage = assess_completeness(frame, dataset, start, end, wanted)
        report = FetchReport(
            dataset_id=dataset.dataset_id,
            start=start,
            end=end,
            areas=wanted,
            requests_made=requests_made,
            rows=len(frame),
            expected_hours_per_series=coverage.expected_hours_per_series,
            duplicates_dropped=duplicates,
            series_rows=coverage.series_rows,
            missing_hours=coverage.missing_hours,
            late_starts=coverage.late_starts,
            early_ends=coverage.early_ends,
            gaps=coverage.gaps,
            absent_series=coverage.absent_series,
        )
        return FetchResult(frame=frame, report=report)

    def updates(self, dataset: ElhubDataset | None, since: datetime | pd.Timestamp) -> list[Update]:
        """What Elhub's `/updates` feed lists as changed on or after `since` (one request).

        `dataset=None` asks for every dataset. Same transport as `fetch`: rate
        limited, retried on 429/5xx/broken bodies; raises `ElhubApiError` when the
        request fails for good and `ElhubDataError` when the answer cannot be read.
        """
        url, params = self.updates_request_for(dataset, since)
        document, _attempts = self._transport.get_json(url, params)
        return parse_updates(document)

    def updates_request_for(
        self, dataset: ElhubDataset | None, since: datetime | pd.Timestamp
    ) -> tuple[str, dict[str, str]]:
        """The URL and query parameters of one `/updates` request."""
        params = {"lastUpdated": last_updated_param(since)}
        if dataset is not None:
            params = {"dataset": dataset.dataset_id, **params}
        return self.base_url + "/updates", params

    def fetch_window(
        self, dataset: ElhubDataset, window: DateWindow, areas: tuple[str, ...]
    ) -> tuple[pd.DataFrame, int]:
        """One request: the validated rows of `window` for `areas`, and the attempts it took."""
        url, params = self.request_for(dataset, window, areas)
        document, attempts = self._transport.get_json(url, params)
        # The all-areas route may legitimately hold any price area; keep only the wanted ones.
        allowed = areas if len(areas) == 1 else PRICE_AREAS
        frame = parse_price_areas(document, dataset, window, allowed)
        return frame[frame["price_area"].isin(areas)], attempts

    def request_for(
        self, dataset: ElhubDataset, window: DateWindow, areas: tuple[str, ...]
    ) -> tuple[str, dict[str, str]]:
        """The URL and query parameters for one request window.

        One area uses `/price-areas/{area}`; more use `/price-areas`. Groups are
        never filtered: every group, `*` included, arrives in one response.
        """
        route = f"/price-areas/{areas[0]}" if len(areas) == 1 else "/price-areas"
        params = {
            "dataset": dataset.dataset_id,
            "startDate": window.start.isoformat(),
            "endDate": window.end.isoformat(),  # exclusive: the first day of the next window
        }
        return self.base_url + route, params

    def _fetch_windows(
        self, dataset: ElhubDataset, windows: list[DateWindow], areas: tuple[str, ...]
    ) -> tuple[list[pd.DataFrame], int]:
        """Fetch windows concurrently (the rate limiter still paces them); fail on the first error."""
        workers = min(self.max_concurrent_requests, len(windows))
        if workers <= 1:
            results = [self.fetch_window(dataset, w, areas) for w in windows]
        else:
            executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="elhub-fetch")
            try:
                futures = [executor.submit(self.fetch_window, dataset, w, areas) for w in windows]
                results = [future.result() for future in futures]
            finally:
                # On an error, don't start the windows still queued.
                executor.shutdown(wait=True, cancel_futures=True)
        return [frame for frame, _ in results], sum(attempts for _, attempts in results)


def _canonical_areas(areas: Iterable[str]) -> tuple[str, ...]:
    """The wanted areas in PRICE_AREAS order; unknown or no areas are a caller error."""
    wanted = set(areas)
    unknown = wanted - set(PRICE_AREAS)
    if unknown:
        raise ValueError(f"unknown price areas {sorted(unknown)}; known areas are {PRICE_AREAS}")
    if not wanted:
        raise ValueError("at least one price area is needed")
    return tuple(area for area in PRICE_AREAS if area in wanted)

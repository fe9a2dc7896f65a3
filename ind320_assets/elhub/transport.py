"""HTTP GET of JSON from Elhub: one pooled session, a rate limit, retries, clear errors.

What is retried: connection errors, timeouts, 429 (honouring `Retry-After`),
5xx, and bodies that are truncated or not JSON (a broken proxy or a dropped
connection looks like that). Other 4xx mean the request itself is wrong, so
they fail at once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from ind320_assets.elhub.errors import ElhubApiError, ElhubTransientError
from ind320_assets.elhub.rate_limit import RateLimiter

# Exceptions from `requests` that mean "the network or the server hiccuped".
_TRANSIENT_REQUEST_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class JsonTransport:
    """GETs JSON documents with pooling, rate limiting and retries."""

    def __init__(
        self,
        *,
        timeout_s: float,
        max_attempts: int,
        backoff_base_s: float,
        max_backoff_s: float,
        max_requests_per_second: float,
        pool_size: int,
        session: requests.Session | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.max_backoff_s = max_backoff_s
        self._rate_limiter = RateLimiter(max_requests_per_second)
        self._session = session or _pooled_session(pool_size)
        self._exponential = wait_exponential_jitter(
            initial=backoff_base_s, max=max_backoff_s, jitter=backoff_base_s
        )
        self._count_lock = threading.Lock()
        self._requests_made = 0

    @property
    def requests_made(self) -> int:
        """HTTP requests sent by this transport so far, retries included."""
        return self._requests_made

    def close(self) -> None:
        self._session.close()

    def get_json(self, url: str, params: Mapping[str, str]) -> tuple[Any, int]:
        """GET `url` and decode its JSON body; returns (document, attempts used)."""
        attempts = 0
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(ElhubTransientError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    return self._get_once(url, params, attempts), attempts
        except ElhubTransientError as err:
            raise ElhubApiError(
                url, params, err.status, err.reason, err.api_errors, attempts=attempts
            ) from err
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _wait(self, retry_state: RetryCallState) -> float:
        """Exponential backoff with jitter, but never shorter than the server's Retry-After."""
        backoff = self._exponential(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after_s", None)
        return max(backoff, retry_after) if retry_after is not None else backoff

    def _get_once(self, url: str, params: Mapping[str, str], attempt: int) -> Any:
        self._rate_limiter.acquire()
        with self._count_lock:
            self._requests_made += 1
        try:
            response = self._session.get(url, params=params, timeout=self.timeout_s)
        except _TRANSIENT_REQUEST_ERRORS as err:
            raise ElhubTransientError(
                url, params, None, f"{type(err).__name__}: {err}", attempts=attempt
            ) from err

        status = response.status_code
        if status == 429 or status >= 500:
            raise ElhubTransientError(
                url,
                params,
                status,
                response.reason or "server error",
                _api_errors(response),
                attempts=attempt,
                retry_after_s=_retry_after_seconds(response) if status == 429 else None,
            )
        if status >= 400:
            raise ElhubApiError(
                url, params, status, response.reason or "client error", _api_errors(response), attempts=attempt
            )
        try:
            return response.json()
        except ValueError as err:
            head = response.text[:120].replace("\n", " ")
            raise ElhubTransientError(
                url,
                params,
                status,
                f"body is not valid JSON ({len(response.content)} bytes, starts {head!r}): {err}",
                attempts=attempt,
            ) from err


def _pooled_session(pool_size: int) -> requests.Session:
    """A session whose connection pool fits the client's concurrent requests."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["Accept"] = "application/json"
    return session


def _retry_after_seconds(response: requests.Response) -> float | None:
    """The `Retry-After` header in seconds, if it is given as a number."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # An HTTP-date; plain backoff is a fine fallback.


def _api_errors(response: requests.Response) -> list[dict[str, Any]]:
    """The JSON:API `errors[]` of an error body, or its text head when it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()[:200]
        return [{"title": text}] if text else []
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        return [e for e in errors if isinstance(e, dict)]
    return []

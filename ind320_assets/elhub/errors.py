"""The two ways an Elhub fetch can fail: the API call, or the data it returned."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class ElhubApiError(Exception):
    """An Elhub API call failed; the message names URL, params, status and the API's reason."""

    def __init__(
        self,
        url: str,
        params: Mapping[str, str],
        status: int | None,
        reason: str,
        api_errors: Sequence[Mapping[str, Any]] = (),
        attempts: int = 1,
    ) -> None:
        self.url = url
        self.params = dict(params)
        self.status = status
        self.reason = reason
        self.api_errors = [dict(e) for e in api_errors]
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no HTTP status"
        details = "; ".join(
            f"{e.get('title', '')}: {e.get('detail', '')}".strip(": ") for e in self.api_errors
        )
        tries = f" after {self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return (
            f"Elhub API request failed{tries}: GET {self.url} params={self.params} -> {status}: {self.reason}"
            + (f" [API errors: {details}]" if details else "")
        )


class ElhubTransientError(ElhubApiError):
    """A failure worth retrying: connection trouble, timeouts, 429, 5xx, a broken body.

    `retry_after_s` carries the server's `Retry-After` so the backoff can honour it.
    """

    def __init__(self, *args: Any, retry_after_s: float | None = None, **kwargs: Any) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(*args, **kwargs)


class ElhubDataError(Exception):
    """A response arrived but broke the data contract; no partial frame is returned."""

"""The Elhub Energy Data API as a Dagster resource, shared by assets and sensors."""

from __future__ import annotations

from dagster import ConfigurableResource, Failure
from pydantic import PrivateAttr

from ind320_assets.elhub import ElhubApiError, ElhubClient
from ind320_assets.elhub.client import (
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_TIMEOUT_S,
)
from ind320_assets.resources.errors import os_error_text, setting_failure


class ElhubSettingFailure(ElhubApiError, Failure):
    """The one-line Failure naming ELHUB_API_URL that is still an `ElhubApiError`, so
    callers that skip a failed month (the revision sensors) keep doing so."""

    def __init__(self, error: ElhubApiError, failure: Failure) -> None:
        super().__init__(error.url, error.params, error.status, error.reason, error.api_errors, error.attempts)
        self.description, self.metadata, self.allow_retries = failure.description, failure.metadata, failure.allow_retries
        self.args = (failure.description,)


class SettingNamingElhubClient(ElhubClient):
    """The client, but a request that gets no HTTP answer at all (refused, unresolvable,
    timed out after every retry), or a 404 for the route itself, fails with one line
    naming ELHUB_API_URL: both mean the base URL is wrong or the API is away."""

    def __init__(self, *, base_url: str, **settings: float) -> None:
        super().__init__(base_url=base_url, **settings)
        self.configured_url = base_url  # as the setting reads, before the client trims it

    def fetch_window(self, dataset, window, areas):  # noqa: ANN001, ANN201 - ElhubClient's signature
        try:
            return super().fetch_window(dataset, window, areas)
        except ElhubApiError as error:
            if error.status is None:
                attempts = f"{error.attempts} attempt{'s' if error.attempts != 1 else ''}"
                problem = f"no answer from {error.url} after {attempts} ({os_error_text(error.reason)})"
            elif error.status == 404:
                problem = f"{error.url} does not exist (HTTP 404): is the base URL right?"
            else:
                raise
            failure = setting_failure("elhub", "base_url", self.configured_url, problem)
            raise ElhubSettingFailure(error, failure) from error


class ElhubResource(ConfigurableResource):
    """Where the API is and how patiently to ask it: the public API by default;
    offline runs point `base_url` at the dev kit's replay server."""

    base_url: str = DEFAULT_BASE_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    max_requests_per_second: float = DEFAULT_MAX_REQUESTS_PER_SECOND

    _client: ElhubClient | None = PrivateAttr(default=None)

    def client(self) -> ElhubClient:
        """One pooled client per resource instance, so the rate limit holds across a run."""
        if self._client is None:
            self._client = SettingNamingElhubClient(
                base_url=self.base_url,
                timeout_s=self.timeout_s,
                max_attempts=self.max_attempts,
                backoff_base_s=self.backoff_base_s,
                max_requests_per_second=self.max_requests_per_second,
            )
        return self._client

"""The Elhub Energy Data API as a Dagster resource, shared by assets and sensors."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from ind320_assets.elhub import ElhubClient
from ind320_assets.elhub.client import (
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_TIMEOUT_S,
)


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
            self._client = ElhubClient(
                base_url=self.base_url,
                timeout_s=self.timeout_s,
                max_attempts=self.max_attempts,
                backoff_base_s=self.backoff_base_s,
                max_requests_per_second=self.max_requests_per_second,
            )
        return self._client

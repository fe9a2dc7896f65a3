"""The Elhub Energy Data API as a Dagster resource, shared by assets and sensors."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from ind320_assets.elhub import ElhubClient


class ElhubResource(ConfigurableResource):
    """Where the API is and how patiently to ask it.

    `base_url` None means `ELHUB_API_URL`, else the public API. Offline runs
    point it at the replay server (`python -m ind320_assets.elhub.replay`).
    """

    base_url: str | None = None
    timeout_s: float = 60.0
    max_attempts: int = 5
    backoff_base_s: float = 0.5
    max_requests_per_second: float = 5.0  # the API's published limit

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

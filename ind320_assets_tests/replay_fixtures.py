"""Fixtures and helpers for tests that talk to the in-process Elhub replay server.

Import the fixture into a test module (`from ind320_assets_tests.replay_fixtures
import replay_server`) rather than through conftest.py, which another part of
the project owns.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from typing import Any

import pytest

from ind320_assets.elhub import ElhubClient
from ind320_devkit.replay import ReplayServer
from ind320_devkit.replay.recorded import RECORDED_PRODUCTION_CSV

# A fixed "now" (the day this was written) keeps published horizons and
# revision timestamps identical on every run.
REPLAY_NOW = "2026-11-24T12:00:00+01:00"


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    """A fresh replay server on a free port with a fixed clock and no faults."""
    server = ReplayServer(port=0, now=REPLAY_NOW).start()
    yield server
    server.stop()


def fast_client(server: ReplayServer, **overrides: Any) -> ElhubClient:
    """A client for `server` that retries quickly and is not slowed by the 5 req/s limit."""
    settings: dict[str, Any] = {
        "base_url": server.url,
        "timeout_s": 10.0,
        "max_attempts": 4,
        "backoff_base_s": 0.001,
        "max_requests_per_second": 1000.0,
    }
    settings.update(overrides)
    return ElhubClient(**settings)


def recorded_rows() -> list[dict[str, str]]:
    """The shipped real recording as plain CSV rows (strings), read without pandas."""
    with gzip.open(RECORDED_PRODUCTION_CSV, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))

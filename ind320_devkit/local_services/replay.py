"""The Elhub replay server as a local service, for the offline demo and the UI.

Tests start their own replay server in-process; this one serves `make demo`
and `make dev` on a fixed port, so `ELHUB_API_URL` can point at it.
"""

from __future__ import annotations

import os
import sys
import urllib.request

from ind320_devkit.local_services.process import ManagedService, port_is_open

REPLAY_PORT = int(os.environ.get("ELHUB_REPLAY_PORT", "8765"))
REPLAY_URL = f"http://127.0.0.1:{REPLAY_PORT}/energy-data/v0"


class ReplayServer(ManagedService):
    name = "replay"
    start_timeout_s = 60.0
    ownership_marker = "ind320_devkit.replay"

    def __init__(self) -> None:
        self.port = REPLAY_PORT

    def command(self) -> list[str]:
        return [sys.executable, "-m", "ind320_devkit.replay", "--port", str(self.port)]

    def is_ready(self) -> bool:
        if not port_is_open(self.host, self.port):
            return False
        url = f"{REPLAY_URL}/price-areas/NO1?dataset=PRODUCTION_PER_GROUP_MBA_HOUR&startDate=2021-01-01&endDate=2021-01-02"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

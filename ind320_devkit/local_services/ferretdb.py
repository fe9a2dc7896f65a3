"""FerretDB v1 (SQLite backend) on 127.0.0.1:27017: our MongoDB-wire server.

The binary is our own small Go `main` in services/ferretdb that embeds
FerretDB as a library; it is built from the Go module proxy once and cached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from ind320_devkit.local_services.paths import LOCAL_DIR, SERVICES_SOURCE
from ind320_devkit.local_services.process import ManagedService, ServiceError, answers_mongo_ping, file_digest

SOURCE = SERVICES_SOURCE / "ferretdb"
BINARY = LOCAL_DIR / "bin" / "ferretdb-local"
DATA_DIR = LOCAL_DIR / "ferretdb" / "data"


class FerretDB(ManagedService):
    name = "ferretdb"
    start_timeout_s = 60.0

    def __init__(self) -> None:
        self.port = int(os.environ.get("FERRETDB_PORT", "27017"))

    def prepare(self) -> None:
        stamp = BINARY.with_suffix(".digest")
        digest = file_digest(*sorted(SOURCE.glob("*.go")), SOURCE / "go.mod", SOURCE / "go.sum")
        if BINARY.exists() and stamp.exists() and stamp.read_text() == digest:
            return
        if shutil.which("go") is None:
            raise ServiceError("ferretdb: the Go toolchain is needed to build the local MongoDB-wire server")
        BINARY.parent.mkdir(parents=True, exist_ok=True)
        print("ferretdb:  building FerretDB 1.24 with go build (a minute or two when cold)...", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            ["go", "build", "-trimpath", "-o", str(BINARY), "."],
            cwd=SOURCE, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise ServiceError(f"ferretdb: go build failed:\n{result.stderr[-3000:]}")
        print(f"ferretdb:  built in {time.monotonic() - started:.1f}s", flush=True)
        stamp.write_text(digest)

    def command(self) -> list[str]:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return [str(BINARY), f"--listen={self.host}:{self.port}", f"--data-dir={DATA_DIR}"]

    def is_ready(self) -> bool:
        """Ready means the server answers `ping`."""
        return answers_mongo_ping(self.host, self.port)

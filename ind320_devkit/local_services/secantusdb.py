"""SecantusDB on 127.0.0.1:27017: the dev kit's MongoDB-wire server.

A MongoDB-wire server on WiredTiger, MongoDB's own storage engine, from PyPI.
It is GPL-2.0-only, so it gets a virtualenv of its own under `.local/secantusdb`
(pinned in services/secantusdb/requirements.lock) and runs as a separate
process: the platform talks to it over the wire, as to any MongoDB, and never
imports it. Why it replaced FerretDB 1.24: the README's "The local MongoDB".
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ind320_devkit.local_services.paths import LOCAL_DIR, SERVICES_SOURCE
from ind320_devkit.local_services.process import ManagedService, ServiceError, answers_mongo_ping, file_digest

REQUIREMENTS = SERVICES_SOURCE / "secantusdb" / "requirements.lock"
VENV = LOCAL_DIR / "secantusdb" / "venv"
SERVER = VENV / "bin" / "secantusd-py"
DATA_DIR = LOCAL_DIR / "secantusdb" / "data"


def install_server() -> None:
    """The server's own virtualenv, (re)built when its pins change; pip's cache keeps it quick."""
    stamp = VENV / ".installed"
    digest = file_digest(REQUIREMENTS)
    if SERVER.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    print("secantusdb: installing SecantusDB into its own virtualenv...", flush=True)
    started = time.monotonic()
    for command in (
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)],
    ):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceError(f"secantusdb: {' '.join(command[:3])} failed:\n{result.stderr[-3000:]}")
    stamp.write_text(digest)
    print(f"secantusdb: installed in {time.monotonic() - started:.1f}s", flush=True)


def server_command(host: str, port: int, data_dir: os.PathLike) -> list[str]:
    # --standalone: a plain server, as `mongod` without a replica set (by default it
    # presents itself as a one-node replica set). --sync-on-commit: every acknowledged
    # write is on disk, so a SIGKILL loses none (without it, measured here: 29 and 56
    # of ~3,500 acknowledged writes lost, as mongod may lose ~100 ms of w:1 writes).
    return [str(SERVER), "--host", host, "--port", str(port), "--storage-path", str(data_dir),
            "--standalone", "--sync-on-commit"]


class SecantusDB(ManagedService):
    name = "secantusdb"
    start_timeout_s = 60.0

    def __init__(self) -> None:
        self.port = int(os.environ.get("MONGO_SERVER_PORT", "27017"))

    def prepare(self) -> None:
        install_server()

    def command(self) -> list[str]:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return server_command(self.host, self.port, DATA_DIR)

    def is_ready(self) -> bool:
        """Ready means the server answers `ping`."""
        return answers_mongo_ping(self.host, self.port)

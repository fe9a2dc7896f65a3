"""A MongoDB-wire server of a test's own: the dev kit's SecantusDB on a free port, with its
data under the test's folder, that the test may kill, restart, or start with `--auth`."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pymongo import MongoClient

from ind320_assets_tests.cli_fixtures import wait_until
from ind320_devkit.local_services.process import answers_mongo_ping
from ind320_devkit.local_services.secantusdb import SERVER, server_command

START_TIMEOUT_S = 60.0


class PrivateMongo:
    """The dev kit's MongoDB-wire server on `port` with `data_dir`: started, killed, restarted."""

    def __init__(self, port: int, data_dir: Path, log_file: Path) -> None:
        self.port, self.data_dir, self.log_file = port, data_dir, log_file
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("a") as log:
            self.process = subprocess.Popen(
                [*server_command("127.0.0.1", self.port, self.data_dir), *extra], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(f"an answer on {self.uri} (log: {self.log_file})", self.listening, START_TIMEOUT_S)

    def listening(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_file.read_text()[-2000:]
        return answers_mongo_ping("127.0.0.1", self.port)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a crash would end it: no clean shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def with_user(self, user: str, password: str, database: str) -> None:
        """Restarts the server with `--auth`, with `user` allowed to read and write `database`."""
        client = MongoClient(self.uri)
        client.admin.command("createUser", user, pwd=password, roles=[{"role": "readWrite", "db": database}])
        client.close()
        self.kill()
        self.start("--auth")


@contextmanager
def private_mongo(tmp_path: Path) -> Iterator[PrivateMongo]:
    if not SERVER.exists():
        pytest.fail(f"No MongoDB-wire server at {SERVER}: `make services-up` installs it.", pytrace=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = PrivateMongo(port, tmp_path / "mongo", tmp_path / "mongo.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()

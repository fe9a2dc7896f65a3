"""Start, stop and inspect one long-running local service, idempotently.

A service is "ours" when its PID file names a live process whose command line
carries the service's marker (by default this project's `.local` folder). Anything else holding the port is
foreign, and we refuse to start rather than talk to the wrong server. psutil
answers the questions about processes: alive, command line, memory, who listens
on a port, and ending a process tree.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from ind320_devkit.local_services.paths import LOCAL_DIR, LOG_DIR, RUN_DIR

STOP_TIMEOUT_S = 30.0  # after SIGTERM, before SIGKILL
KILL_TIMEOUT_S = 10.0


class ServiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # running | starting | stopped | foreign
    pid: int | None
    port: int | None
    log_file: Path
    rss_mib: float | None = None

    def line(self, name_width: int = 10) -> str:
        pid = self.pid if self.pid is not None else "-"
        rss = f"{self.rss_mib:.0f} MiB" if self.rss_mib is not None else "-"
        port = self.port if self.port is not None else "-"
        return f"{self.name:<{name_width}} {self.state:<8} pid={pid:<8} port={port:<6} rss={rss:<9} log={self.log_file}"


def port_is_open(host: str, port: int) -> bool:
    """Whether something accepts connections on `host:port` (what a client would see)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def answers_mongo_ping(host: str, port: int) -> bool:
    """Whether a MongoDB-wire server on `host:port` answers `ping`: what "ready" means for one."""
    if not port_is_open(host, port):
        return False
    from pymongo import MongoClient

    client = MongoClient(host, port, serverSelectionTimeoutMS=2000)
    try:
        return client.admin.command("ping").get("ok") == 1
    except Exception:  # noqa: BLE001 - while starting, any failure just means "not yet"
        return False
    finally:
        client.close()


def port_owner(port: int) -> str:
    """A best-effort description of who listens on `port`, for error messages."""
    try:
        listeners = [
            conn.pid
            for conn in psutil.net_connections(kind="tcp")
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
        ]
        pid = next(pid for pid in listeners if pid is not None)
        return f"{psutil.Process(pid).name()} (pid {pid})"
    except (StopIteration, psutil.Error):
        return "an unknown process"


def process_rss_mib(pid: int) -> float | None:
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


def command_line_has(pid: int, marker: str) -> bool:
    """Whether the live process `pid` carries `marker` in one of its arguments."""
    try:
        return any(marker in argument for argument in psutil.Process(pid).cmdline())
    except psutil.Error:  # gone, a zombie, or not ours to read
        return False


def stop_process_tree(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM `pid` and all its descendants; SIGKILL whatever is left after `timeout_s`.

    Waiting through psutil also reaps the process when it is our child (it is
    when `up` and `down` run in one Python process).
    """
    tree = process_tree(pid)
    _send(tree, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=timeout_s)
    kill_processes(alive)


def kill_process_tree(pid: int) -> None:
    """SIGKILL `pid` and its descendants at once, as if their machine died; wait until they are gone."""
    kill_processes(process_tree(pid))


def process_tree(pid: int) -> list[psutil.Process]:
    """`pid` and its descendants, taken before the parent dies and they are re-parented."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _send(processes: list[psutil.Process], signal_number: int) -> None:
    for process in processes:
        try:
            process.send_signal(signal_number)
        except psutil.NoSuchProcess:
            pass


def kill_processes(processes: list[psutil.Process]) -> None:
    """SIGKILL those of `processes` still alive; wait until they are gone."""
    _send(processes, signal.SIGKILL)
    psutil.wait_procs(processes, timeout=KILL_TIMEOUT_S)


def processes_marked(marker: str) -> list[psutil.Process]:
    """Live processes with `marker` in an argument or in their working directory.

    The working directory catches what a service spawns without naming its
    folder on the command line (Spark executors run inside the worker's work dir).
    """
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        if process.pid == os.getpid():  # the caller may well be standing in that folder
            continue
        arguments = process.info["cmdline"] or []
        if any(marker in argument for argument in arguments) or marker in (process.info["cwd"] or ""):
            found.append(process)
    return found


class ManagedService:
    """A local server process with a PID file, a log file and a readiness probe."""

    name: str = "service"
    host: str = "127.0.0.1"
    port: int = 0
    start_timeout_s: float = 120.0
    # A string in the command line that marks the process as ours.
    ownership_marker: str = str(LOCAL_DIR)
    # Where its PID file and log go; the cluster's services keep theirs apart.
    run_dir: Path = RUN_DIR
    log_dir: Path = LOG_DIR

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    # --- what each service defines -------------------------------------------------
    def prepare(self) -> None:
        """Download or build what the service needs; cached, so cheap when warm."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def is_ready(self) -> bool:
        raise NotImplementedError

    # --- lifecycle -------------------------------------------------------------------
    def own_pid(self) -> int | None:
        """The PID from our PID file, if that process is alive and really ours."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if command_line_has(pid, self.ownership_marker) else None

    def status(self) -> ServiceStatus:
        pid = self.own_pid()
        if pid is not None:
            state = "running" if self.is_ready() else "starting"
        elif port_is_open(self.host, self.port):
            state = "foreign"
        else:
            state = "stopped"
        rss = process_rss_mib(pid) if pid else None
        return ServiceStatus(self.name, state, pid, self.port, self.log_file, rss)

    def up(self) -> str:
        pid = self.own_pid()
        if pid is not None:
            self._wait_until_ready(lambda: self.own_pid() == pid)
            return f"{self.name}: already running (pid {pid})"
        if port_is_open(self.host, self.port):
            raise ServiceError(
                f"{self.name}: port {self.host}:{self.port} is held by {port_owner(self.port)}, "
                f"which this project did not start. Stop it, or point the platform at it with "
                f"the service's environment variables instead of `make services-up`."
            )
        self.prepare()
        for folder in (RUN_DIR, LOG_DIR, self.pid_file.parent, self.log_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                start_new_session=True,  # detached from the terminal, so Ctrl-C there does not stop it
            )
        self.pid_file.write_text(str(proc.pid))
        started = time.monotonic()
        # Poll the child itself: the JVM launcher may re-exec, which briefly
        # blanks its command line and would fool the ownership check.
        self._wait_until_ready(lambda: proc.poll() is None)
        return f"{self.name}: started (pid {proc.pid}) in {time.monotonic() - started:.1f}s"

    def _wait_until_ready(self, is_alive: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if not is_alive():
                raise ServiceError(f"{self.name}: exited while starting. Last log lines:\n{self.log_tail()}")
            if self.is_ready():
                return
            time.sleep(0.5)
        raise ServiceError(
            f"{self.name}: not ready after {self.start_timeout_s:.0f}s. Last log lines:\n{self.log_tail()}"
        )

    def down(self) -> str:
        pid = self.own_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return f"{self.name}: not running"
        stop_process_tree(pid)
        self.pid_file.unlink(missing_ok=True)
        return f"{self.name}: stopped (pid {pid})"

    def kill(self) -> str:
        """SIGKILL the service and its children with no chance to shut down cleanly (failure tests)."""
        pid = self.own_pid()
        if pid is None:
            return f"{self.name}: not running"
        kill_process_tree(pid)
        self.pid_file.unlink(missing_ok=True)
        return f"{self.name}: killed (pid {pid})"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def file_digest(*paths: Path) -> str:
    """A cache key for build inputs: rebuild only when one of them changed."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

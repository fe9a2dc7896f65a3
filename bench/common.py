"""What every benchmark shares: a slow replay server, a throw-away keyspace and database,
the platform's own resources, child processes with their whole process tree sampled for
memory (through psutil), and Dagster event-log figures.

Benchmarks print exactly one JSON line on stdout; progress goes to stderr. Nothing
here compares a figure with a threshold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"  # git-ignored
PYTHON = sys.executable
DAGSTER_CLI = str(Path(sys.executable).with_name("dagster"))

ASSET_SELECTION = "elhub_production_raw,elhub_production_cassandra,elhub_production_mongo"
SELECTIONS = {  # --selection name -> `dagster asset materialize --select`
    "chain": ASSET_SELECTION,  # raw -> Cassandra -> MongoDB
    "with_views": "group:elhub_production",  # the chain and the three dashboard views
}
FULL_YEAR_RANGE = "2021-01-01|NO1...2021-12-01|NO5"
STAGES = {  # stage name in the figures -> Dagster step key
    "fetch": "elhub_production_raw",
    "cassandra": "elhub_production_cassandra",
    "mongo": "elhub_production_mongo",
}
VIEW_STAGES = {  # reported only when the run had these steps (`--selection with_views`)
    "daily_totals": "elhub_production_daily_totals",
    "yearly_totals": "elhub_production_yearly_totals",
    "hourly_series": "elhub_production_hourly_series",
}
DEFAULT_LATENCY_MS = 150.0
SAMPLE_INTERVAL_S = 0.2
MIB = 1024 * 1024


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- command line and output ---------------------------------------------------------------


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help=f"fixed delay the replay server adds to every request (default {DEFAULT_LATENCY_MS:g})")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line to this file")
    parser.add_argument("--keep-dirs", action="store_true",
                        help="keep the temporary DAGSTER_HOME / raw / log folders (namespaces are always dropped)")
    return parser


def machine() -> dict:
    return {"cores": os.cpu_count(), "mem_gib": round(psutil.virtual_memory().total / 1024**3, 1)}


def header(name: str, latency_ms: float) -> dict:
    return {
        "benchmark": name,
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "replay_latency_ms": latency_ms,
        # Other work shares the machine; the 1-minute load average says how much.
        "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def emit(result: dict, out: Path | None) -> None:
    result["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    line = json.dumps(result, separators=(", ", ": "))
    print(line, flush=True)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(line + "\n")


def r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return None if a is None or not b else round(a / b, digits)


def per_s(rows: int | None, seconds: float | None) -> float | None:
    return None if rows is None or not seconds else round(rows / seconds, 1)


def load_json(path: Path | None) -> dict | None:
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text().strip().splitlines()[-1])


# --- services --------------------------------------------------------------------------------


def prepare_environment() -> None:
    """Point the runtime at the local services' jars, Java 17 and raw folder, unless the
    caller's environment already says otherwise; child processes inherit it."""
    from ind320_devkit.local_services.runtime_env import apply_runtime_environment

    apply_runtime_environment()


@contextmanager
def resource(name: str, **overrides: dict[str, object]) -> Iterator:
    """The platform's resource `name`, bound from the environment as a run binds it and
    initialized for use outside a run; `overrides` as for `build_resources`."""
    from ind320_assets.definitions import build_resources

    with build_resources(**overrides)[name].process_config_and_initialize_cm() as initialized:
        yield initialized


@contextmanager
def replay_server(latency_ms: float) -> Iterator:
    """An in-process replay server on a free port; its `.requests` counts what a child sent."""
    from ind320_devkit.replay import ReplayServer
    from ind320_devkit.replay.faults import Faults

    server = ReplayServer(port=0, faults=Faults(latency_ms=latency_ms)).start()
    log(f"replay server at {server.url}, latency {latency_ms:g} ms")
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def fresh_namespace(prefix: str, keep: bool = False) -> Iterator[str]:
    """A keyspace and Mongo database name nobody else uses; both are dropped at the end,
    unless `keep` (then whoever was handed the name drops it with `drop_namespace`)."""
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    log(f"namespace {name} (Cassandra keyspace and Mongo database)")
    try:
        yield name
    finally:
        if keep:
            log(f"kept namespace {name}")
        else:
            drop_namespace(name)


def drop_namespace(name: str) -> None:
    dropped = []
    try:
        with resource("cassandra", cassandra={"keyspace": name}) as cassandra:
            cassandra.session().execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=120)
        dropped.append("keyspace")
    except Exception as error:  # noqa: BLE001 - report, never hide the benchmark's own result
        log(f"could not drop keyspace {name}: {error}")
    try:
        with resource("mongo", mongo={"database": name}) as mongo:
            mongo.db().client.drop_database(name)
        dropped.append("Mongo database")
    except Exception as error:  # noqa: BLE001
        log(f"could not drop Mongo database {name}: {error}")
    log(f"dropped {' and '.join(dropped) or 'nothing'} of {name}")


@contextmanager
def work_dir(prefix: str, keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"bench_{prefix}_"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


# --- child processes, with the whole tree sampled ---------------------------------------------


def process_tree(root: psutil.Process) -> list[psutil.Process]:
    """`root` and all its descendants alive now; empty once `root` has exited."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _process_kind(cmdline: list[str]) -> str:
    # By the program run (the name can be a thread's); the dagster script runs Python.
    program = os.path.basename(cmdline[0]) if cmdline else ""
    return "java" if program == "java" else "python" if program.startswith("python") or program == "dagster" else "other"


class TreeSampler(threading.Thread):
    """Sums the resident memory of a process and all its descendants every ~0.2 s."""

    def __init__(self, root_pid: int, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        super().__init__(name="tree-sampler", daemon=True)
        self.root_pid, self.interval_s = root_pid, interval_s
        self._root = psutil.Process(root_pid)
        self._halt = threading.Event()
        self.samples = 0
        self.peak_bytes = 0
        self.peak_breakdown: dict[str, int] = {}
        self.peak_processes = 0
        self.java_pids: set[int] = set()
        self.python_pids: set[int] = set()
        self.max_java_alive = 0
        self._spark_jvm: dict[int, bool] = {}

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval_s)

    def sample(self) -> None:
        total, breakdown, java_alive, count = 0, {"python": 0, "java": 0, "other": 0}, 0, 0
        for process in process_tree(self._root):
            try:
                with process.oneshot():
                    rss, cmdline = process.memory_info().rss, process.cmdline()
            except psutil.Error:  # exited between listing and reading, or a zombie
                continue
            kind = _process_kind(cmdline)
            count += 1
            total += rss
            breakdown[kind] += rss
            if kind == "java" and self._is_spark_jvm(process.pid, cmdline):
                java_alive += 1
                self.java_pids.add(process.pid)
            elif kind == "python":
                self.python_pids.add(process.pid)
        self.samples += 1
        self.max_java_alive = max(self.max_java_alive, java_alive)
        self.peak_processes = max(self.peak_processes, count)
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_breakdown = total, breakdown

    def _is_spark_jvm(self, pid: int, cmdline: list[str]) -> bool:
        """A Spark driver JVM (`...SparkSubmit`), not the short-lived `java -version` or launcher."""
        if pid not in self._spark_jvm:
            # The launcher's arguments name SparkSubmit too; the driver JVM's main class is it.
            arguments = "\0".join(cmdline)
            self._spark_jvm[pid] = (
                "org.apache.spark.deploy.SparkSubmit" in arguments and "org.apache.spark.launcher.Main" not in arguments
            )
        return self._spark_jvm[pid]

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def figures(self) -> dict:
        return {
            "peak_rss_mib": round(self.peak_bytes / MIB),
            "peak_rss_by_kind_mib": {k: round(v / MIB) for k, v in self.peak_breakdown.items()},
            "spark_jvms_started": len(self.java_pids),
            "max_spark_jvms_alive": self.max_java_alive,
            "python_processes": len(self.python_pids),
            "memory_samples": self.samples,
        }


@dataclass
class ChildRun:
    command: list[str]
    returncode: int
    wall_s: float
    memory: dict
    stdout: str
    stderr_tail: str
    started_at: float = 0.0  # time.time() just before the process was launched
    extra: dict = field(default_factory=dict)


def run_child(
    command: list[str],
    env: dict[str, str],
    log_dir: Path,
    name: str,
    on_start: Callable[[int], object] | None = None,
) -> ChildRun:
    """Run `command` as a new process, sample its process tree, return wall time and memory."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    log(f"{name}: {' '.join(command)}")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started_at = time.time()
        t0 = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=REPO_DIR, stdout=out, stderr=err)
        sampler = TreeSampler(process.pid)
        sampler.start()
        extra = on_start(process.pid) if on_start else None
        returncode = process.wait()
        wall_s = time.perf_counter() - t0
        sampler.stop()
    stderr_text = err_path.read_text(errors="replace")
    run = ChildRun(
        command=command, returncode=returncode, wall_s=wall_s, memory=sampler.figures(),
        stdout=out_path.read_text(errors="replace"), stderr_tail=stderr_text[-4000:], started_at=started_at,
        extra={"on_start": extra} if extra is not None else {},
    )
    log(f"{name}: exit {returncode} after {wall_s:.1f} s, peak tree RSS {run.memory['peak_rss_mib']} MiB")
    if returncode != 0:
        log(f"{name} failed; stderr tail:\n{run.stderr_tail}")
    return run


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def materialize_command(
    *, partition: str | None = None, partition_range: str | None = None, selection: str = ASSET_SELECTION
) -> list[str]:
    command = [DAGSTER_CLI, "asset", "materialize", "-m", "ind320_assets.definitions", "--select", selection]
    if partition is not None:
        command += ["--partition", partition]
    if partition_range is not None:
        command += ["--partition-range", partition_range]
    return command


def pipeline_env(*, replay_url: str, namespace: str, dagster_home: Path, raw_dir: Path) -> dict[str, str]:
    from ind320_devkit.local_services.paths import prepare_dagster_home

    prepare_dagster_home(dagster_home)
    raw_dir.mkdir(parents=True, exist_ok=True)
    return child_env(
        ELHUB_API_URL=replay_url,
        CASSANDRA_KEYSPACE=namespace,
        MONGO_DB=namespace,
        ELHUB_RAW_DIR=str(raw_dir),
        DAGSTER_HOME=str(dagster_home),
    )


# --- Dagster event log ---------------------------------------------------------------------------


def _output_name(event) -> str | None:  # noqa: ANN001 - a DagsterEvent
    data = event.event_specific_data
    for attribute in ("step_output_handle", "output_name"):
        value = getattr(data, attribute, None)
        if value is None:
            continue
        return value.output_name if hasattr(value, "output_name") else value
    return None


def dagster_run_figures(dagster_home: Path, run_id: str | None = None) -> dict:
    """Runs in DAGSTER_HOME and, for one run (the newest by default), per-step timings from
    the event log, rows and partitions from the materializations."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        runs = instance.get_runs()
        if not runs:
            return {"runs_launched": 0}
        run = next((x for x in runs if x.run_id == run_id), runs[0]) if run_id else runs[0]
        logs = instance.all_logs(run.run_id)
        figures = {"runs_launched": len(runs), "run_id": run.run_id, "run_status": run.status.value}

    first: dict[tuple[str | None, str], float] = {}
    last: dict[tuple[str | None, str], float] = {}
    rows: dict[str, int] = {}
    partitions: dict[str, set[str]] = {}
    worker_pids: dict[str, int] = {}
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind in ("STEP_OUTPUT", "HANDLED_OUTPUT") and _output_name(event) != "result":
            continue  # asset-check outputs
        key = (entry.step_key, kind)
        first.setdefault(key, entry.timestamp)
        last[key] = entry.timestamp
        if kind == "STEP_WORKER_STARTED":
            pid = event.event_specific_data.metadata.get("pid") if event.event_specific_data else None
            if pid is not None:
                worker_pids[entry.step_key] = int(pid.value)
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            asset = materialization.asset_key.to_user_string()
            partitions.setdefault(asset, set()).add(str(materialization.partition))
            count = materialization.metadata.get("dagster/row_count")
            if count is not None:
                # A single-run backfill repeats the whole output's row count on every partition's event.
                rows[asset] = max(rows.get(asset, 0), int(count.value))

    def span(step: str | None, a: str, b: str, a_last: bool = False) -> float | None:
        start = (last if a_last else first).get((step, a))
        end = last.get((step, b))
        return None if start is None or end is None else round(end - start, 2)

    stages = {}
    started_steps = {step for step, kind in first if kind == "STEP_START"}
    views = {stage: step for stage, step in VIEW_STAGES.items() if step in started_steps}
    for stage, step in {**STAGES, **views}.items():
        has_input = (step, "LOADED_INPUT") in last
        before_compute = "LOADED_INPUT" if has_input else "STEP_START"
        stages[stage] = {
            "step_s": span(step, "STEP_START", "STEP_SUCCESS"),
            "process_spawn_s": span(step, "STEP_WORKER_STARTING", "STEP_START"),
            "load_input_s": span(step, "STEP_START", "LOADED_INPUT") if has_input else 0.0,
            "compute_s": span(step, before_compute, "STEP_OUTPUT", a_last=True),
            "handle_output_s": span(step, "STEP_OUTPUT", "HANDLED_OUTPUT"),
            "checks_after_output_s": span(step, "HANDLED_OUTPUT", "STEP_SUCCESS"),
            "rows": rows.get(step),
            "partitions": len(partitions.get(step, ())),
        }
    def run_event(*kinds: str) -> float | None:
        return next((last[(None, k)] for k in kinds if (None, k) in last), None)

    run_start = run_event("PIPELINE_START", "RUN_START")
    run_end = run_event("PIPELINE_SUCCESS", "RUN_SUCCESS", "PIPELINE_FAILURE", "RUN_FAILURE")
    steps_total = sum(s["step_s"] or 0.0 for s in stages.values())
    figures.update({
        "run_s": None if run_start is None or run_end is None else round(run_end - run_start, 2),
        "run_start_ts": run_start,
        "run_end_ts": run_end,
        # Run time outside the steps: spawning step processes, waiting for them (and their JVMs) to exit.
        "outside_steps_s": None if run_start is None or run_end is None else round(run_end - run_start - steps_total, 2),
        "stages": stages,
        "step_worker_pids": worker_pids,
        "step_ts": {step: (first.get((step, "STEP_START")), last.get((step, "STEP_SUCCESS")))
                    for step in {**STAGES, **views}.values()},
    })
    return figures


def cli_split(run: ChildRun, figures: dict) -> dict:
    """Where a `dagster asset materialize` process's wall time went: before the run starts
    (interpreter, imports, loading the definitions), the run, and after it ends (exit)."""
    start, end = figures.get("run_start_ts"), figures.get("run_end_ts")
    return {
        "cli_startup_s": r(start - run.started_at) if start else None,
        "run_s": figures.get("run_s"),
        "run_outside_steps_s": figures.get("outside_steps_s"),
        "cli_shutdown_s": r(run.started_at + run.wall_s - end) if end else None,
    }

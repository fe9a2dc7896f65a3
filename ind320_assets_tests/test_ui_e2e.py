"""End to end through the Dagster UI, in headless Chromium.

`dagster dev` serves the code location in its own process group, with a fresh
DAGSTER_HOME and our own keyspace, database, raw folder and replay server. The
test clicks what a person would: the asset graph, the raw asset's partitions,
"Materialize all…" with one (month, price area) picked in the launch dialog,
the toast's link to the run. It waits for the run through GraphQL and the run
page, then counts the rows in Cassandra and MongoDB directly.

Screenshots of every step land in `test-artifacts/ui/` (git-ignored), with the
server's log, so a failure can be read without rerunning.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
import requests
from playwright.sync_api import expect

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets_tests import stored_rows
from ind320_devkit.local_services.paths import prepare_dagster_home
from ind320_devkit.local_services.process import kill_processes, process_tree
from ind320_devkit.replay import ReplayServer

pytestmark = [pytest.mark.e2e, pytest.mark.services]

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
SCREENSHOTS = ["01_asset_graph.png", "02_partitions.png", "03_launch.png", "04_run_succeeded.png",
               "05_partitions_after.png", "06_raw_chart.png", "99_failure.png"]

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

ASSETS = [key.to_user_string() for key in PRODUCTION_SPEC.asset_keys]
RAW, CASSANDRA, MONGO, DAILY, YEARLY, HOURLY = ASSETS
# raw→cassandra→mongo, mongo→daily→yearly, mongo→hourly, and the views' rows: cassandra→daily, cassandra→hourly
EDGES = 7
MONTH, AREA = "2021-01-01", "NO1"
PARTITION = f"{MONTH}|{AREA}"
HOURS_IN_JANUARY_2021 = 31 * 24
EXPECTED_ROWS = 5 * HOURS_IN_JANUARY_2021  # five production groups in NO1: 3720

SERVER_START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 240  # the first run starts a Spark JVM; the machine may be busy with other work
UI_TIMEOUT_MS = 60_000
TERMINAL_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(process: subprocess.Popen, url: str, timeout_s: float, what: str,
                  log_tail: Callable[[], str], poll_s: float = 0.5) -> None:
    """Until `url` answers 2xx; fails the test with the server's log tail when `process`
    (`what`) exits first or `timeout_s` runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{log_tail()}", pytrace=False)
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer {url} in {timeout_s:.0f} s:\n{log_tail()}", pytrace=False)
        time.sleep(poll_s)


class DagsterUI:
    """A `dagster dev` process group and the few GraphQL calls the test needs."""

    def __init__(self, url: str, process: subprocess.Popen, log_path: Path):
        self.url, self.process, self.log_path = url, process, log_path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=30)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_serving(self, timeout_s: float) -> None:
        """`/server_info` answers, then the code location has loaded (or failed to, which we report)."""
        deadline = time.monotonic() + timeout_s
        wait_for_http(self.process, f"{self.url}/server_info", timeout_s, "dagster dev", self.log_tail)
        query = """{ workspaceOrError { ... on Workspace { locationEntries {
            name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
        while True:
            entries = self.graphql(query)["workspaceOrError"].get("locationEntries", [])
            loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
            if loaded and all(e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in loaded):
                return
            errors = [e["locationOrLoadError"] for e in loaded if e["locationOrLoadError"]["__typename"] == "PythonError"]
            if errors:
                pytest.fail(f"The code location failed to load: {errors[0]['message']}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"The code location did not load in {timeout_s:.0f} s: {entries}\n{self.log_tail()}",
                            pytrace=False)
            time.sleep(0.5)

    def run(self, run_id: str) -> dict:
        query = """query($id: ID!) { runOrError(runId: $id) { __typename
            ... on Run { status tags { key value } assetSelection { path } } } }"""
        return self.graphql(query, {"id": run_id})["runOrError"]

    def run_errors(self, run_id: str) -> list[str]:
        query = """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection { events {
            __typename ... on ExecutionStepFailureEvent { stepKey error { message } }
            ... on RunFailureEvent { message } } } } }"""
        events = self.graphql(query, {"id": run_id})["logsForRun"].get("events", [])
        return [f"{e.get('stepKey') or 'run'}: {(e.get('error') or {}).get('message') or e.get('message')}"
                for e in events if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")]

    def wait_for_run(self, run_id: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.run(run_id)
            if run.get("status") in TERMINAL_STATUSES:
                return run
            if time.monotonic() > deadline:
                pytest.fail(f"Run {run_id} still {run.get('status')} after {timeout_s:.0f} s:\n{self.log_tail()}",
                            pytrace=False)
            time.sleep(2)

    def asset_dependencies(self) -> dict[str, list[str]]:
        nodes = self.graphql("{ assetNodes { assetKey { path } dependencyKeys { path } } }")["assetNodes"]
        return {"/".join(n["assetKey"]["path"]): sorted("/".join(d["path"]) for d in n["dependencyKeys"])
                for n in nodes}

    def stop(self) -> None:
        """Ctrl-C to `dagster dev` (it stops its webserver, daemon and code servers), then the
        whole process group, run workers and Spark JVMs included, is killed if anything lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        for sig, grace_s in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break  # the group is gone
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break


@pytest.fixture(scope="module")
def ui_replay() -> Iterator[ReplayServer]:
    """A replay server for the subprocess: module-scoped, so it outlives the test's run."""
    server = ReplayServer(port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dagster_ui(cassandra_keyspace, mongo, ui_replay, tmp_path_factory) -> Iterator[DagsterUI]:
    home = prepare_dagster_home(tmp_path_factory.mktemp("dagster_home"))
    log_path = ARTIFACTS / "dagster_dev.log"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CASSANDRA_KEYSPACE": cassandra_keyspace,
        "MONGO_DB": mongo.database,
        "ELHUB_API_URL": ui_replay.url,
        "ELHUB_RAW_DIR": str(tmp_path_factory.mktemp("elhub_raw")),
        "SPARK_DRIVER_MEMORY": os.environ.get("SPARK_DRIVER_MEMORY", "1g"),
        "PYTHONUNBUFFERED": "1",
    }
    with dagster_dev(env, log_path) as ui:
        yield ui


@contextmanager
def dagster_dev(env: dict[str, str], log_path: Path) -> Iterator[DagsterUI]:
    """`dagster dev -w workspace.yaml` on a free port until the block ends; then its whole process tree is gone."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    dagster = Path(sys.executable).with_name("dagster")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-p", str(port), "-h", "127.0.0.1"],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so everything it starts can be ended together
        )
    ui = DagsterUI(f"http://127.0.0.1:{port}", process, log_path)
    try:
        ui.wait_until_serving(SERVER_START_TIMEOUT_S)
        yield ui
    finally:
        # Taken before the stop: children re-parented once `dagster dev` exits are still found.
        tree = process_tree(process.pid)
        ui.stop()
        kill_processes(tree)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture
def page(dagster_ui: DagsterUI) -> Iterator:
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Wide enough that the six-asset graph fits at a zoom that draws full nodes.
            context = browser.new_context(viewport={"width": 2400, "height": 1100})
            context.set_default_timeout(UI_TIMEOUT_MS)  # actions and waits
            expect.set_options(timeout=UI_TIMEOUT_MS)  # assertions (a global setting of playwright's)
            page = context.new_page()
            # Should the onboarding dialog show up anyway, dismiss it whenever it covers the page.
            page.add_locator_handler(page.get_by_text("Join the Dagster community"),
                                     lambda: page.get_by_role("button", name="Skip").click())
            yield page
        finally:
            expect.set_options(timeout=5_000)  # playwright's default
            browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name))


# --- the test ------------------------------------------------------------------------------------


def test_materialize_one_partition_of_the_production_assets_from_the_ui(dagster_ui, page, cql, cassandra_keyspace,
                                                                   mongo_db):
    """`cql` and `mongo_db` drop what the run wrote once the test is over."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOTS:
        (ARTIFACTS / name).unlink(missing_ok=True)
    try:
        run_id = drive_the_ui(dagster_ui, page)
    except BaseException:
        shot(page, "99_failure.png")
        raise

    (row,) = cql.execute(
        f"SELECT count(*) AS n FROM {cassandra_keyspace}.{PRODUCTION_SPEC.cassandra_table} "
        "WHERE price_area = %s AND month = %s", (AREA, "2021-01")
    )
    assert row.n == EXPECTED_ROWS, f"run {run_id}: Cassandra has {row.n} rows"
    collection = mongo_db[PRODUCTION_SPEC.mongo_collection]
    documents = stored_rows.mongo_row_count(collection, {"price_area": AREA, "month": "2021-01"})
    assert documents == EXPECTED_ROWS, f"run {run_id}: MongoDB has {documents} rows"
    assert stored_rows.mongo_row_count(collection) == EXPECTED_ROWS, "other partitions than the one picked were written"
    daily = mongo_db[f"{PRODUCTION_SPEC.mongo_collection}_daily_totals"].count_documents({})
    assert daily == 5 * 31, f"run {run_id}: the daily view has {daily} documents"


def show_production_lineage(ui: DagsterUI, page) -> None:
    """With two groups the global lineage shows them collapsed: select the production group's assets."""
    page.goto(f"{ui.url}/asset-groups")
    page.locator(".CodeMirror").first.click()  # the selection box is a CodeMirror editor
    page.keyboard.type(f'group:"{PRODUCTION_SPEC.group_name}"')
    page.keyboard.press("Enter")


def drive_the_ui(ui: DagsterUI, page) -> str:
    """Every click of the test; returns the launched run's id."""
    # 1. The production group's graph: raw -> cassandra -> mongo left to right, then the views.
    show_production_lineage(ui, page)
    nodes = [page.locator(f'div[data-tooltip="{name}"]') for name in ASSETS]
    for node in nodes:
        expect(node).to_be_visible()
    edges = page.locator('path[marker-end^="url(#arrow"]')
    expect(edges).to_have_count(EDGES)
    # Wait for the live data too (partition fill, status icons), so the screenshot shows the settled graph.
    expect(page.get_by_text(re.compile(r"^\d+% filled$"))).to_have_count(len(ASSETS))
    expect(page.get_by_role("img", name="missing")).to_have_count(len(ASSETS))
    boxes = [n.bounding_box() for n in nodes]
    edge_boxes = sorted((e.bounding_box() for e in edges.all()), key=lambda b: b["x"])
    # The leftmost edge lies between raw and cassandra; every other edge starts right of raw.
    left, right = boxes[0], boxes[1]
    assert left["x"] + left["width"] <= edge_boxes[0]["x"] + 1 <= right["x"] + 1, f"{edge_boxes[0]} is not between {left} and {right}"
    assert edge_boxes[0]["x"] + edge_boxes[0]["width"] <= right["x"] + 1
    assert all(edge["x"] + 1 >= right["x"] + right["width"] for edge in edge_boxes[1:]), edge_boxes
    # Hovering the middle node highlights its two edges, so the lineage stands out in the screenshot.
    # (Highlighted edges are extra paths: hover only after measuring.)
    nodes[1].hover()
    page.wait_for_timeout(500)
    shot(page, "01_asset_graph.png")
    # The graph is drawn from these dependencies; check them too, by name.
    dependencies = ui.asset_dependencies()
    assert dependencies[CASSANDRA] == [RAW] and dependencies[MONGO] == [CASSANDRA] and dependencies[RAW] == []
    assert dependencies[DAILY] == dependencies[HOURLY] == sorted([CASSANDRA, MONGO]) and dependencies[YEARLY] == [DAILY]

    # 2. The raw asset's partitions: select its node, open it in the catalog, then its Partitions tab.
    nodes[0].click()
    page.get_by_role("link", name="View in Asset Catalog").click()
    expect(page).to_have_url(re.compile(rf"/assets/{RAW}$"))
    page.get_by_role("tab", name="Partitions").click()
    expect(page).to_have_url(re.compile(r"view=partitions"))
    expect(page.get_by_text(re.compile(r"^Missing \(\d+\)$"))).to_be_visible()
    expect(page.get_by_text("Materialized (0)", exact=True)).to_be_visible()
    expect(page.get_by_text(AREA, exact=True).first).to_be_visible()
    shot(page, "02_partitions.png")

    # 3. Back to the lineage, "Materialize all…", pick month and area in the dialog, launch.
    show_production_lineage(ui, page)
    page.get_by_role("button", name=re.compile(r"Materialize all")).click()
    dialog = page.get_by_role("dialog").filter(has_text=f"Launch runs to materialize {len(ASSETS)} assets")
    expect(dialog).to_be_visible()
    month_input = dialog.get_by_placeholder(re.compile(r"^ex: 2021-01-01"))
    month_input.fill(MONTH)
    month_input.press("Enter")
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name=re.compile(rf"^{AREA}( {AREA})?$")).click()
    dialog.get_by_text(f"Launch runs to materialize {len(ASSETS)} assets").click()  # closes the area picker
    expect(page.get_by_role("menuitem", name=re.compile(rf"^{AREA}( {AREA})?$"))).to_be_hidden()
    expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    shot(page, "03_launch.png")
    launch.click()

    # 4. The toast links to the run; follow it and wait for the run to succeed.
    view = page.get_by_role("region", name=re.compile("Notifications")).get_by_role("link", name="View")
    expect(view).to_be_visible()
    run_id = view.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    view.click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}"))
    run = ui.wait_for_run(run_id, RUN_TIMEOUT_S)
    assert run["status"] == "SUCCESS", f"run {run_id} ended {run['status']}: {ui.run_errors(run_id)}"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags.get("dagster/partition") == PARTITION, tags
    assert sorted("/".join(a["path"]) for a in run["assetSelection"]) == sorted(ASSETS)
    expect(page).to_have_title(re.compile(r"\[SUCCESS\]"))
    expect(page.get_by_text("Success", exact=True).first).to_be_visible()
    expect(page.get_by_text(f"partition: {PARTITION}")).to_be_visible()
    expect(page.get_by_text("RUN_SUCCESS", exact=True).first).to_be_visible()
    shot(page, "04_run_succeeded.png")

    # 5. The partitions view now counts the one materialized partition.
    page.goto(f"{ui.url}/assets/{RAW}?view=partitions")
    expect(page.get_by_text("Materialized (1)", exact=True)).to_be_visible()
    shot(page, "05_partitions_after.png")

    # 6. The partition's materialization shows its chart: one line per group for the month.
    page.goto(f"{ui.url}/assets/{RAW}?view=events")
    chart_row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="chart", exact=True))
    chart_row.get_by_text("[Show Markdown]").click()
    chart = page.get_by_role("dialog").get_by_role("img", name=f"{AREA} 2021-01 production per group")
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.naturalWidth") > 300  # the PNG decoded in the browser
    shot(page, "06_raw_chart.png")
    return run_id

"""The dashboard in headless Chromium: empty, then on one materialized DST partition whose total must be Cassandra's.

`streamlit run` serves `dashboard/app.py` as a person would start it, on its own
database (empty at first, dropped afterwards). The test opens it before anything
is materialized, materializes production for NO1 in October 2021 (745 hours)
with its views, then picks that area and month and reads the totals the pages
show. The expected sums come from the rows in Cassandra, never from the
dashboard's code. Screenshots and the server's log land in
`test-artifacts/dashboard/` (git-ignored).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync
import pytest
from dagster import materialize
from playwright.sync_api import expect

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import PRODUCTION
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets_tests.test_ui_e2e import CHROMIUM, CHROMIUM_ARGS, REPO_ROOT, free_port, wait_for_http
from ind320_devkit.local_services.process import stop_process_tree

pytestmark = [pytest.mark.e2e, pytest.mark.services]

ARTIFACTS = REPO_ROOT / "test-artifacts" / "dashboard"
AREA, MONTH = "NO1", "2021-10"  # October: 745 Oslo hours, 02:00 twice
HOURS = 745
SERVER_START_TIMEOUT_S = 60
UI_TIMEOUT_MS = 60_000


class Dashboard:
    """A `streamlit run dashboard/app.py` process tree, its URL and its log."""

    def __init__(self, uri: str, database: str, log_path: Path, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "MONGO_URI": uri, "MONGO_DB": database, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.address", "127.0.0.1",
                   "--server.port", str(self.port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none"]
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def wait_until_serving(self) -> None:
        wait_for_http(self.process, f"{self.url}/_stcore/health", SERVER_START_TIMEOUT_S, "streamlit", self.log_tail,
                      poll_s=0.3)

    def stop(self) -> None:
        stop_process_tree(self.process.pid)


def serve(uri: str, database: str, log_name: str, **extra_env: str) -> Dashboard:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dashboard = Dashboard(uri, database, ARTIFACTS / log_name, extra_env)
    try:
        dashboard.wait_until_serving()
    except BaseException:
        dashboard.stop()
        raise
    return dashboard


@pytest.fixture
def dashboard_db(mongo) -> Iterator[str]:
    """A database of the test's own, empty when the dashboard first opens it."""
    name = f"{mongo.database}_dashboard"
    client = mongo.db().client
    client.drop_database(name)
    yield name
    client.drop_database(name)


@pytest.fixture
def page() -> Iterator:
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1100})
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            yield context.new_page()
        finally:
            expect.set_options(timeout=5_000)  # playwright's default
            browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def choose(page, label: str, option: str) -> None:
    """Open the select box labelled `label` and click `option`, as a person would."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def materialize_partition(replay, keyspace: str, database: str, raw_dir: Path) -> None:
    resources = build_resources(cassandra={"keyspace": keyspace}, mongo={"database": database},
                                parquet_io_manager={"base_dir": str(raw_dir)})
    resources["elhub"] = ElhubResource(base_url=replay.url)
    result = materialize(build_dataset_assets(PRODUCTION_SPEC), partition_key=f"{MONTH}-01|{AREA}", resources=resources)
    assert result.success


def cassandra_total_kwh(cql, keyspace: str) -> tuple[int, float]:
    """Rows and exact kWh of the partition's production groups, as stored in Cassandra."""
    rows = list(cql.execute(
        f"SELECT {PRODUCTION.group_column} AS grp, quantity_kwh FROM {keyspace}.{PRODUCTION_SPEC.cassandra_table} "
        "WHERE price_area = %s AND month = %s", (AREA, MONTH)))
    return len(rows), round(math.fsum(r.quantity_kwh for r in rows if r.grp in PRODUCTION.groups), 3)


def test_the_dashboard_shows_a_materialized_partition_and_its_exact_total(
    page, mongo, dashboard_db, replay, cql, cassandra_keyspace, tmp_path
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    dashboard = serve(mongo.uri, dashboard_db, "streamlit.log")
    try:
        # 1. Nothing materialized: a sentence, not a stack trace.
        page.goto(dashboard.url)
        expect(page.get_by_text(re.compile(r"Nothing materialized yet in database .*: run make demo"))).to_be_visible()
        expect(page.get_by_text("Traceback")).to_have_count(0)
        shot(page, "01_empty.png")

        materialize_partition(replay, cassandra_keyspace, dashboard_db, tmp_path / "raw")
        rows, total_kwh = cassandra_total_kwh(cql, cassandra_keyspace)
        assert rows == 5 * HOURS

        # 2. The overview: the year so far is that one partition, in GWh.
        page.goto(dashboard.url)
        expect(page.get_by_test_id("stMetricValue")).to_have_text(f"{total_kwh / 1e6:,.3f} GWh")
        expect(page.locator(".vega-embed")).to_have_count(2)  # the bars per area and the pie
        shot(page, "02_overview.png")

        # 3. The month: choose the area and month, then a line per group over 745 hours.
        page.get_by_role("link", name="Month").click()
        choose(page, "Price area", AREA)
        choose(page, "Month", MONTH)
        metrics = page.get_by_test_id("stMetricValue")
        expect(metrics.first).to_have_text(f"{total_kwh:,.3f} kWh")
        expect(metrics.nth(1)).to_have_text(f"{HOURS} of {HOURS}")
        chart = page.locator(".vega-embed").first
        expect(chart).to_be_visible()
        drawn = chart.locator("canvas, svg").first
        expect(drawn).to_be_visible()
        assert drawn.bounding_box()["width"] > 300
        page.wait_for_timeout(500)  # the chart's entry transition
        shot(page, "03_month.png")

        # 4. Freshness: the partition with its stored rows.
        page.get_by_role("link", name="Freshness").click()
        table = page.get_by_test_id("stDataFrame")
        expect(table).to_be_visible()
        # The grid draws on a canvas; the table beside it, for screen readers, holds the values.
        cells = table.locator("td")
        expect(cells).to_have_text([MONTH, AREA, str(rows), re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T$")])
        shot(page, "04_freshness.png")
    except BaseException:
        shot(page, "99_failure.png")
        raise
    finally:
        dashboard.stop()


def test_an_unreachable_mongodb_is_named_with_the_password_masked(page):
    port = free_port()  # nothing listens there
    dashboard = serve(f"mongodb://reader:s3cret@127.0.0.1:{port}", "anything", "streamlit_unreachable.log",
                      DASHBOARD_MONGO_TIMEOUT_S="1")
    try:
        page.goto(dashboard.url)
        expect(page.get_by_text(f"Cannot reach MongoDB at mongodb://reader:***@127.0.0.1:{port}")).to_be_visible()
        assert "s3cret" not in page.content()
        shot(page, "05_unreachable.png")
    finally:
        dashboard.stop()

"""The real daemon's own tick picks a revision up from /updates, launches the run, and every store converges to it.

`dagster dev` (webserver, daemon, code server) runs in its own process group on a
fresh DAGSTER_HOME, with the test's keyspace, database, raw folder and an
in-process replay, and `ELHUB_SENSOR_INTERVAL_S=5` so the sensor ticks about as
often as the daemon's loop (5 s). The test does what a user would: materializes
the partition with the CLI, switches the sensor on with `dagster sensor start`,
and only watches afterwards (the ticks and the run through the UI's GraphQL, the
stores directly). The replay's clock is fixed, so nothing but the test's revision
is published while it runs. The server's log lands in
`test-artifacts/sensor_daemon/` (git-ignored).
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date

import pandas as pd
import pytest

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.domain import OSLO_TZ, PRODUCTION
from ind320_assets.views.refresh import ViewCollections
from ind320_assets_tests.cli_fixtures import DAGSTER, materialize_command
from ind320_assets_tests.test_ui_e2e import REPO_ROOT, DagsterUI, dagster_dev
from ind320_assets_tests import stored_rows
from ind320_devkit.local_services.paths import prepare_dagster_home
from ind320_devkit.replay import ReplayServer

pytestmark = [pytest.mark.services, pytest.mark.e2e]

ARTIFACTS = REPO_ROOT / "test-artifacts" / "sensor_daemon"
SENSOR = f"elhub_{PRODUCTION_SPEC.name}_revision_sensor"
SENSOR_SELECTOR = {"repositoryLocationName": "ind320_assets", "repositoryName": "__repository__", "sensorName": SENSOR}
MONTH, AREA = date(2021, 3, 1), "NO2"
PARTITION = f"{MONTH.isoformat()}|{AREA}"
TICK_INTERVAL_S = "5"
CLI_TIMEOUT_S = 900  # a cold Spark start on a busy machine
TICK_TIMEOUT_S = 180
RUN_TIMEOUT_S = 900
TICKS = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) { __typename
    ... on Sensor { sensorState { status ticks(limit: 500) { id status timestamp skipReason runIds
        error { message } } } } ... on PythonError { message } } }"""


@pytest.fixture
def daemon_replay() -> Iterator[ReplayServer]:
    """The replay the subprocesses fetch from, its clock fixed at the test's start."""
    server = ReplayServer(port=0, now=pd.Timestamp.now(tz="UTC").floor("s")).start()
    yield server
    server.stop()


@pytest.fixture
def daemon_env(daemon_replay, cassandra_keyspace, mongo, tmp_path) -> dict[str, str]:
    """What `dagster dev` and the CLI share: one DAGSTER_HOME, the test's stores, a short tick."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(prepare_dagster_home(tmp_path / "dagster_home")),
        "CASSANDRA_KEYSPACE": cassandra_keyspace,
        "MONGO_DB": mongo.database,
        "ELHUB_API_URL": daemon_replay.url,
        "ELHUB_RAW_DIR": str(tmp_path / "raw"),
        "ELHUB_SENSOR_INTERVAL_S": TICK_INTERVAL_S,
        "SPARK_DRIVER_MEMORY": os.environ.get("SPARK_DRIVER_MEMORY", "1g"),
        "PYTHONUNBUFFERED": "1",
    }


def cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"


def ticks(ui: DagsterUI) -> list[dict]:
    """The sensor's ticks, newest first."""
    sensor = ui.graphql(TICKS, {"selector": SENSOR_SELECTOR})["sensorOrError"]
    assert sensor["__typename"] == "Sensor", sensor
    return sensor["sensorState"]["ticks"]


def wait_for(what: str, found: Callable[[], object], timeout_s: float, ui: DagsterUI, poll_s: float = 2) -> object:
    """`found()` once it is truthy; fails with the server's log after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s:\n{ui.log_tail()}", pytrace=False)
        time.sleep(poll_s)


def finished_tick(ui: DagsterUI, after_id: str | None = None) -> dict | None:
    """The newest finished tick (newer than `after_id`), failing on a failed one."""
    for tick in ticks(ui):
        if tick["id"] == after_id:
            return None
        assert tick["status"] != "FAILURE", f"tick failed: {tick['error']}"
        if tick["status"] in ("SKIPPED", "SUCCESS"):
            return tick
    return None


def per_group(frame: pd.DataFrame) -> dict[str, tuple[int, float]]:
    """{group: (rows, exact kWh)} of the partition's rows."""
    return {g: (len(rows), math.fsum(rows["quantity_kwh"])) for g, rows in frame.groupby(PRODUCTION_SPEC.group_column)}


def expected(replay: ReplayServer) -> dict[str, object]:
    """What every store should hold for the partition, from the rows the replay serves now."""
    frame = replay.frame(PRODUCTION, MONTH, date(2021, 4, 1), areas=[AREA])
    group = PRODUCTION_SPEC.group_column
    day = frame["start_time"].dt.tz_convert(OSLO_TZ).dt.strftime("%Y-%m-%d")
    daily = {
        f"{AREA}|{g}|{d}": round(math.fsum(rows["quantity_kwh"]), 3) for (g, d), rows in frame.groupby([group, day])
    }
    yearly = {
        f"{AREA}|{g}|{MONTH.year}": round(math.fsum(v for k, v in daily.items() if k.split("|")[1] == g), 3)
        for g in frame[group].unique()
    }
    series = {g: list(values) for g, values in frame.sort_values("start_time").groupby(group)["quantity_kwh"]}
    return {"cassandra": per_group(frame), "mongo": per_group(frame), "daily": daily, "yearly": yearly,
            "series": series}


def stored(cql, keyspace: str, mongo_db) -> dict[str, object]:
    """What Cassandra, MongoDB and the views hold for the partition, read with their plain clients."""
    group = PRODUCTION_SPEC.group_column
    rows = pd.DataFrame(list(cql.execute(
        f"SELECT {group}, quantity_kwh FROM {keyspace}.{PRODUCTION_SPEC.cassandra_table} "
        "WHERE price_area = %s AND month = %s", (AREA, f"{MONTH:%Y-%m}"))), columns=[group, "quantity_kwh"])
    documents = stored_rows.mongo_rows(mongo_db[PRODUCTION_SPEC.mongo_collection], PRODUCTION_SPEC,
                                       {"price_area": AREA, "month": f"{MONTH:%Y-%m}"})
    views = ViewCollections(PRODUCTION_SPEC.mongo_collection, group)
    series = mongo_db[views.hourly_series].find_one({"_id": f"{AREA}|{MONTH:%Y-%m}"}) or {}
    return {
        "cassandra": per_group(rows),
        "mongo": per_group(documents),
        "daily": {d["_id"]: d["quantity_kwh"] for d in mongo_db[views.daily_totals].find({"price_area": AREA})},
        "yearly": {d["_id"]: d["quantity_kwh"] for d in mongo_db[views.yearly_totals].find({"price_area": AREA})},
        "series": series.get("series"),
    }


def test_the_daemon_s_tick_reloads_a_revision_of_an_old_month_from_the_feed(
    daemon_env, daemon_replay, cassandra_keyspace, mongo_db, cql
):
    """`cql` and `mongo_db` drop what the runs wrote once the test is over."""
    # The partition's initial state, as a user loads it.
    cli(daemon_env, *materialize_command("--select", f"group:{PRODUCTION_SPEC.group_name}", "--partition", PARTITION))
    initial = expected(daemon_replay)
    assert stored(cql, cassandra_keyspace, mongo_db) == initial

    with dagster_dev(daemon_env, ARTIFACTS / "dagster_dev.log") as ui:
        cli(daemon_env, DAGSTER, "sensor", "start", SENSOR, "-w", "workspace.yaml")
        # Its first tick has no cursor: it reads the feed from the look-back's start and,
        # as 2021-03 is loaded at its latest revision, requests nothing.
        first = wait_for("the sensor's first tick", lambda: finished_tick(ui), TICK_TIMEOUT_S, ui)
        assert first["status"] == "SKIPPED" and first["runIds"] == [], first

        revision = daemon_replay.publish_revision(PRODUCTION.dataset_id, "2021-03", [AREA], factor=1.05)
        revised = expected(daemon_replay)
        assert revised["cassandra"] != initial["cassandra"]

        def tick_with_a_run() -> dict | None:
            return next((t for t in ticks(ui) if t["runIds"]), None)

        tick = wait_for("a tick that launches a run", tick_with_a_run, TICK_TIMEOUT_S, ui)
        (run_id,) = tick["runIds"]
        run = ui.wait_for_run(run_id, RUN_TIMEOUT_S)
        assert run["status"] == "SUCCESS", f"run {run_id} ended {run['status']}: {ui.run_errors(run_id)}"
        tags = {t["key"]: t["value"] for t in run["tags"]}
        stamp = revision.last_updated.isoformat()
        assert tags["dagster/partition"] == PARTITION and tags["dagster/sensor_name"] == SENSOR, tags
        assert tags["elhub/revision"] == stamp and tags["elhub/source"] == "updates", tags
        assert sorted("/".join(a["path"]) for a in run["assetSelection"]) == sorted(
            key.to_user_string() for key in PRODUCTION_SPEC.asset_keys
        )

        wait_for("the stores to hold the revision", lambda: stored(cql, cassandra_keyspace, mongo_db) == revised,
                 RUN_TIMEOUT_S, ui)
        # Later ticks find the revision requested already: exactly one run, by the sensor.
        last = finished_tick(ui)
        wait_for("a tick after the run", lambda: finished_tick(ui, after_id=last["id"]), TICK_TIMEOUT_S, ui)
        assert [t for t in ticks(ui) if t["runIds"]] == [tick]

"""MongoDB killed during its step: the run fails with one line naming the store and the variable; a rerun converges.

The test runs a MongoDB-wire server of its own (the dev kit's SecantusDB, on a
free port, with a data dir under tmp_path), so killing it touches no shared service. The server
is killed (SIGKILL) as soon as the run's event log shows that the MongoDB step
started. That step first reads its input back from Cassandra through Spark
(about 2 s here) and only then opens its MongoDB connection, so it meets the
dead server at its first request: a deterministic failure, where a kill in the
middle of the writes would race them. A server that goes away in the middle of
work on an open connection is the second test, in one process: the same line.
After a restart on the same port and data dir, the same command succeeds and
MongoDB holds exactly the replay's rows.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, Failure
from dagster._core.instance.ref import InstanceRef

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.checks.stores import cassandra_summary, mongo_summary
from ind320_assets.domain import PRODUCTION
from ind320_assets.frame_summary import summarize
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.mongo import MongoResource
from ind320_assets_tests.cli_fixtures import (  # noqa: F401 - cli_env is a fixture
    cli_env, materialize_command, started_run, wait_until,
)
from ind320_assets_tests.private_mongo import private_mongo

pytestmark = [pytest.mark.services, pytest.mark.e2e]

PARTITION = "2021-02-01|NO3"
EVERY_ASSET = ",".join(key.to_user_string() for key in PRODUCTION_SPEC.asset_keys)
MONGO_STEP = PRODUCTION_SPEC.key("mongo").to_python_identifier()
ONE_LINE = json.dumps({"loggers": {"console": {}}})


def test_mongodb_killed_during_its_step_fails_in_one_line_and_a_rerun_converges(
    tmp_path, cli_env, replay, cassandra, cassandra_keyspace
):
    command = materialize_command("--select", EVERY_ASSET, "--partition", PARTITION, "--config-json", ONE_LINE)
    with private_mongo(tmp_path) as server, \
            DagsterInstance.from_ref(InstanceRef.from_dir(cli_env["DAGSTER_HOME"])) as instance:
        env = {**cli_env, "MONGO_URI": server.uri}
        run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            run_id = wait_until(f"STEP_START of {MONGO_STEP}", lambda: started_run(instance, MONGO_STEP), 600, run)
            server.kill()
            killed_at = time.time()
            _, stderr = run.communicate(timeout=300)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()

        # The premise: the step had not reached MongoDB yet (its input comes from Cassandra first).
        loaded = instance.all_logs(run_id, of_type=DagsterEventType.LOADED_INPUT)
        assert all(e.timestamp > killed_at for e in loaded if e.step_key == MONGO_STEP), "killed too late"
        assert run.returncode != 0
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
        answers = f"no MongoDB server answers at 127.0.0.1:{server.port} ([Errno 111] Connection refused)"
        line = f"MONGO_URI={server.uri}: {answers}"
        naming = [text for text in stderr.splitlines() if "MONGO_URI=" in text]
        assert [text.split(" - ")[-2] for text in naming] == ["STEP_FAILURE", "RUN_FAILURE"], stderr[-3000:]
        assert all(text.endswith(line) for text in naming), naming
        assert "Traceback" not in stderr and "Stack Trace" not in stderr, stderr[-3000:]

        server.start()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr[-3000:]

        slice_ = PartitionSlice.from_keys([PARTITION])
        rows = replay.frame(PRODUCTION, date(2021, 2, 1), date(2021, 3, 1), areas=["NO3"])
        expected = summarize(rows, slice_, PRODUCTION_SPEC.group_column)
        schema = PRODUCTION_SPEC.stored_schema
        assert cassandra_summary(cassandra, PRODUCTION_SPEC.cassandra_table, schema, slice_) == expected
        mongo = MongoResource(uri=server.uri, database=cli_env["MONGO_DB"])
        try:
            assert mongo_summary(mongo, PRODUCTION_SPEC.mongo_collection, schema, slice_) == expected
        finally:
            mongo.close()


def test_a_server_gone_in_the_middle_of_work_is_the_same_one_line(tmp_path):
    with private_mongo(tmp_path) as server:
        mongo = MongoResource(uri=server.uri, database="outage")
        try:
            with pytest.raises(Failure) as failure, mongo.answering() as db:
                db["days"].insert_one({"_id": "NO1|hydro|2021-02-01"})
                server.kill()  # on a connection that has answered: pymongo raises AutoReconnect
                db["days"].insert_one({"_id": "NO1|hydro|2021-02-02"})
        finally:
            mongo.close()
    assert str(failure.value.description).startswith(
        f"MONGO_URI={server.uri}: no MongoDB server answers at 127.0.0.1:{server.port}"
    ), failure.value.description

"""`make demo`: backfill a year of production for every area, with its views, then show what landed.

Offline by default: it loads from the local Elhub replay server started by
`make services-up`. Set ELHUB_API_URL to the live API to load real data.
The backfill runs through the same `dagster asset materialize` command a user
would type, as one run, with its progress streamed here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.definitions import build_resources
from ind320_assets.domain import PRICE_AREAS
from ind320_assets.mongo_sync import READ_BATCH
from ind320_assets.partition_slice import PartitionSlice
from ind320_devkit.local_services.paths import LOCAL_DIR, LOG_DIR, prepare_dagster_home
from ind320_devkit.local_services.replay import REPLAY_URL
from ind320_devkit.local_services.runtime_env import apply_runtime_environment

DAGSTER_HOME = LOCAL_DIR / "dagster_home"
# The production group: raw → Cassandra → MongoDB and the dashboard views.
SELECTION = f"group:{PRODUCTION_SPEC.group_name}"
# Dagster event lines worth showing as progress; the full log goes to a file.
PROGRESS_MARKERS = ("RUN_START", "STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "RUN_SUCCESS", "RUN_FAILURE", "Error")


def first_key(year: int) -> str:
    return PartitionSlice.of([date(year, 1, 1)], PRICE_AREAS[:1]).keys[0]


def last_key(year: int) -> str:
    return PartitionSlice.of([date(year, 12, 1)], PRICE_AREAS[-1:]).keys[0]


def backfill(year: int, env: dict[str, str], log_file: Path) -> int:
    command = [
        str(Path(sys.executable).with_name("dagster")), "asset", "materialize",
        "-m", "ind320_assets.definitions", "--select", SELECTION,
        "--partition-range", f"{first_key(year)}...{last_key(year)}",
    ]
    print("$ " + " ".join(command[1:3]) + " " + " ".join(f'"{c}"' if "|" in c else c for c in command[3:]), flush=True)
    with log_file.open("w") as log, subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        for line in proc.stdout:
            log.write(line)
            if any(marker in line for marker in PROGRESS_MARKERS):
                print("  " + line.split(" - ", 4)[-1].strip()[:150], flush=True)
    return proc.returncode


def summary(year: int) -> str:
    resources = build_resources()
    with resources["cassandra"].process_config_and_initialize_cm() as cassandra, \
            resources["mongo"].process_config_and_initialize_cm() as mongo:
        return _summary(year, cassandra, mongo)


def _summary(year: int, cassandra, mongo) -> str:  # noqa: ANN001 - initialized resources
    group = PRODUCTION_SPEC.group_column
    keyspace = cassandra.keyspace
    select = cassandra.session().prepare(
        f"SELECT {group} FROM {keyspace}.{PRODUCTION_SPEC.cassandra_table} WHERE price_area = ? AND month = ?"
    )
    in_cassandra: Counter = Counter()
    for area in PRICE_AREAS:
        for month in range(1, 13):
            for row in cassandra.session().execute(select, (area, f"{year}-{month:02d}")):
                in_cassandra[(area, getattr(row, group))] += 1
    documents = mongo.db()[PRODUCTION_SPEC.mongo_collection]
    # One row per hour in each day document's arrays.
    in_mongo: Counter = Counter()
    year_filter = {"month": {"$gte": f"{year}-01", "$lte": f"{year}-12"}}
    for d in documents.find(year_filter, {"price_area": 1, group: 1, "start_time": 1}, batch_size=READ_BATCH):
        in_mongo[(d["price_area"], d[group])] += len(d["start_time"])
    yearly = mongo.db()[f"{PRODUCTION_SPEC.mongo_collection}_yearly_totals"].find({"year": str(year)})
    gwh = {(d["price_area"], d[group]): d["quantity_kwh"] / 1e6 for d in yearly}

    lines = [f"Cassandra keyspace '{keyspace}', MongoDB database '{mongo.database}'",
             f"{'area':<5} {'group':<9} {'cassandra':>10} {'mongodb':>10} {'GWh (view)':>12}"]
    for area, name in sorted(in_cassandra.keys() | in_mongo.keys()):
        lines.append(f"{area:<5} {name:<9} {in_cassandra[(area, name)]:>10,} {in_mongo.get((area, name), 0):>10,} "
                     f"{gwh.get((area, name), 0):>12,.1f}")
    lines.append(f"{'total':<15} {sum(in_cassandra.values()):>10,} {sum(in_mongo.values()):>10,}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ind320_devkit.demo")
    parser.add_argument("--year", type=int, default=2021)
    args = parser.parse_args()

    os.environ.setdefault("ELHUB_API_URL", REPLAY_URL)
    apply_runtime_environment()
    env = dict(os.environ)
    # A DAGSTER_HOME of the user's own keeps its own dagster.yaml.
    env.setdefault("DAGSTER_HOME", str(prepare_dagster_home(DAGSTER_HOME)))
    source = "the local replay server (offline)" if env["ELHUB_API_URL"] == REPLAY_URL else env["ELHUB_API_URL"]
    print(f"Backfilling {args.year} for NO1-NO5 from {source} into Cassandra and MongoDB.", flush=True)

    log_file = LOG_DIR / "demo-backfill.log"
    started = time.monotonic()
    if backfill(args.year, env, log_file) != 0:
        print(f"The backfill failed; the full log is {log_file}", file=sys.stderr)
        return 1
    took = time.monotonic() - started
    print(f"\nRows per area and group in {args.year}:\n{summary(args.year)}")
    print(f"\nBackfill of 60 partitions took {took:.1f}s as one run (full log: {log_file}).")
    print("Open the UI: `make dev`, then http://127.0.0.1:3000 (asset graph, partitions, the run you just made).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

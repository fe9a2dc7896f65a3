"""`python -m ind320_devkit.local_services up|down|status|env`: the no-Docker service path."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

from ind320_devkit.local_services.cassandra import Cassandra
from ind320_devkit.local_services.ferretdb import FerretDB
from ind320_devkit.local_services.secantusdb import SecantusDB
from ind320_devkit.local_services.paths import SPARK_JARS_DIR
from ind320_devkit.local_services.process import ServiceError
from ind320_devkit.local_services.replay import ReplayServer
from ind320_devkit.local_services.runtime_env import runtime_environment
from ind320_devkit.local_services.spark_connector import fetch_connector_jars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ind320_devkit.local_services")
    parser.add_argument("action", choices=["up", "down", "status", "env"])
    args = parser.parse_args(argv)
    if args.action == "env":  # `eval "$(python -m ind320_devkit.local_services env)"`
        for name, value in runtime_environment().items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    # SecantusDB by default; LOCAL_MONGO_SERVER=ferretdb starts FerretDB 1.24 instead, for comparison.
    mongo = FerretDB() if os.environ.get("LOCAL_MONGO_SERVER") == "ferretdb" else SecantusDB()
    services = [Cassandra(), mongo, ReplayServer()]
    started = time.monotonic()
    try:
        if args.action == "up":
            jars = fetch_connector_jars()
            print(f"spark:     {len(jars)} connector jars in {SPARK_JARS_DIR}", flush=True)
            for service in services:
                print(service.up(), flush=True)
            print(f"services up in {time.monotonic() - started:.1f}s")
        elif args.action == "down":
            for service in reversed(services):
                print(service.down(), flush=True)
        else:
            for service in services:
                print(service.status().line())
            print(f"spark      jars={len(list(SPARK_JARS_DIR.glob('*.jar')))} in {SPARK_JARS_DIR}")
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the Elhub replay server from a shell.

    python -m ind320_devkit.replay --port 8080
    python -m ind320_devkit.replay --port 0 --latency-ms 150 --throttle-fraction 0.1
    ELHUB_REPLAY_SERVER_ERROR_FIRST_N=3 python -m ind320_devkit.replay --port 0

It prints the base URL (with the port it picked when given --port 0) on the
first line of stdout, e.g. `ELHUB_API_URL=http://127.0.0.1:43817/energy-data/v0`,
so scripts can read it; then it serves until interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ind320_devkit.replay.faults import Faults
from ind320_devkit.replay.server import ReplayServer

REVISIONS_ENV = "ELHUB_REPLAY_REVISIONS"


def parse_revision(spec: str) -> tuple[str, str, list[str], float]:
    """`DATASET:YYYY-MM:NO1,NO2:FACTOR` -> (dataset id, month, areas, factor)."""
    try:
        dataset_id, month, areas, factor = spec.split(":")
        return dataset_id, month, areas.split(","), float(factor)
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"revision {spec!r} is not DATASET:YYYY-MM:AREA[,AREA...]:FACTOR"
        ) from err


def build_parser(environ: dict[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ind320_devkit.replay",
        description="Serve a local replay of Elhub's Energy Data API (price-area MBA-hour datasets).",
    )
    parser.add_argument("--port", type=int, default=int(environ.get("ELHUB_REPLAY_PORT", "8080")),
                        help="port to listen on; 0 picks a free one (default 8080)")  # fmt: skip
    parser.add_argument("--host", default=environ.get("ELHUB_REPLAY_HOST", "127.0.0.1"))
    parser.add_argument("--now", default=environ.get("ELHUB_REPLAY_NOW"),
                        help="pretend it is this instant (ISO 8601 with offset); default: the wall clock")  # fmt: skip
    parser.add_argument("--revision", action="append", type=parse_revision, default=[],
                        help="publish a revision at start: DATASET:YYYY-MM:NO1,NO2:FACTOR (repeatable; "
                        f"also {REVISIONS_ENV}, separated by ';')")  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    Faults.add_arguments(parser, Faults.from_env(environ))
    return parser


def main(argv: list[str] | None = None) -> None:
    environ = dict(os.environ)
    arguments = build_parser(environ).parse_args(argv)
    server = ReplayServer(
        port=arguments.port,
        host=arguments.host,
        faults=Faults.from_arguments(arguments),
        now=arguments.now,
        verbose=arguments.verbose,
    )
    env_revisions = [parse_revision(s) for s in environ.get(REVISIONS_ENV, "").split(";") if s.strip()]
    for dataset_id, month, areas, factor in [*env_revisions, *arguments.revision]:
        server.publish_revision(dataset_id, month, areas, factor)
    server.start()
    print(f"ELHUB_API_URL={server.url}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print("replay server stopped", file=sys.stderr)


if __name__ == "__main__":
    main()

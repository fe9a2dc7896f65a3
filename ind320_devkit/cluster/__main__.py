"""`python -m ind320_devkit.cluster up|down|status|env`: the cluster beside the single-node services."""

from __future__ import annotations

import argparse
import shlex
import sys

from ind320_devkit.cluster.topology import ClusterTopology
from ind320_devkit.local_services.process import ServiceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ind320_devkit.cluster")
    parser.add_argument("action", choices=["up", "down", "status", "env"])
    args = parser.parse_args(argv)
    topology = ClusterTopology()
    try:
        if args.action == "env":  # `eval "$(make -s cluster-env)"`: export lines and nothing else
            for name, value in topology.environment().items():
                print(f"export {name}={shlex.quote(value)}")
        elif args.action == "up":
            print(topology.up(), flush=True)
        elif args.action == "down":
            print(topology.down(), flush=True)
        else:
            for status in topology.status():
                print(status.line(name_width=14))
            ring = topology.ring_states()
            print("ring: " + (", ".join(f"{address} {state}" for address, state in sorted(ring.items())) or "no node answers"))
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A cluster on one machine: a three-node Cassandra ring and a Spark standalone master with two workers.

`python -m ind320_devkit.cluster up|down|status|env` (or `make cluster-up`,
`make cluster-down`, `make -s cluster-env`) runs it beside the single-node
services under `.local/cluster/`; tests drive it through `ClusterTopology`.
"""

from ind320_devkit.cluster.topology import ClusterTopology

__all__ = ["ClusterTopology"]

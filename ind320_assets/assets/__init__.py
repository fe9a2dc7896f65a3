"""Software-defined assets: each Elhub dataset becomes raw → Cassandra → MongoDB."""

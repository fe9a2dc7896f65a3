"""Real Cassandra, FerretDB and Spark-connector jars on this machine, without Docker.

`python -m ind320_devkit.local_services up|down|status` (or `make services-up`)
resolves, builds and starts everything under the git-ignored `.local/` folder.
"""

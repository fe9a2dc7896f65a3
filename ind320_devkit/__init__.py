"""The dev kit: what development, tests, the demo and the benchmarks run beside the runtime.

- `replay/`: an Elhub API replay server (recorded and generated data, faults);
- `local_services/`: Cassandra, FerretDB, the replay and the Spark connector jars
  on this machine, without Docker;
- `demo.py`: `make demo`.

A deployment installs `ind320_assets` alone; nothing there imports this package.
"""

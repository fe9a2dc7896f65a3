"""IO managers: where each asset's partitions are stored and read back from."""

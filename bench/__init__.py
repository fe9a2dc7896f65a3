"""Benchmarks of the Elhub pipeline against the local services. See bench/README.md."""

"""Dagster resources: one per external system, configured with typed fields."""

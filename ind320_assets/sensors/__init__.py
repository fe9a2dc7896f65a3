"""Sensors and schedules that keep partitions in step with what Elhub publishes."""

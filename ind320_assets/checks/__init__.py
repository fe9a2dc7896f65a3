"""Asset checks: pure functions that judge a frame, and their Dagster wiring."""

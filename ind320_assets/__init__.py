"""ind320_assets: a Dagster platform for Elhub's hourly electricity data."""

"""ind320_assets: a Dagster platform for Elhub's hourly electricity data."""

import warnings

from dagster import BetaWarning, PreviewWarning

# We use dagster-pandas column types and backfill policies on purpose; their
# "beta" notices would otherwise fill every CLI run and test report.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

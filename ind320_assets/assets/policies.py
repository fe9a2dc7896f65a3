"""Run policies every Elhub asset shares."""

from dagster import BackfillPolicy

# A backfill of any size is one run with one Spark session, not one per partition.
SINGLE_RUN = BackfillPolicy.single_run()

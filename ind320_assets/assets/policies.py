"""Run policies every Elhub asset shares."""

from dagster import Backoff, BackfillPolicy, Jitter, RetryPolicy

# The client already retries each request; this second line retries the whole
# fetching step, with growing, jittered delays, for outages longer than that.
FETCH_RETRY = RetryPolicy(max_retries=2, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
# A backfill of any size is one run with one Spark session, not one per partition.
SINGLE_RUN = BackfillPolicy.single_run()

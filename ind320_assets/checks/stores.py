"""Read what a store really holds, with its plain client, for the write checks.

These bypass our IO managers on purpose: a check that reads through the code
it checks would share its bugs.
"""

from __future__ import annotations

import pandas as pd
from cassandra.concurrent import execute_concurrent_with_args

from ind320_assets.frame_summary import SummaryKey, summarize
from ind320_assets.mongo_sync import READ_BATCH, partition_filter
from ind320_assets.partitions import ElhubPartition
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.mongo import MongoResource

Summary = dict[SummaryKey, tuple[int, float]]


def cassandra_summary(
    cassandra: CassandraResource, table: str, group_column: str, partitions: list[ElhubPartition]
) -> Summary:
    session = cassandra.session()
    select = session.prepare(
        f"SELECT price_area, {group_column}, start_time, quantity_kwh FROM {cassandra.keyspace}.{table} "
        "WHERE price_area = ? AND month = ?"
    )
    results = execute_concurrent_with_args(
        session, select, [(p.price_area, p.month) for p in partitions], concurrency=8, raise_on_first_error=True
    )
    rows = [row for _, result in results for row in result]
    frame = pd.DataFrame(rows, columns=["price_area", group_column, "start_time", "quantity_kwh"])
    frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
    return summarize(frame, group_column)


def mongo_summary(mongo: MongoResource, collection: str, group_column: str, partitions: list[ElhubPartition]) -> Summary:
    projection = {"_id": 0, "price_area": 1, group_column: 1, "start_time": 1, "quantity_kwh": 1}
    documents = list(mongo.db()[collection].find(partition_filter(partitions), projection, batch_size=READ_BATCH))
    frame = pd.DataFrame(documents, columns=["price_area", group_column, "start_time", "quantity_kwh"])
    frame["start_time"] = pd.to_datetime(frame["start_time"], utc=True)
    return summarize(frame, group_column)

"""MongoDB collections with one document per (price_area, group, start_time).

FerretDB has no transactions, so a partition is replaced without one, in an
order that never leaves it empty:
1. compare the new rows with the partition's current documents by `_id`
   (a deterministic `area|group|start_time`);
2. insert new documents, and swap changed ones (delete by `_id`, insert) in
   bounded batches; unchanged documents are not touched;
3. delete the documents whose `_id` is no longer in the new data.
The partition is never empty; only a changed hour can be absent, for the
milliseconds its batch is swapped. A rerun with the same data changes nothing.
"""


from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import islice

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext, ResourceDependency
from pymongo import ASCENDING
from pymongo.collection import Collection

from ind320_assets.frame_summary import sums_per_group
from ind320_assets.io_managers.cassandra_spark import GROUP_COLUMN_KEY
from ind320_assets.partitions import ElhubPartition, parse_partition_keys
from ind320_assets.resources.mongo import MongoResource

COLLECTION_KEY = "mongo/collection"
TIME_COLUMNS = ("start_time", "end_time", "last_updated_time")


def document_id(area: str, group: str, start_time: datetime) -> str:
    return f"{area}|{group}|{pd.Timestamp(start_time).tz_convert('UTC').strftime('%Y-%m-%dT%H:%M:%SZ')}"


def partition_filter(partitions: Sequence[ElhubPartition]) -> dict:
    """One `price_area` equality per area with its months: exact, never a cross product."""
    months_by_area: dict[str, list[str]] = {}
    for p in partitions:
        months_by_area.setdefault(p.price_area, []).append(p.month)
    clauses = [{"price_area": a, "month": {"$in": m}} for a, m in sorted(months_by_area.items())]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _batches(items: Sequence, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class MongoIOManager(ConfigurableIOManager):
    """Stores partitioned pandas frames in `<database>.<asset's mongo/collection>`."""

    mongo: ResourceDependency[MongoResource]
    batch_size: int = 5_000  # documents per round trip: bounds client and server memory

    def _collection(self, name: str, group_column: str) -> Collection:
        collection = self.mongo.db()[name]
        # create_index is a no-op when the same index exists, so this is idempotent.
        collection.create_index(
            [("price_area", ASCENDING), (group_column, ASCENDING), ("start_time", ASCENDING)],
            unique=True, name="area_group_start_unique",
        )
        collection.create_index([("price_area", ASCENDING), ("month", ASCENDING)], name="area_month")
        return collection

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        name = context.definition_metadata[COLLECTION_KEY]
        group_column = context.definition_metadata[GROUP_COLUMN_KEY]
        partitions = parse_partition_keys(context.asset_partition_keys)
        allowed = {(p.price_area, p.month) for p in partitions}
        outside = sorted(set(zip(obj["price_area"], obj["month"])) - allowed)
        if outside:
            raise ValueError(f"Refusing to write rows outside this run's partitions: {outside[:5]}")

        collection = self._collection(name, group_column)
        docs = to_documents(obj, group_column)
        docs_by_partition: dict[tuple[str, str], list[dict]] = {}
        for doc in docs:
            docs_by_partition.setdefault((doc["price_area"], doc["month"]), []).append(doc)
        # One read of every written partition's current documents. FerretDB's
        # SQLite backend scans the whole collection for any filter but an `_id`
        # equality, so one query per run beats one per partition by far.
        current_by_partition: dict[tuple[str, str], dict[str, dict]] = {}
        for doc in collection.find(partition_filter(partitions)):
            current_by_partition.setdefault((doc["price_area"], doc["month"]), {})[doc["_id"]] = doc
        counts = {"inserted": 0, "replaced": 0, "unchanged": 0, "deleted": 0}
        for p in partitions:
            key = (p.price_area, p.month)
            wanted, current = docs_by_partition.get(key, []), current_by_partition.get(key, {})
            for key, value in self._replace_partition(collection, current, wanted).items():
                counts[key] += value

        context.add_output_metadata({
            "dagster/row_count": len(docs),
            "dagster/table_name": f"{self.mongo.database}.{name}",
            "partitions_written": len(partitions),
            **{f"documents_{k}": v for k, v in counts.items()},
            "read_back_query": MetadataValue.json({"collection": name, "filter": partition_filter(partitions)}),
            "sums_kwh_per_group": MetadataValue.json(sums_per_group(obj, group_column)),
        })

    def _replace_partition(self, collection: Collection, current: dict[str, dict], wanted: list[dict]) -> dict[str, int]:
        inserts = [d for d in wanted if d["_id"] not in current]
        changed = [d for d in wanted if d["_id"] in current and not _same(current[d["_id"]], d)]
        for batch in _batches(inserts, self.batch_size):
            collection.insert_many(batch, ordered=False)
        for batch in _batches(changed, self.batch_size):
            # Swap each changed batch out and in. FerretDB 1.x applies replaceOne/
            # update at ~14 ms a document and can stall under a bulk of them,
            # while delete-by-_id plus insert_many takes ~0.2 ms a document.
            collection.delete_many({"_id": {"$in": [d["_id"] for d in batch]}})
            collection.insert_many(batch, ordered=False)
        stale = list(current.keys() - {d["_id"] for d in wanted})
        for batch in _batches(stale, self.batch_size):
            collection.delete_many({"_id": {"$in": batch}})
        return {
            "inserted": len(inserts),
            "replaced": len(changed),
            "unchanged": len(wanted) - len(inserts) - len(changed),
            "deleted": len(stale),
        }

    def load_input(self, context: InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        name = upstream.definition_metadata[COLLECTION_KEY]
        partitions = parse_partition_keys(context.asset_partition_keys)
        cursor = self.mongo.db()[name].find(partition_filter(partitions), {"_id": 0})
        return from_documents(list(cursor))


def to_documents(frame: pd.DataFrame, group_column: str) -> list[dict]:
    records = frame.to_dict("records")
    for record in records:
        for column in TIME_COLUMNS:
            record[column] = record[column].to_pydatetime()
        record["_id"] = document_id(record["price_area"], record[group_column], record["start_time"])
    return records


def from_documents(documents: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(documents)
    for column in TIME_COLUMNS:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _same(stored: dict, new: dict) -> bool:
    return all(stored.get(k) == v for k, v in new.items())

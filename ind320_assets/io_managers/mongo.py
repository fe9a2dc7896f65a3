"""MongoDB collections of day documents, `_id` = `area|group|day` (`mongo_documents`).

Three parts, as in Dagster's DbIOManager family: `MongoCollection` (ensure the
indexes, read one slice, replace one slice through `mongo_sync`), the pandas
conversion (`mongo_documents.to_documents`/`to_rows`), and the configurable
`MongoIOManager` that the definitions bind. New and changed documents go in
first and withdrawn ones last, so a partition is never empty and a rerun with
the same data changes nothing.
"""

from __future__ import annotations

import pandas as pd
from dagster import ConfigurableIOManagerFactory, InputContext, IOManager, MetadataValue, OutputContext
from pymongo import ASCENDING
from pymongo.collection import Collection

from ind320_assets.frame_summary import sums_per_group
from ind320_assets.mongo_documents import (
    DAY, HOURLY_LAYOUT_INDEXES, UPGRADE_MARKER, indexes, read_partitions, to_documents, to_rows,
)
from ind320_assets.mongo_sync import READ_BATCH, partition_of, sync_by_scope
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.row_schema import MONGO_COLLECTION_KEY, RowSchema, schema_from_metadata


class MongoCollection:
    def __init__(self, collection: Collection, schema: RowSchema) -> None:
        self.collection, self.schema = collection, schema

    def ensure_indexes(self) -> None:
        # One index per command, a no-op when it exists: FerretDB 1.24 drops the
        # connection ("slice bounds out of range") when one createIndexes command
        # names several indexes that already exist.
        for index in indexes(self.schema):
            self.collection.create_indexes([index])

    def upgrading_from_hourly_documents(self) -> bool:
        """Whether the collection may still hold hourly documents, the layout before day
        documents. The first time, their unique index gives way to a plain marker index."""
        names = set(self.collection.index_information())
        if hourly := names & set(HOURLY_LAYOUT_INDEXES):
            self.collection.create_index([(DAY, ASCENDING)], name=UPGRADE_MARKER)
            for name in hourly:
                self.collection.drop_index(name)
            return True
        return UPGRADE_MARKER in names

    def finish_upgrade(self) -> None:
        """Once no hourly document is left, the marker gives way to the day documents' indexes."""
        if self.collection.find_one({DAY: {"$exists": False}}, {"_id": 1}) is None:
            self.collection.drop_index(UPGRADE_MARKER)
            self.ensure_indexes()

    def current(self, partitions: PartitionSlice, hourly_layout: bool = False) -> list[dict]:
        """The slice's documents, read as `mongo_sync.read_slice` decides: by `_id` for a
        slice much smaller than the collection, else in one query. While the collection
        may hold hourly documents, always in one query: their `_id`s are not among the day
        documents' ids, and the sync deletes them as stale."""
        # An empty collection (a first backfill) has nothing to compare with.
        if self.collection.find_one({}, {"_id": 1}) is None:
            return []
        if hourly_layout:
            return list(self.collection.find(partitions.mongo_filter(), batch_size=READ_BATCH))
        return read_partitions(self.collection, self.schema, partitions)

    def replace_slice(self, documents: list[dict], partitions: PartitionSlice, batch_size: int) -> dict[str, int]:
        # Hourly documents have no `day`: the unique index over it waits until they are gone.
        if not (upgrading := self.upgrading_from_hourly_documents()):
            self.ensure_indexes()
        counts = sync_by_scope(self.collection, self.current(partitions, upgrading), documents, partition_of, batch_size)
        if upgrading:
            self.finish_upgrade()
        return counts

    def read_slice(self, partitions: PartitionSlice) -> pd.DataFrame:
        documents = self.collection.find(partitions.mongo_filter(), {"_id": 0}, batch_size=READ_BATCH)
        return to_rows(list(documents), self.schema)


class MongoIOManager(ConfigurableIOManagerFactory):
    """Stores an asset's partitions, as pandas frames, in `<database>.<its mongo/collection>`,
    one document per series and local day (`mongo_documents`).

    The asset declares its collection (`mongo/collection`) and its columns and row
    key (`dagster/column_schema`, from `ind320_assets.row_schema`).
    """

    mongo: MongoResource
    batch_size: int = 5_000  # documents per round trip: bounds client and server memory

    def create_io_manager(self, context) -> IOManager:  # noqa: ANN001 - Dagster's signature
        return _MongoIOManager(self.mongo, self.batch_size)


class _MongoIOManager(IOManager):
    def __init__(self, mongo: MongoResource, batch_size: int) -> None:
        self.mongo, self.batch_size = mongo, batch_size

    def _collection(self, metadata: dict) -> MongoCollection:
        return MongoCollection(self.mongo.db()[metadata[MONGO_COLLECTION_KEY]], schema_from_metadata(metadata))

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        target = self._collection(context.definition_metadata)
        partitions = PartitionSlice.from_keys(context.asset_partition_keys)
        partitions.guard(obj)
        with self.mongo.answering():
            counts = target.replace_slice(to_documents(obj, target.schema), partitions, self.batch_size)
        context.add_output_metadata({
            "dagster/row_count": len(obj),
            "dagster/table_name": f"{self.mongo.database}.{target.collection.name}",
            "partitions_written": len(partitions),
            **{f"documents_{k}": v for k, v in counts.items()},
            "read_back_query": MetadataValue.json({"collection": target.collection.name, "filter": partitions.mongo_filter()}),
            "sums_kwh_per_group": MetadataValue.json(
                sums_per_group(obj, target.schema.group_column, target.schema.quantity_columns)
            ),
        })

    def load_input(self, context: InputContext) -> pd.DataFrame:
        source = self._collection(context.upstream_output.definition_metadata)
        with self.mongo.answering():
            return source.read_slice(PartitionSlice.from_keys(context.asset_partition_keys))

"""Bring a set of MongoDB documents to a wanted state without a transaction.

FerretDB has no transactions, so every writer here (the MongoDB IO manager and
the dashboard views) replaces documents in an order that never leaves a reader
with less than the old or the new state:
1. compare the wanted documents with the current ones by a deterministic `_id`
   (`plan_sync`, a pure function);
2. insert new documents, and swap changed ones (delete by `_id`, insert) in
   bounded batches; unchanged documents are not touched;
3. delete the current documents whose `_id` is no longer wanted.
Only a changed document can be absent, while its batch is swapped: milliseconds
on MongoDB, on FerretDB the length of one delete (a collection scan, seconds at
a year of data). Writing the same state twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from pymongo.collection import Collection

# Documents per reply when reading many. FerretDB re-runs its per-document filter
# for every getMore; with the driver's default batches a year of production took
# 20 s to read, with 10,000 per batch 15.6 s.
READ_BATCH = 10_000


@dataclass(frozen=True)
class SyncPlan:
    inserts: list[dict]
    changed: list[dict]
    stale_ids: list[str]
    unchanged: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "inserted": len(self.inserts),
            "replaced": len(self.changed),
            "unchanged": self.unchanged,
            "deleted": len(self.stale_ids),
        }


def plan_sync(current: dict[str, dict], wanted: list[dict]) -> SyncPlan:
    """What turns `current` ({_id: document}) into `wanted`."""
    inserts = [d for d in wanted if d["_id"] not in current]
    changed = [d for d in wanted if d["_id"] in current and not _same(current[d["_id"]], d)]
    wanted_ids = {d["_id"] for d in wanted}
    stale = sorted(i for i in current if i not in wanted_ids)
    return SyncPlan(inserts, changed, stale, len(wanted) - len(inserts) - len(changed))


def batches(items: Sequence, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def sync_documents(
    collection: Collection, current: dict[str, dict], wanted: list[dict], batch_size: int = 5_000
) -> dict[str, int]:
    """Make `collection` hold `wanted` where it held `current`; returns counts."""
    plan = plan_sync(current, wanted)
    for batch in batches(plan.inserts, batch_size):
        collection.insert_many(batch, ordered=False)
    for batch in batches(plan.changed, batch_size):
        # FerretDB 1.x applies replaceOne/update at ~14 ms a document and can
        # stall under a bulk of them, so changed documents are deleted by `_id`
        # and inserted again. Its SQLite backend refuses an `$in` of more than
        # ~32k ids ("too many SQL variables"); batches stay far below that.
        delete_ids(collection, [d["_id"] for d in batch])
        collection.insert_many(batch, ordered=False)
    for batch in batches(plan.stale_ids, batch_size):
        delete_ids(collection, batch)
    return plan.counts


# FerretDB's SQLite backend pushes an `_id` equality down but scans the whole
# collection for anything else, `_id: {$in: [...]}` included: at a year, a
# `find_one`/`delete_one` by `_id` took 0.06/0.09 s, one `$in` 0.63/0.69 s. Up to
# this many ids, one equality per id is the faster way; on MongoDB both are lookups.
FEW_IDS = 8


def find_ids(collection: Collection, ids: list[str]) -> dict[str, dict]:
    """{_id: document} of the documents among `ids` that exist."""
    if len(ids) <= FEW_IDS:
        found = (collection.find_one({"_id": document_id}) for document_id in ids)
        return {doc["_id"]: doc for doc in found if doc is not None}
    return {doc["_id"]: doc for doc in collection.find({"_id": {"$in": ids}}, batch_size=READ_BATCH)}


def delete_ids(collection: Collection, ids: list[str]) -> None:
    if len(ids) <= FEW_IDS:
        for document_id in ids:
            collection.delete_one({"_id": document_id})
    else:
        collection.delete_many({"_id": {"$in": ids}})


def _same(stored: dict, new: dict) -> bool:
    return all(stored.get(k) == v for k, v in new.items())

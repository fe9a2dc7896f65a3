"""Bring a set of MongoDB documents to a wanted state without a transaction.

FerretDB has no transactions, so every writer here (the MongoDB IO manager and
the dashboard views) changes documents in an order that never leaves a reader
with less than the old or the new state, not even for a moment:
1. compare the wanted documents with the current ones by a deterministic `_id`
   (`plan_sync`, a pure function);
2. insert new documents, and replace changed ones in place, by `_id`; unchanged
   documents are not touched;
3. delete the current documents whose `_id` is no longer wanted.
A replace is atomic per document on MongoDB and on FerretDB alike, so every
`_id` that stays wanted is readable throughout, with its old or its new value.
Writing the same state twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from pymongo import DeleteOne, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import OperationFailure

# Documents per reply when reading many. FerretDB re-runs its per-document filter
# for every getMore; with the driver's default batches a year of production took
# 20 s to read, with 10,000 per batch 15.6 s.
READ_BATCH = 10_000

# Replaces or deletes per command. FerretDB 1.24 keeps a pooled connection open for
# each update of a command until the command ends, and stops answering at all
# past ~99 of them (its pool holds 100 connections; ~49 on its PostgreSQL backend).
WRITE_COMMAND = 40


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
    # By `_id` only: the one filter FerretDB's SQLite backend hands to SQLite, where
    # the dev kit's FerretDB gives it an index (services/ferretdb/idindex.go).
    for batch in batches(plan.changed, WRITE_COMMAND):
        collection.bulk_write([ReplaceOne({"_id": d["_id"]}, d) for d in batch], ordered=False)
    for batch in batches(plan.stale_ids, WRITE_COMMAND):
        collection.bulk_write([DeleteOne({"_id": i}) for i in batch], ordered=False)
    return plan.counts


# What one `_id` lookup costs, in documents a scan reads in the same time: on
# FerretDB's SQLite backend with the dev kit's index, ~1 ms a lookup against 3.5 s
# to scan a year of production's 8,973 day documents (0.39 ms each).
LOOKUP_COST_IN_SCANNED = 3


def read_slice(
    collection: Collection, where: dict, possible_ids: Iterable[str], possible: int, projection: dict | None = None
) -> list[dict]:
    """The documents matching `where`, all of whose `_id`s are among the `possible` ones
    `possible_ids` gives (iterated only when the slice is read by `_id`).

    FerretDB scans the whole collection for any filter but an `_id` equality, so
    a slice much smaller than the collection is read one `_id` lookup at a time:
    its cost then follows the slice, not the collection. A large slice, or a
    small collection, is read with one query."""
    if possible * LOOKUP_COST_IN_SCANNED < document_count(collection):
        found = (collection.find_one({"_id": i}, projection) for i in possible_ids)
        return [d for d in found if d is not None]
    return list(collection.find(where, projection, batch_size=READ_BATCH))


def document_count(collection: Collection) -> int:
    """The collection's size from its statistics (0.4 s on FerretDB, where counting
    documents scans them all); 0 for a collection that does not exist."""
    try:
        return int(collection.database.command("collStats", collection.name).get("count", 0))
    except OperationFailure:
        return 0


def _same(stored: dict, new: dict) -> bool:
    return all(stored.get(k) == v for k, v in new.items())

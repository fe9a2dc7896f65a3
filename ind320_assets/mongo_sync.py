"""Bring a set of MongoDB documents to a wanted state without a transaction or a lock.

FerretDB has no transactions, and runs of one partition may overlap (on one
Dagster instance or on several), so every writer here (the MongoDB IO manager
and the dashboard views) changes documents in an order that never leaves a
reader with less than the old or the new state, and never lets an older
revision replace a newer one (`revisions.py`):
1. compare the wanted documents with the current ones by a deterministic `_id`
   (`plan_sync`, a pure function);
2. insert new documents; an `_id` another writer inserted meanwhile is
   treated as changed;
3. replace changed ones in place, by `_id`, only where the stored
   `revision_sum` is not larger than the wanted one; unchanged documents are
   not touched;
4. delete the current documents whose `_id` is no longer wanted, only where
   their `revision` is not newer than the writer's view (the latest revision
   it wants): a newer document was written by a writer that saw more.
A replace is atomic per document on MongoDB and on FerretDB alike, so every
`_id` that stays wanted is readable throughout, with its old or its new value.
Writing the same state twice changes nothing; writing two revisions in either
order leaves the newer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from pymongo import DeleteOne, ReplaceOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, OperationFailure

from ind320_assets.revisions import REVISION_FIELD, REVISION_SUM_FIELD

# Documents per reply when reading many. FerretDB re-runs its per-document filter
# for every getMore; with the driver's default batches a year of production took
# 20 s to read, with 10,000 per batch 15.6 s.
READ_BATCH = 10_000

# Replaces or deletes per command. FerretDB 1.24 keeps a pooled connection open for
# each update of a command until the command ends, and stops answering at all
# past ~99 of them (its pool holds 100 connections; ~49 on its PostgreSQL backend).
WRITE_COMMAND = 40


DUPLICATE_KEY = 11000  # MongoDB's error code for a unique-index violation


@dataclass(frozen=True)
class SyncPlan:
    inserts: list[dict]
    changed: list[dict]
    stale_ids: list[str]
    unchanged: int


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
    """Make `collection` hold `wanted` where it held `current`, as far as no newer revision is
    stored; returns counts, `kept_newer` among them. `wanted` is one partition's documents (or
    one view scope's): their latest revision is how far this writer has seen."""
    plan = plan_sync(current, wanted)
    already_there = []
    for batch in batches(plan.inserts, batch_size):
        already_there += _insert_new(collection, batch)
    replaced = kept = 0
    # By `_id` first: the one filter FerretDB's SQLite backend hands to SQLite, where
    # the dev kit's FerretDB gives it an index (services/ferretdb/idindex.go).
    for batch in batches([*plan.changed, *already_there], WRITE_COMMAND):
        result = collection.bulk_write(
            [ReplaceOne(not_above(d["_id"], REVISION_SUM_FIELD, d[REVISION_SUM_FIELD]), d) for d in batch],
            ordered=False,
        )
        replaced += result.matched_count
        kept += len(batch) - result.matched_count
    seen_until = max((d[REVISION_FIELD] for d in wanted), default=None)
    deleted = 0
    # A writer that wants nothing has seen nothing: it deletes nothing.
    for batch in batches(plan.stale_ids if seen_until is not None else [], WRITE_COMMAND):
        result = collection.bulk_write([DeleteOne(not_above(i, REVISION_FIELD, seen_until)) for i in batch], ordered=False)
        deleted += result.deleted_count
        kept += len(batch) - result.deleted_count
    return {
        "inserted": len(plan.inserts) - len(already_there),
        "replaced": replaced,
        "unchanged": plan.unchanged,
        "deleted": deleted,
        "kept_newer": kept,
    }


def sync_by_scope(
    target: Collection, current: Iterable[dict], wanted: list[dict], scope: Callable[[dict], tuple],
    batch_size: int = 5_000,
) -> dict[str, int]:
    """`mongo_sync.sync_documents` once per scope (a partition, an area-year): how far a
    writer has seen, which decides what it may delete, is a property of each scope."""
    current_by_scope: dict[tuple, dict[str, dict]] = {}
    for doc in current:
        current_by_scope.setdefault(scope(doc), {})[doc["_id"]] = doc
    wanted_by_scope: dict[tuple, list[dict]] = {}
    for doc in wanted:
        wanted_by_scope.setdefault(scope(doc), []).append(doc)
    counts: Counter[str] = Counter()
    for key in sorted(current_by_scope.keys() | wanted_by_scope.keys()):
        counts.update(sync_documents(target, current_by_scope.get(key, {}), wanted_by_scope.get(key, []), batch_size))
    return dict(counts)


def partition_of(doc: dict) -> tuple[str, str]:
    """A document's partition, (price_area, month): the scope of the base collection and its views."""
    return doc["price_area"], doc["month"]


def not_above(_id: str, field: str, value: object) -> dict:
    """The document `_id` unless its stored `field` is above `value`; one written before
    documents carried revisions has none, and matches."""
    return {"_id": _id, field: {"$not": {"$gt": value}}}


def _insert_new(collection: Collection, documents: list[dict]) -> list[dict]:
    """Inserts `documents`; returns those whose `_id` another writer inserted meanwhile."""
    try:
        collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return [documents[e["index"]] for e in errors]
    return []


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

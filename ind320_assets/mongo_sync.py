"""Bring a set of MongoDB documents to a wanted state without a transaction.

FerretDB has no transactions, so every writer here (the MongoDB IO manager and
the dashboard views) replaces documents in an order that never leaves a reader
with less than the old or the new state:
1. compare the wanted documents with the current ones by a deterministic `_id`;
2. insert new documents, and swap changed ones (delete by `_id`, insert) in
   bounded batches; unchanged documents are not touched;
3. delete the current documents whose `_id` is no longer wanted.
Only a changed document can be absent, while its batch is swapped: milliseconds
on MongoDB, on FerretDB the length of one delete (a collection scan, seconds at
a year of data). Writing the same state twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice

from pymongo.collection import Collection

from ind320_assets.partitions import ElhubPartition


# Documents per reply when reading many. FerretDB re-runs its per-document filter
# for every getMore; with the driver's default batches a year of production took
# 20 s to read, with 10,000 per batch 15.6 s.
READ_BATCH = 10_000


def partition_filter(partitions: Sequence[ElhubPartition]) -> dict:
    """One `price_area` equality per area with its months: exact, never a cross product."""
    months_by_area: dict[str, list[str]] = {}
    for p in partitions:
        months_by_area.setdefault(p.price_area, []).append(p.month)
    clauses = [{"price_area": a, "month": {"$in": m}} for a, m in sorted(months_by_area.items())]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def batches(items: Sequence, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def sync_documents(
    collection: Collection, current: dict[str, dict], wanted: list[dict], batch_size: int = 5_000
) -> dict[str, int]:
    """Make `collection` hold `wanted` where it held `current` ({_id: document}); returns counts."""
    inserts = [d for d in wanted if d["_id"] not in current]
    changed = [d for d in wanted if d["_id"] in current and not _same(current[d["_id"]], d)]
    for batch in batches(inserts, batch_size):
        collection.insert_many(batch, ordered=False)
    for batch in batches(changed, batch_size):
        # FerretDB 1.x applies replaceOne/update at ~14 ms a document and can
        # stall under a bulk of them, so changed documents are deleted by `_id`
        # and inserted again. Its SQLite backend refuses an `$in` of more than
        # ~32k ids ("too many SQL variables"); batches stay far below that.
        collection.delete_many({"_id": {"$in": [d["_id"] for d in batch]}})
        collection.insert_many(batch, ordered=False)
    stale = list(current.keys() - {d["_id"] for d in wanted})
    for batch in batches(stale, batch_size):
        collection.delete_many({"_id": {"$in": batch}})
    return {
        "inserted": len(inserts),
        "replaced": len(changed),
        "unchanged": len(wanted) - len(inserts) - len(changed),
        "deleted": len(stale),
    }


def _same(stored: dict, new: dict) -> bool:
    return all(stored.get(k) == v for k, v in new.items())

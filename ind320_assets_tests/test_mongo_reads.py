"""`read_slice` reads a slice by `_id` lookups when it is small against the collection, else in one
query, and both ways return the same documents (on the real MongoDB-wire server)."""

import pytest

from ind320_assets.mongo_sync import LOOKUP_COST_IN_SCANNED, document_count, read_slice

pytestmark = pytest.mark.services


def test_both_ways_of_reading_a_slice_return_its_documents_and_nothing_else(mongo_db):
    collection = mongo_db["slices"]
    assert document_count(collection) == 0  # no such collection yet
    documents = [{"_id": f"NO{a}|{h:04d}", "price_area": f"NO{a}", "hour": h} for a in range(1, 6) for h in range(600)]
    collection.insert_many(documents)
    assert document_count(collection) == 3000

    wanted = [d for d in documents if d["price_area"] == "NO3" and d["hour"] < 100]
    # The slice's possible ids: its hours, and some that no document has.
    possible = [f"NO3|{h:04d}" for h in range(120)]
    where = {"price_area": "NO3", "hour": {"$lt": 120}}
    assert len(possible) * LOOKUP_COST_IN_SCANNED < 3000  # read by `_id`
    collection.delete_many({"_id": {"$in": [f"NO3|{h:04d}" for h in range(100, 120)]}})
    by_id = read_slice(collection, where, possible, len(possible))
    assert sorted(d["_id"] for d in by_id) == sorted(d["_id"] for d in wanted)

    many = [f"NO3|{h:04d}" for h in range(1000)]  # too many to look up one by one
    assert len(many) * LOOKUP_COST_IN_SCANNED >= 3000
    by_query = read_slice(collection, where, many, len(many), {"_id": 1, "hour": 1})
    assert sorted(d["_id"] for d in by_query) == sorted(d["_id"] for d in wanted)

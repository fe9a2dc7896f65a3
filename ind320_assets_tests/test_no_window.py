"""While a revision is written, every document being revised stays readable by `_id`.

A reader thread looks the partition's documents up by `_id` in a tight loop,
beside the run that rewrites them: the base day documents, and the daily totals and
hourly series they feed. It must never miss one. Before this, changed documents
were deleted and inserted again, and a reader saw them vanish for as long as
the delete took.
"""

import threading
from datetime import date

import pytest
from dagster import materialize

from ind320_assets.assets.datasets import PRODUCTION_SPEC, build_dataset_assets
from ind320_assets.definitions import build_resources
from ind320_assets.domain import PRODUCTION
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.views.refresh import ViewCollections

pytestmark = pytest.mark.services

PARTITION = "2021-03-01|NO2"  # with the change to summer time: 743 hours
VIEWS = ViewCollections(PRODUCTION_SPEC.mongo_collection, PRODUCTION_SPEC.group_column)


class Reader(threading.Thread):
    """Looks up each `(collection, _id)` in turn until stopped; counts lookups and misses."""

    def __init__(self, db, ids: list[tuple[str, str]]) -> None:
        super().__init__(daemon=True)
        self.db, self.ids = db, ids
        self.lookups, self.misses = 0, []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for collection, document_id in self.ids:
                if self.db[collection].find_one({"_id": document_id}, {"_id": 1}) is None:
                    self.misses.append((collection, document_id))
                self.lookups += 1
                if self.stop.is_set():
                    return


def test_a_revision_never_hides_a_document_it_rewrites(replay, cassandra_keyspace, mongo, mongo_db, cql, tmp_path):
    resources = build_resources(
        cassandra={"keyspace": cassandra_keyspace}, mongo={"database": mongo.database},
        parquet_io_manager={"base_dir": str(tmp_path)},
    )
    resources["elhub"] = ElhubResource(base_url=replay.url)
    assets = build_dataset_assets(PRODUCTION_SPEC)
    assert materialize(assets, partition_key=PARTITION, resources=resources).success

    base = {d["_id"]: d["quantity_kwh"] for d in mongo_db[VIEWS.base].find({}, {"quantity_kwh": 1})}
    days = [d["_id"] for d in mongo_db[VIEWS.daily_totals].find({}, {"_id": 1})]
    # One document per series and day, with an element per hour.
    assert sum(map(len, base.values())) == len(replay.frame(PRODUCTION, date(2021, 3, 1), date(2021, 4, 1), areas=["NO2"]))
    # A round of lookups takes well under the second that rewriting the
    # partition takes, so a gap would be seen.
    watched = (
        [(VIEWS.base, i) for i in sorted(base)]
        + [(VIEWS.daily_totals, i) for i in days]
        + [(VIEWS.hourly_series, "NO2|2021-03")]
    )

    replay.publish_revision(PRODUCTION.dataset_id, "2021-03", ["NO2"], factor=1.25)
    reader = Reader(mongo.db().client.get_database(mongo.database), watched)
    reader.start()
    try:
        assert materialize(assets, partition_key=PARTITION, resources=resources).success
    finally:
        reader.stop.set()
        reader.join()

    revised = {d["_id"]: d["quantity_kwh"] for d in mongo_db[VIEWS.base].find({}, {"quantity_kwh": 1})}
    assert revised.keys() == base.keys()
    assert sum(1 for i in base if revised[i] != base[i]) > len(base) // 2  # the run really rewrote them
    assert reader.misses == [], f"{len(reader.misses)} misses in {reader.lookups} lookups"
    assert reader.lookups >= len(watched)  # the reader went round at least once during the run

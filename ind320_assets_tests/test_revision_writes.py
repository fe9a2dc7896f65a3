"""The stores keep the newest revision whoever writes last: each store's write path, against the real services.

Two writers of one partition, one holding Elhub's revision N and one N+1, in
both orders; a writer that saw a row withdrawn, then a stale writer re-sending
it; and, in MongoDB, a document another writer inserted between a writer's read
and its insert. The CLI runs of whole chains are in test_newest_revision_wins.py.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from ind320_assets.assets.datasets import PRODUCTION_SPEC
from ind320_assets.assets.elhub_pipeline import store_rows
from ind320_assets.checks.stores import cassandra_rows
from ind320_assets.domain import PRODUCTION
from ind320_assets.io_managers.cassandra_spark.table import CassandraTable
from ind320_assets.io_managers.cassandra_spark.type_handlers import PandasFrames
from ind320_assets.mongo_documents import to_documents
from ind320_assets.mongo_sync import sync_documents
from ind320_assets.partition_slice import PartitionSlice
from ind320_devkit.replay.catalog import replay_frame

pytestmark = pytest.mark.services

KEY = "2021-05-01|NO4"
SCHEMA = PRODUCTION_SPEC.stored_schema
N_PLUS_1 = pd.Timestamp("2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def revision_n() -> pd.DataFrame:
    """A month of one area as stored rows, as the replay serves it before any revision."""
    return store_rows(replay_frame(PRODUCTION, date(2021, 5, 1), date(2021, 6, 1), areas=["NO4"]), PRODUCTION_SPEC)


def revised(rows: pd.DataFrame, factor: float = 1.25, stamp: pd.Timestamp = N_PLUS_1) -> pd.DataFrame:
    """Elhub's next revision of `rows`: every quantity changed, republished at `stamp`."""
    return rows.assign(quantity_kwh=(rows["quantity_kwh"] * factor).round(1), last_updated_time=stamp)


def totals(rows: pd.DataFrame) -> tuple[int, float, pd.Timestamp]:
    return len(rows), round(rows["quantity_kwh"].sum(), 1), rows["last_updated_time"].max()


@pytest.fixture
def table(spark_resource, cassandra, cql) -> CassandraTable:
    return CassandraTable(spark_resource, cassandra, "revision_writes", SCHEMA)


def write(table: CassandraTable, rows: pd.DataFrame) -> int:
    frames = PandasFrames()
    return table.replace_slice(
        frames.to_spark(rows, SCHEMA, table.spark.spark_session), frames.keys(rows, SCHEMA), PartitionSlice.from_keys([KEY])
    )


@pytest.mark.parametrize("order", ["older last", "newer last"])
def test_cassandra_keeps_the_newer_revision_in_either_order(table, revision_n, order):
    newer = revised(revision_n)
    for rows in ([newer, revision_n] if order == "older last" else [revision_n, newer]):
        write(table, rows)
    stored = cassandra_rows(table.cassandra, table.table, SCHEMA, PartitionSlice.from_keys([KEY]))
    assert totals(stored) == totals(newer)


def test_cassandra_a_withdrawn_row_stays_deleted_when_a_stale_writer_sends_it_again(table, revision_n):
    write(table, revision_n)
    withdrawn = revision_n["production_group"] == "wind"
    without_wind = revised(revision_n[~withdrawn])
    assert write(table, without_wind) == withdrawn.sum()
    assert write(table, revision_n) == 0  # the stale writer: its wind rows are older than the tombstones
    stored = cassandra_rows(table.cassandra, table.table, SCHEMA, PartitionSlice.from_keys([KEY]))
    assert totals(stored) == totals(without_wind)
    # A stale writer never deletes rows newer than what it saw: the newer writer's rows all stay.
    assert "wind" not in set(stored["production_group"]) and len(stored) == len(without_wind)


def stored_documents(collection) -> dict[str, dict]:
    return {d["_id"]: d for d in collection.find()}


@pytest.mark.parametrize("order", ["older last", "newer last"])
def test_mongodb_keeps_the_newer_revision_in_either_order(mongo_db, revision_n, order):
    collection = mongo_db["revision_writes"]
    older, newer = to_documents(revision_n, SCHEMA), to_documents(revised(revision_n), SCHEMA)
    first, last = (newer, older) if order == "older last" else (older, newer)
    sync_documents(collection, {}, first)
    counts = sync_documents(collection, stored_documents(collection), last)
    assert counts["kept_newer"] == (len(older) if order == "older last" else 0)
    assert {i: d["quantity_kwh"] for i, d in stored_documents(collection).items()} == {
        d["_id"]: d["quantity_kwh"] for d in newer}


def test_mongodb_a_document_inserted_by_another_writer_meanwhile_is_replaced_only_if_older(mongo_db, revision_n):
    collection = mongo_db["revision_writes"]
    older, newer = to_documents(revision_n, SCHEMA), to_documents(revised(revision_n), SCHEMA)
    sync_documents(collection, {}, newer)
    # Both writers read an empty collection; the older one inserts last and meets duplicate keys.
    assert sync_documents(collection, {}, older) == {
        "inserted": 0, "replaced": 0, "unchanged": 0, "deleted": 0, "kept_newer": len(older)}
    collection.delete_many({})
    sync_documents(collection, {}, older)
    assert sync_documents(collection, {}, newer)["replaced"] == len(newer)
    assert {d["quantity_kwh"][0] for d in stored_documents(collection).values()} == {d["quantity_kwh"][0] for d in newer}


def test_mongodb_a_stale_writer_deletes_no_document_newer_than_what_it_saw(mongo_db, revision_n):
    collection = mongo_db["revision_writes"]
    older = to_documents(revision_n[revision_n["production_group"] != "solar"], SCHEMA)
    with_solar = to_documents(revised(revision_n), SCHEMA)  # solar first published in N+1
    sync_documents(collection, {}, with_solar)
    counts = sync_documents(collection, stored_documents(collection), older)
    assert counts["deleted"] == 0 and counts["kept_newer"] == len(with_solar)
    assert set(stored_documents(collection)) == {d["_id"] for d in with_solar}


@pytest.mark.parametrize("order", ["mixed last", "complete last"])
def test_mongodb_a_document_read_mid_write_never_replaces_the_complete_newer_one(mongo_db, revision_n, order):
    """A stale run reading Cassandra while a newer run writes it sees some hours at N+1 and
    some at N: its documents have the newer `revision`, but the complete ones must win."""
    collection = mongo_db["revision_writes"]
    newer = revised(revision_n)
    mixed = newer.where(newer["start_time"].dt.hour % 2 == 0, revision_n)
    complete, partial = to_documents(newer, SCHEMA), to_documents(mixed, SCHEMA)
    for documents in ([complete, partial] if order == "mixed last" else [partial, complete]):
        sync_documents(collection, stored_documents(collection), documents)
    assert {i: d["quantity_kwh"] for i, d in stored_documents(collection).items()} == {
        d["_id"]: d["quantity_kwh"] for d in complete}

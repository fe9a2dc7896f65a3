"""One factory turns an Elhub dataset spec into its three partitioned assets.

    elhub_<name>_raw        the API's rows for one (month, area), stored as Parquet
    elhub_<name>_cassandra  those rows in Cassandra, written through Spark
    elhub_<name>_mongo      read back from Cassandra through Spark, into MongoDB

Adding a dataset is declaring one `ElhubAssetSpec` (assets/spec.py); nothing here is copied.
Each asset's checks are declared with it (`check_specs`) and evaluated by the
named functions in `ind320_assets/checks/`, after the asset's IO manager wrote.
"""

from collections.abc import Iterator

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    MetadataValue,
    Output,
    asset,
)

from ind320_assets.assets.policies import SINGLE_RUN
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.charts import chart_metadata
from ind320_assets.checks.raw_frames import check_hours_complete, check_rows_not_withdrawn
from ind320_assets.checks.stores import cassandra_rows, matches, mongo_rows
from ind320_assets.frame_summary import sums_per_group
from ind320_assets.partition_slice import PartitionSlice, local_month_label
from ind320_assets.partitions import ELHUB_PARTITIONS
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.revisions import REVISIONS_METADATA_KEY, materialized_fingerprints, revision_fingerprints
from ind320_assets.row_schema import CASSANDRA_TABLE_KEY, COLUMN_SCHEMA_KEY, MONGO_COLLECTION_KEY
from ind320_assets.run_worker import tag_run_worker


def store_rows(raw: pd.DataFrame, spec: ElhubAssetSpec) -> pd.DataFrame:
    """The raw frame as stored rows: adds the local `month` label, fixes the column order."""
    rows = raw.assign(month=local_month_label(raw["start_time"]))
    return rows[spec.stored_schema.names].reset_index(drop=True)


def build_elhub_assets(spec: ElhubAssetSpec) -> list[AssetsDefinition]:
    def chart_title(area: str, month: str) -> str:
        return f"{area} {month} {spec.name}" + (" per group" if spec.group_column else "")

    raw_key, cassandra_key, mongo_key = spec.key("raw"), spec.key("cassandra"), spec.key("mongo")
    dataset_id = spec.dataset.dataset_id
    group_column, quantity_columns = spec.group_column, spec.quantity_columns
    stored = spec.stored_schema.table_schema()
    row_key = ", ".join(spec.raw_schema.row_key)

    @asset(
        key=raw_key,
        description=(
            f"Hourly `{dataset_id}` rows from the Elhub Energy Data API for one local month and price "
            "area, validated (shape, values, every local hour) and stored as Parquet. Times are UTC."
        ),
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        # No step retry: the client already retries each request, and a retried
        # step would fetch every month of the run again.
        io_manager_key="parquet_io_manager",
        dagster_type=spec.raw_schema.dagster_type(
            name=f"Elhub{spec.name.capitalize()}RawFrame",
            description=f"Hourly {dataset_id} rows, one per ({row_key}), UTC.",
        ),
        metadata={COLUMN_SCHEMA_KEY: spec.raw_schema.table_schema()},
        group_name=spec.group_name,
        kinds={"python", "pandas", "parquet"},
        check_specs=[
            AssetCheckSpec("hours_complete", asset=raw_key, blocking=True,
                           description="Every local hour of every series, but late starts and the unpublished tail."),
            AssetCheckSpec("rows_not_withdrawn", asset=raw_key,
                           description="Warns when a partition holds fewer rows than its last materialization."),
        ],
    )
    def raw_asset(context: AssetExecutionContext, elhub: ElhubResource) -> Iterator:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        previous = materialized_fingerprints(context.instance, raw_key, partitions.keys)
        client = elhub.client()
        frames, reports = [], []
        requests_before = client.requests_made
        for window in partitions.fetch_plan():
            result = client.fetch(spec.dataset, start=window.start, end=window.end, areas=window.areas)
            frames.append(result.frame)
            reports.append(result.report.as_metadata())
        frame = pd.concat(frames, ignore_index=True)
        # Per partition: its own row count, sums and chart, so each partition's
        # materialization in the UI describes that (month, area) alone.
        rows_by_key = partitions.split(frame)
        for p in partitions:
            rows = rows_by_key[p.key]
            context.add_asset_metadata({
                "dagster/row_count": len(rows),
                "sums_kwh_per_group": MetadataValue.json(sums_per_group(rows, group_column, quantity_columns)),
                "chart": chart_metadata(rows, group_column, chart_title(p.price_area, p.month), quantity_columns),
            }, partition_key=p.key)
        fingerprints = revision_fingerprints(frame, partitions)
        yield Output(frame, metadata={
            "requests": client.requests_made - requests_before,
            REVISIONS_METADATA_KEY: MetadataValue.json(fingerprints),
            "fetch_reports": MetadataValue.json(reports),
            "preview": MetadataValue.md(frame.head(10).to_markdown(index=False) if len(frame) else "empty"),
        })
        published_until = frame["end_time"].max() if len(frame) else pd.Timestamp.now(tz="UTC")
        passed, metadata = check_hours_complete(frame, spec.dataset, partitions, published_until)
        yield AssetCheckResult(check_name="hours_complete", passed=passed, metadata=metadata,
                               severity=AssetCheckSeverity.ERROR)
        passed, metadata = check_rows_not_withdrawn(fingerprints, previous)
        yield AssetCheckResult(check_name="rows_not_withdrawn", passed=passed, metadata=metadata,
                               severity=AssetCheckSeverity.WARN)

    @asset(
        key=cassandra_key,
        description=(
            f"`{dataset_id}` in Cassandra table `{spec.cassandra_table}`, written through Spark with the "
            f"Spark Cassandra Connector. Primary key {spec.stored_schema.primary_key_cql}; reruns upsert "
            "and delete only stale rows."
        ),
        ins={"raw": AssetIn(raw_key)},
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        io_manager_key="cassandra_io_manager",
        group_name=spec.group_name,
        kinds={"spark", "cassandra"},
        metadata={CASSANDRA_TABLE_KEY: spec.cassandra_table, COLUMN_SCHEMA_KEY: stored},
        check_specs=[AssetCheckSpec("matches_raw", asset=cassandra_key, blocking=True,
                                    description="Rows and kWh per (partition, series), read back with cassandra-driver.")],
    )
    def cassandra_asset(context: AssetExecutionContext, raw: pd.DataFrame, cassandra: CassandraResource) -> Iterator:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        rows = store_rows(raw, spec)
        yield Output(rows)
        # The IO manager has written by now: read it back with the plain driver.
        stored_now = cassandra_rows(cassandra, spec.cassandra_table, spec.stored_schema, partitions)
        yield matches("matches_raw", cassandra_key, rows, stored_now, partitions, spec.stored_schema)

    @asset(
        key=mongo_key,
        description=(
            f"`{dataset_id}` for dashboards: read back from Cassandra through Spark and stored in "
            f"MongoDB collection `{spec.mongo_collection}`: one document per series and local day "
            "(`_id` `area|group|YYYY-MM-DD`), the day's hours as arrays in start-time order, "
            "with its local `month`."
        ),
        ins={"stored": AssetIn(cassandra_key)},
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        io_manager_key="mongo_io_manager",
        group_name=spec.group_name,
        kinds={"spark", "mongodb"},
        metadata={MONGO_COLLECTION_KEY: spec.mongo_collection, COLUMN_SCHEMA_KEY: stored},
        check_specs=[AssetCheckSpec("matches_cassandra", asset=mongo_key, blocking=True,
                                    description="Rows and kWh per (partition, series), read back with pymongo.")],
    )
    def mongo_asset(context: AssetExecutionContext, stored: pd.DataFrame, mongo: MongoResource) -> Iterator:
        tag_run_worker(context)
        partitions = PartitionSlice.from_keys(context.partition_keys)
        rows = stored[spec.stored_schema.names]
        yield Output(rows)
        with mongo.answering():
            stored_now = mongo_rows(mongo, spec.mongo_collection, spec.stored_schema, partitions)
        yield matches("matches_cassandra", mongo_key, rows, stored_now, partitions, spec.stored_schema)

    return [raw_asset, cassandra_asset, mongo_asset]

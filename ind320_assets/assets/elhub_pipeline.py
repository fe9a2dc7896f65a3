"""One factory turns an Elhub dataset spec into its three partitioned assets.

    elhub_<name>_raw        the API's rows for one (month, area), stored as Parquet
    elhub_<name>_cassandra  those rows in Cassandra, written through Spark
    elhub_<name>_mongo      read back from Cassandra through Spark, into MongoDB

Adding a dataset is declaring one `ElhubAssetSpec` (assets/spec.py); nothing here is copied.
"""


from collections import defaultdict
from collections.abc import Iterator
from datetime import date

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetsDefinition,
    MetadataValue,
    Output,
    asset,
)
from pyspark.sql import DataFrame as SparkDataFrame

from ind320_assets.assets.frame_types import raw_frame_type
from ind320_assets.charts import chart_metadata
from ind320_assets.assets.policies import FETCH_RETRY, SINGLE_RUN
from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.checks.raw_frames import (
    check_hours_complete,
    check_no_duplicate_keys,
    check_quantities_valid,
)
from ind320_assets.checks.stores import cassandra_summary, mongo_summary
from ind320_assets.frame_summary import describe_differences, revision_fingerprints, summarize, sums_per_group
from ind320_assets.io_managers.cassandra_spark import CLUSTERING_KEY, GROUP_COLUMN_KEY, TABLE_KEY, spark_to_pandas
from ind320_assets.io_managers.mongo import COLLECTION_KEY
from ind320_assets.partitions import (
    ELHUB_PARTITIONS,
    ElhubPartition,
    local_month_label,
    next_month_start,
    parse_partition_keys,
    partition_key_column,
)
from ind320_assets.resources.cassandra import CassandraResource
from ind320_assets.resources.elhub import ElhubResource
from ind320_assets.resources.mongo import MongoResource
from ind320_assets.views.refresh import with_day_key

# Raw materializations record each partition's revision here; the revision sensor reads it.
REVISIONS_METADATA_KEY = "revisions"


def fetch_plan(partitions: list[ElhubPartition]) -> list[tuple[date, date, tuple[str, ...]]]:
    """As few `client.fetch` calls as cover the run's partitions exactly.

    Months that want the same set of areas and follow each other become one
    call `[first month, month after last)`; the client then sends one request
    per month for all those areas. A year for all areas is one call, 12 requests.
    """
    areas_by_month: dict[date, set[str]] = defaultdict(set)
    for p in partitions:
        areas_by_month[p.month_start].add(p.price_area)
    plan: list[tuple[date, date, tuple[str, ...]]] = []
    for month, areas in sorted(areas_by_month.items()):
        wanted = tuple(sorted(areas))
        if plan and plan[-1][1] == month and plan[-1][2] == wanted:
            plan[-1] = (plan[-1][0], next_month_start(month), wanted)
        else:
            plan.append((month, next_month_start(month), wanted))
    return plan


def store_rows(raw: pd.DataFrame, spec: ElhubAssetSpec) -> pd.DataFrame:
    """The raw frame as stored rows: adds the local `month` label, fixes the column order."""
    return raw.assign(month=local_month_label(raw["start_time"]))[spec.store_columns].reset_index(drop=True)


def _check_result(check_name: str, key: AssetKey, passed: bool, metadata: dict) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=key, check_name=check_name, passed=passed, severity=AssetCheckSeverity.ERROR, metadata=metadata
    )


def _matches(expected: dict, actual: dict) -> tuple[bool, dict]:
    differences = describe_differences(expected, actual)
    return not differences, {
        "series_compared": len(expected),
        "differences": MetadataValue.md("\n".join(f"- {d}" for d in differences[:50]) or "none"),
    }


def build_elhub_assets(spec: ElhubAssetSpec) -> list[AssetsDefinition]:
    raw_key, cassandra_key, mongo_key = spec.key("raw"), spec.key("cassandra"), spec.key("mongo")
    dataset_id = spec.dataset.dataset_id
    group_column = spec.group_column

    @asset(
        key=raw_key,
        description=(
            f"Hourly `{dataset_id}` rows from the Elhub Energy Data API for one local month and price "
            "area, validated (shape, values, every local hour) and stored as Parquet. Times are UTC."
        ),
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        retry_policy=FETCH_RETRY,
        io_manager_key="parquet_io_manager",
        dagster_type=raw_frame_type(spec.dataset),
        group_name=spec.group_name,
        kinds={"python", "pandas", "parquet"},
        check_specs=[
            AssetCheckSpec("no_duplicate_keys", asset=raw_key, blocking=True),
            AssetCheckSpec("quantities_finite_non_negative", asset=raw_key, blocking=True),
            AssetCheckSpec("hours_complete", asset=raw_key, blocking=True),
        ],
    )
    def raw_asset(context: AssetExecutionContext, elhub: ElhubResource) -> Iterator:
        partitions = parse_partition_keys(context.partition_keys)
        client = elhub.client()
        frames, reports = [], []
        requests_before = client.requests_made
        for start, end, areas in fetch_plan(partitions):
            result = client.fetch(spec.dataset, start=start, end=end, areas=areas)
            frames.append(result.frame)
            reports.append(result.report.as_metadata())
        frame = pd.concat(frames, ignore_index=True)
        # Per partition: its own row count, sums and chart, so each partition's
        # materialization in the UI describes that (month, area) alone.
        by_partition = dict(iter(frame.groupby(partition_key_column(frame), sort=False)))
        for p in partitions:
            rows = by_partition.get(p.key, frame.iloc[0:0])
            context.add_asset_metadata({
                "dagster/row_count": len(rows),
                "sums_kwh_per_group": MetadataValue.json(sums_per_group(rows, group_column)),
                "chart": chart_metadata(rows, group_column, f"{p.price_area} {p.month} {spec.name} per group"),
            }, partition_key=p.key)
        yield Output(frame, metadata={
            "requests": client.requests_made - requests_before,
            REVISIONS_METADATA_KEY: MetadataValue.json(revision_fingerprints(frame)),
            "fetch_reports": MetadataValue.json(reports),
            "preview": MetadataValue.md(frame.head(10).to_markdown(index=False) if len(frame) else "empty"),
        })
        published_until = frame["end_time"].max() if len(frame) else pd.Timestamp.now(tz="UTC")
        for name, (passed, metadata) in {
            "no_duplicate_keys": check_no_duplicate_keys(frame, group_column),
            "quantities_finite_non_negative": check_quantities_valid(frame),
            "hours_complete": check_hours_complete(frame, group_column, partitions, published_until),
        }.items():
            yield _check_result(name, raw_key, passed, metadata)

    @asset(
        key=cassandra_key,
        description=(
            f"`{dataset_id}` in Cassandra table `{spec.cassandra_table}`, written through Spark with the "
            "Spark Cassandra Connector. Primary key ((price_area, month), "
            f"{group_column}, start_time); reruns upsert and delete only stale rows."
        ),
        ins={"raw": AssetIn(raw_key)},
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        io_manager_key="cassandra_io_manager",
        group_name=spec.group_name,
        kinds={"spark", "cassandra"},
        metadata={
            TABLE_KEY: spec.cassandra_table,
            CLUSTERING_KEY: [group_column, "start_time"],
            GROUP_COLUMN_KEY: group_column,
        },
        check_specs=[AssetCheckSpec("matches_raw", asset=cassandra_key, blocking=True)],
    )
    def cassandra_asset(context: AssetExecutionContext, raw: pd.DataFrame, cassandra: CassandraResource) -> Iterator:
        rows = store_rows(raw, spec)
        yield Output(rows)
        # The IO manager has written by now: read it back with the plain driver.
        partitions = parse_partition_keys(context.partition_keys)
        actual = cassandra_summary(cassandra, spec.cassandra_table, group_column, partitions)
        passed, metadata = _matches(summarize(rows, group_column), actual)
        yield _check_result("matches_raw", cassandra_key, passed, metadata)

    @asset(
        key=mongo_key,
        description=(
            f"`{dataset_id}` for dashboards: read back from Cassandra through Spark and stored in "
            f"MongoDB collection `{spec.mongo_collection}`, one document per (price_area, "
            f"{group_column}, start_time) under a unique index, with its local `month` and the "
            "`day_key` (area|group|local day) the daily-totals view groups by."
        ),
        ins={"stored": AssetIn(cassandra_key)},
        partitions_def=ELHUB_PARTITIONS,
        backfill_policy=SINGLE_RUN,
        io_manager_key="mongo_io_manager",
        group_name=spec.group_name,
        kinds={"spark", "mongodb"},
        metadata={COLLECTION_KEY: spec.mongo_collection, GROUP_COLUMN_KEY: group_column},
        check_specs=[AssetCheckSpec("matches_cassandra", asset=mongo_key, blocking=True)],
    )
    def mongo_asset(context: AssetExecutionContext, stored: SparkDataFrame, mongo: MongoResource) -> Iterator:
        rows = spark_to_pandas(stored)[spec.store_columns]
        yield Output(with_day_key(rows, group_column))
        partitions = parse_partition_keys(context.partition_keys)
        actual = mongo_summary(mongo, spec.mongo_collection, group_column, partitions)
        passed, metadata = _matches(summarize(rows, group_column), actual)
        yield _check_result("matches_cassandra", mongo_key, passed, metadata)

    return [raw_asset, cassandra_asset, mongo_asset]

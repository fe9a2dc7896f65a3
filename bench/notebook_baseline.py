"""The notebook way to load the same year, for benchmark 3 (run by `python -m bench.baseline`).

    python -m bench.notebook_baseline --url URL --namespace NAME

Sequential `requests.get`, one per (area, month, production group) with the API's
`productionGroup` filter; `pandas.concat`; one Spark write to Cassandra (append, its own
table); a full read-back with `toPandas`; `insert_many` into MongoDB. No retries, no
validation, no partitions, no Dagster runs. Where the services are, and Spark's config,
come from the platform's own resources (`build_resources`), so endpoints and jars match;
importing the definitions for that is part of `imports_s`.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import ExitStack

t0 = time.perf_counter()

import pandas as pd  # noqa: E402
import requests  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from pymongo import MongoClient  # noqa: E402

from ind320_assets.definitions import build_resources  # noqa: E402
from ind320_devkit.local_services.runtime_env import apply_runtime_environment  # noqa: E402

AREAS = ["NO1", "NO2", "NO3", "NO4", "NO5"]
GROUPS = ["hydro", "other", "solar", "thermal", "wind"]
MONTH_STARTS = [f"2021-{m:02d}-01" for m in range(1, 13)] + ["2022-01-01"]
TABLE = "production_baseline"
COLUMNS = {
    "priceArea": "price_area",
    "productionGroup": "production_group",
    "startTime": "start_time",
    "endTime": "end_time",
    "lastUpdatedTime": "last_updated_time",
    "quantityKwh": "quantity_kwh",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the replay server's base URL")
    parser.add_argument("--namespace", required=True, help="Cassandra keyspace and Mongo database to write into")
    parser.add_argument("--months", type=int, default=12, help="only the first N months of 2021 (a quick try)")
    args = parser.parse_args()
    months = MONTH_STARTS[: args.months + 1]
    apply_runtime_environment()
    resources = build_resources(cassandra={"keyspace": args.namespace}, mongo={"database": args.namespace})
    t = {"imports_s": time.perf_counter() - t0}
    with ExitStack() as stack:
        run(args, months, resources, stack, t)


def run(args: argparse.Namespace, months: list[str], resources: dict, stack: ExitStack, t: dict) -> None:
    # Only their settings are used here: the notebook opens its own clients.
    cassandra = stack.enter_context(resources["cassandra"].process_config_and_initialize_cm())
    mongo_settings = stack.enter_context(resources["mongo"].process_config_and_initialize_cm())

    # 1. Fetch: one request per (area, month, group), one after the other.
    start = time.perf_counter()
    frames, requests_sent = [], 0
    for area in AREAS:
        for month_start, month_end in zip(months, months[1:]):
            for group in GROUPS:
                response = requests.get(
                    f"{args.url}/price-areas/{area}",
                    params={"dataset": "PRODUCTION_PER_GROUP_MBA_HOUR", "startDate": month_start,
                            "endDate": month_end, "productionGroup": group},
                    timeout=60,
                )
                requests_sent += 1
                response.raise_for_status()
                records = [
                    record
                    for item in response.json()["data"]
                    for record in item["attributes"]["productionPerGroupMbaHour"]
                ]
                frames.append(pd.DataFrame(records))
    df = pd.concat(frames, ignore_index=True).rename(columns=COLUMNS)[list(COLUMNS.values())]
    for column in ("start_time", "end_time", "last_updated_time"):
        df[column] = pd.to_datetime(df[column], utc=True)
    df.insert(1, "month", df["start_time"].dt.tz_convert("Europe/Oslo").dt.strftime("%Y-%m"))
    t["fetch_s"] = time.perf_counter() - start

    # 2. Spark with the connector (the platform's own config, so the jars and settings match).
    start = time.perf_counter()
    spark = stack.enter_context(resources["spark"].process_config_and_initialize_cm()).spark_session
    t["spark_start_s"] = time.perf_counter() - start

    # 3. One Spark write to Cassandra, into a table made for it.
    start = time.perf_counter()
    cluster = Cluster(cassandra.contact_points, port=cassandra.port)
    cql = cluster.connect()
    cql.execute(f"CREATE KEYSPACE IF NOT EXISTS {args.namespace} "
                "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", timeout=60)
    cql.execute(
        f"CREATE TABLE IF NOT EXISTS {args.namespace}.{TABLE} (price_area text, month text, "
        "production_group text, start_time timestamp, end_time timestamp, last_updated_time timestamp, "
        "quantity_kwh double, PRIMARY KEY ((price_area, month), production_group, start_time))",
        timeout=60,
    )
    t["create_table_s"] = time.perf_counter() - start
    start = time.perf_counter()
    spark.createDataFrame(df).write.format("org.apache.spark.sql.cassandra") \
        .options(keyspace=args.namespace, table=TABLE).mode("append").save()
    t["cassandra_write_s"] = time.perf_counter() - start

    # 4. Read it all back.
    start = time.perf_counter()
    back = spark.read.format("org.apache.spark.sql.cassandra").options(keyspace=args.namespace, table=TABLE) \
        .load().toPandas()
    t["read_back_s"] = time.perf_counter() - start

    # 5. Into MongoDB.
    start = time.perf_counter()
    mongo = MongoClient(mongo_settings.uri)
    collection = mongo[args.namespace][TABLE]
    collection.insert_many(back.to_dict("records"))
    t["mongo_write_s"] = time.perf_counter() - start

    t["total_in_process_s"] = time.perf_counter() - t0
    print(json.dumps({
        **{k: round(v, 2) for k, v in t.items()},
        "requests_sent": requests_sent,
        "rows_fetched": len(df),
        "rows_read_back": len(back),
        "quantity_kwh_sum": round(float(df["quantity_kwh"].sum()), 1),
    }), flush=True)
    mongo.close()
    cluster.shutdown()
    spark.stop()


if __name__ == "__main__":
    main()

"""Benchmark 4: raw write limits of the two stores with the same rows.

    python -m bench.raw_limits [--latency-ms 150] [--concurrency 100] [--ours bench/results/backfill_chain.json]

The rows are the full 2021 production year exactly as the replay server serves it
(`ReplayServer.frame`), in the stored column layout. Cassandra: cassandra-driver
prepared INSERTs through `execute_concurrent_with_args` into a table with our schema.
MongoDB: one `pymongo` `insert_many(ordered=False)` of the same documents our IO
manager builds (`to_documents`), into a collection with the same two indexes.
With `--ours` it reports each of our write stages as a fraction of its raw limit
(rows/s ours / rows/s raw). Prints one JSON line.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from bench.common import (
    base_parser,
    emit,
    fresh_namespace,
    header,
    load_json,
    log,
    per_s,
    prepare_environment,
    r,
    ratio,
    replay_server,
    resource,
)

TABLE = "production_raw_limit"
COLLECTION = "production_raw_limit"


def main(argv: list[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=100,
                        help="in-flight requests for execute_concurrent_with_args (default 100)")
    parser.add_argument("--months", type=int, default=12, help="only the first N months of 2021 (a quick try)")
    parser.add_argument("--ours", type=Path, default=None, help="benchmark 1's JSON line, for the fractions")
    args = parser.parse_args(argv)
    prepare_environment()

    from cassandra.concurrent import execute_concurrent_with_args

    from ind320_assets.assets.datasets import PRODUCTION_SPEC
    from ind320_assets.assets.elhub_pipeline import store_rows
    from ind320_assets.mongo_documents import indexes, to_documents

    result = header("raw_write_limits", args.latency_ms)
    schema = PRODUCTION_SPEC.stored_schema
    next_month = date(2021 + args.months // 12, args.months % 12 + 1, 1)
    result["months"] = args.months
    with replay_server(args.latency_ms) as server, fresh_namespace("raw") as namespace:
        rows = store_rows(server.frame(PRODUCTION_SPEC.dataset, date(2021, 1, 1), next_month), PRODUCTION_SPEC)
        n = len(rows)
        log(f"{n} rows")

        # --- Cassandra -------------------------------------------------------------------
        with resource("cassandra", cassandra={"keyspace": namespace}) as cassandra:
            session = cassandra.session()
            cassandra.ensure_keyspace()
            session.execute(schema.create_table_cql(f"{namespace}.{TABLE}"), timeout=120)
            columns = schema.names
            insert = session.prepare(
                f"INSERT INTO {namespace}.{TABLE} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            )
            start = time.perf_counter()
            values = [[t.to_pydatetime() for t in rows[c]] if c.endswith("_time") else rows[c].to_numpy() for c in columns]
            params = list(zip(*values))
            cassandra_prepare_s = time.perf_counter() - start
            log(f"cassandra: {n} prepared inserts, concurrency {args.concurrency}")
            start = time.perf_counter()
            outcomes = execute_concurrent_with_args(
                session, insert, params, concurrency=args.concurrency, raise_on_first_error=True
            )
            cassandra_insert_s = time.perf_counter() - start
            stored = session.execute(f"SELECT COUNT(*) FROM {namespace}.{TABLE}", timeout=120).one()[0]
            cassandra_failures = sum(1 for ok, _ in outcomes if not ok)

        # --- MongoDB ---------------------------------------------------------------------
        with resource("mongo", mongo={"database": namespace}) as mongo:
            collection = mongo.db()[COLLECTION]
            collection.create_indexes(indexes(schema))
            start = time.perf_counter()
            documents = to_documents(rows, schema)
            mongo_prepare_s = time.perf_counter() - start
            log(f"mongo: insert_many of {len(documents)} documents")
            start = time.perf_counter()
            collection.insert_many(documents, ordered=False)
            mongo_insert_s = time.perf_counter() - start
            documents_stored = collection.count_documents({})

    raw_cassandra_rps = per_s(n, cassandra_insert_s)
    raw_mongo_rps = per_s(n, mongo_insert_s)
    result.update({
        "rows": n,
        "cassandra": {
            "prepare_params_s": r(cassandra_prepare_s),
            "insert_s": r(cassandra_insert_s),
            "rows_per_s": raw_cassandra_rps,
            "concurrency": args.concurrency,
            "rows_stored": stored,
            "failures": cassandra_failures,
        },
        "mongo": {
            "build_documents_s": r(mongo_prepare_s),
            "insert_many_s": r(mongo_insert_s),
            "rows_per_s": raw_mongo_rps,
            "documents_stored": documents_stored,
        },
    })

    ours = load_json(args.ours)
    if ours is not None:
        stages = ours.get("stages", {})
        ours_rows = ours.get("rows")
        cassandra_stage, mongo_stage = stages.get("cassandra", {}), stages.get("mongo", {})
        ours_rps = {
            # The IO manager's write (handle_output): includes starting Spark for the Cassandra step.
            "cassandra_write": per_s(ours_rows, cassandra_stage.get("handle_output_s")),
            "cassandra_step": per_s(ours_rows, cassandra_stage.get("step_s")),
            "mongo_write": per_s(ours_rows, mongo_stage.get("handle_output_s")),
            "mongo_step": per_s(ours_rows, mongo_stage.get("step_s")),
        }
        result["ours"] = {"source": str(args.ours), "rows": ours_rows, "rows_per_s": ours_rps}
        result["same_rows"] = ours_rows == n
        result["ours_fraction_of_raw"] = {
            "cassandra_write": ratio(ours_rps["cassandra_write"], raw_cassandra_rps),
            "cassandra_step": ratio(ours_rps["cassandra_step"], raw_cassandra_rps),
            "mongo_write": ratio(ours_rps["mongo_write"], raw_mongo_rps),
            "mongo_step": ratio(ours_rps["mongo_step"], raw_mongo_rps),
        }
    emit(result, args.out)


if __name__ == "__main__":
    main()

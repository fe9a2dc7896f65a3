"""The aggregation pipelines behind the dashboard views.

They must run on FerretDB 1.x as well as MongoDB, so they use only `$match`,
`$group` with `$sum`, `$sort` and `$project`, and never more than one
accumulator per `$group`: FerretDB computes only the first and returns 0 for
the rest. They group by one precomputed string key rather than a compound
`_id` document: on FerretDB 1.24 (SQLite) grouping a year of production by a
compound key took 533 s, by a string key with as many values ~30 s.
"""

from __future__ import annotations


def totals_by_key(match: dict, key_field: str) -> list[dict]:
    """kWh per value of `key_field` over the documents `match` selects."""
    return [
        {"$match": match},
        {"$group": {"_id": f"${key_field}", "quantity_kwh": {"$sum": "$quantity_kwh"}}},
    ]


def hourly_rows(match: dict, group_column: str) -> list[dict]:
    """The hourly values the series view is shaped from, in time order, nothing else."""
    return [
        {"$match": match},
        {"$sort": {"start_time": 1}},
        {"$project": {"_id": 0, "price_area": 1, "month": 1, group_column: 1, "start_time": 1, "quantity_kwh": 1}},
    ]

"""The dashboard views' pipelines stay within what FerretDB 1.x computes correctly."""

import pytest

from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.views import pipelines
from ind320_assets.views.refresh import day_key

FERRETDB_STAGES = {"$match", "$group", "$sort", "$project"}
MATCH = PartitionSlice.from_keys(["2021-10-01|NO1", "2021-11-01|NO1", "2021-10-01|NO2"]).mongo_filter()


@pytest.mark.parametrize("pipeline", [
    pipelines.totals_by_key(MATCH, "day_key"),
    pipelines.totals_by_key(MATCH, "year_key"),
    pipelines.hourly_rows(MATCH, "production_group"),
])
def test_pipelines_use_only_stages_and_accumulators_ferretdb_supports(pipeline):
    assert pipeline[0] == {"$match": MATCH}  # filter first: never aggregate the whole collection
    for stage in pipeline:
        (name, body), = stage.items()
        assert name in FERRETDB_STAGES
        if name == "$group":
            accumulators = {k: v for k, v in body.items() if k != "_id"}
            assert len(accumulators) == 1 and all(set(v) == {"$sum"} for v in accumulators.values())
            assert isinstance(body["_id"], str), "group by one string key: compound keys are slow on FerretDB"


def test_a_partition_filter_is_one_clause_per_area_never_a_cross_product():
    assert MATCH == {"$or": [
        {"price_area": "NO1", "month": {"$in": ["2021-10", "2021-11"]}},
        {"price_area": "NO2", "month": {"$in": ["2021-10"]}},
    ]}


def test_day_key_is_the_daily_views_id():
    assert day_key("NO1", "hydro", "2021-10-31") == "NO1|hydro|2021-10-31"

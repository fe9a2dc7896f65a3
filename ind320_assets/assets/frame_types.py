"""dagster-pandas types that state what a raw Elhub frame must look like."""

from __future__ import annotations

from dagster import DagsterType
from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type

from ind320_assets.domain import PRICE_AREAS, UNSPECIFIED_GROUP, ElhubDataset


def raw_frame_type(dataset: ElhubDataset) -> DagsterType:
    columns = [
        PandasColumn.categorical_column("price_area", categories=set(PRICE_AREAS), non_nullable=True),
        PandasColumn.categorical_column(
            dataset.group_column, categories={*dataset.groups, UNSPECIFIED_GROUP}, non_nullable=True
        ),
        PandasColumn.datetime_column("start_time", tz="UTC", non_nullable=True),
        PandasColumn.datetime_column("end_time", tz="UTC", non_nullable=True),
        PandasColumn.datetime_column("last_updated_time", tz="UTC", non_nullable=True),
        PandasColumn.float_column("quantity_kwh", min_value=0.0, non_nullable=True),
        PandasColumn.boolean_column("is_unspecified_group", non_nullable=True),
        *(
            PandasColumn.integer_column(column, min_value=0, non_nullable=True)
            for column in dataset.extra_int_fields.values()
        ),
    ]
    return create_dagster_pandas_dataframe_type(
        name=f"Elhub{dataset.list_attribute[0].upper()}{dataset.list_attribute[1:]}Frame",
        description=f"Hourly {dataset.dataset_id} rows, one per (price_area, {dataset.group_column}, start_time), UTC.",
        columns=columns,
    )

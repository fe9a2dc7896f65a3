"""The fixed columns and dtypes of an Elhub frame, shared by the client and the replay."""

from __future__ import annotations

import pandas as pd

from ind320_assets.domain import ElhubDataset

UTC_DTYPE = "datetime64[ns, UTC]"


def frame_dtypes(dataset: ElhubDataset) -> dict[str, str]:
    """Column name -> dtype, in column order, for one dataset."""
    dtypes = {
        "price_area": "object",
        dataset.group_column: "object",
        "start_time": UTC_DTYPE,
        "end_time": UTC_DTYPE,
        "last_updated_time": UTC_DTYPE,
        "quantity_kwh": "float64",
        "is_unspecified_group": "bool",
    }
    dtypes.update({column: "int64" for column in dataset.extra_int_fields.values()})
    return dtypes


def series_key_columns(dataset: ElhubDataset) -> list[str]:
    """The columns that name one series: area and group."""
    return ["price_area", dataset.group_column]


def row_key_columns(dataset: ElhubDataset) -> list[str]:
    """The columns that identify one row: area, group and hour."""
    return [*series_key_columns(dataset), "start_time"]


def empty_frame(dataset: ElhubDataset) -> pd.DataFrame:
    """A frame with no rows and the dataset's exact schema."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in frame_dtypes(dataset).items()})


def conform(frame: pd.DataFrame, dataset: ElhubDataset) -> pd.DataFrame:
    """Select the schema's columns in order, cast, sort by area, group, hour and renumber."""
    dtypes = frame_dtypes(dataset)
    out = frame[list(dtypes)].astype(dtypes)
    return out.sort_values(row_key_columns(dataset), kind="stable").reset_index(drop=True)

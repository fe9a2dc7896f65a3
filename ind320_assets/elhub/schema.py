"""The client's frames follow the dataset's raw row schema (`ind320_assets/row_schema.py`)."""

from __future__ import annotations

import pandas as pd

from ind320_assets.domain import ElhubDataset
from ind320_assets.row_schema import raw_schema


def frame_dtypes(dataset: ElhubDataset) -> dict[str, str]:
    """Column name -> dtype, in column order, for one dataset."""
    return raw_schema(dataset).pandas_dtypes()


def series_key_columns(dataset: ElhubDataset) -> list[str]:
    """The columns that name one series: area, and group when the dataset has one."""
    return list(raw_schema(dataset).series_columns)


def row_key_columns(dataset: ElhubDataset) -> list[str]:
    """The columns that identify one row: area, [group,] and hour."""
    return list(raw_schema(dataset).row_key)


def empty_frame(dataset: ElhubDataset) -> pd.DataFrame:
    """A frame with no rows and the dataset's exact schema."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in frame_dtypes(dataset).items()})


def conform(frame: pd.DataFrame, dataset: ElhubDataset) -> pd.DataFrame:
    """Select the schema's columns in order, cast, sort by area, group, hour and renumber."""
    dtypes = frame_dtypes(dataset)
    out = frame[list(dtypes)].astype(dtypes)
    return out.sort_values(row_key_columns(dataset), kind="stable").reset_index(drop=True)

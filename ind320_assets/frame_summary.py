"""Row counts and exactly-rounded kWh sums per (partition, series).

IO managers report these as metadata and asset checks compare them between
stores. `math.fsum` makes a sum independent of row order, so two stores holding
the same values give bit-identical totals however they return them.

A series is what one sum or one chart line is of (`series_quantities`): a group
for a dataset with groups and one quantity (`hydro`), a quantity column for a
dataset without groups (`exchange_in_quantity_kwh`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ind320_assets.domain import DEFAULT_QUANTITY_COLUMNS, UNSPECIFIED_GROUP
from ind320_assets.partition_slice import PartitionSlice

SummaryKey = tuple[str, str]  # (partition key, series)
SERIES, KWH = "series", "kwh"  # the long form's columns


def series_quantities(
    frame: pd.DataFrame, group_column: str | None, quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS
) -> pd.DataFrame:
    """The frame in long form: one row per (row, quantity column), the quantity in `kwh` and what
    it is a value of in `series`: the group with one quantity column, the column without a group,
    `group/column` with both. The other columns are kept."""
    others = frame.drop(columns=list(quantity_columns))
    parts = []
    for column in quantity_columns:
        if group_column is None:
            label: object = column
        elif len(quantity_columns) == 1:
            label = frame[group_column].to_numpy()
        else:
            label = (frame[group_column] + f"/{column}").to_numpy()
        parts.append(others.assign(**{SERIES: label, KWH: frame[column].to_numpy()}))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def summarize(
    frame: pd.DataFrame,
    partitions: PartitionSlice,
    group_column: str | None,
    quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS,
) -> dict[SummaryKey, tuple[int, float]]:
    """{(partition key, series): (rows, kWh)} for a frame of the slice's rows."""
    if frame.empty:
        return {}
    keyed = series_quantities(frame.assign(_partition=partitions.row_keys(frame)), group_column, quantity_columns)
    return {
        (partition, series): (len(rows), math.fsum(rows[KWH]))
        for (partition, series), rows in keyed.groupby(["_partition", SERIES], sort=True)
    }


def sums_per_group(
    frame: pd.DataFrame, group_column: str | None, quantity_columns: Sequence[str] = DEFAULT_QUANTITY_COLUMNS
) -> dict[str, float]:
    """kWh per series over the whole frame; the unspecified group `*` is listed but apart."""
    if frame.empty:
        return {}
    long = series_quantities(frame, group_column, quantity_columns)
    return {str(series): math.fsum(rows[KWH]) for series, rows in long.groupby(SERIES, sort=True)}


def total_kwh(frame: pd.DataFrame, group_column: str) -> float:
    """The total over base groups: Elhub's `*` group never counts towards totals."""
    return math.fsum(frame.loc[frame[group_column] != UNSPECIFIED_GROUP, "quantity_kwh"])


def describe_differences(
    expected: dict[SummaryKey, tuple[int, float]], actual: dict[SummaryKey, tuple[int, float]]
) -> list[str]:
    """Human-readable lines for every (partition, series) whose rows or sum differ."""
    lines = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key, (0, 0.0)), actual.get(key, (0, 0.0))
        if want != got:
            lines.append(f"{key[0]} {key[1]}: expected {want[0]} rows / {want[1]!r} kWh, found {got[0]} / {got[1]!r}")
    return lines

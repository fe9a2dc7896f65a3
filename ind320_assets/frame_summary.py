"""Row counts and exactly-rounded kWh sums per (partition, group).

IO managers report these as metadata and asset checks compare them between
stores. `math.fsum` makes a sum independent of row order, so two stores holding
the same values give bit-identical totals however they return them.
"""

from __future__ import annotations

import math

import pandas as pd

from ind320_assets.domain import UNSPECIFIED_GROUP
from ind320_assets.partition_slice import PartitionSlice

SummaryKey = tuple[str, str]  # (partition key, group)


def summarize(
    frame: pd.DataFrame, partitions: PartitionSlice, group_column: str
) -> dict[SummaryKey, tuple[int, float]]:
    """{(partition key, group): (rows, kWh)} for a frame of the slice's rows."""
    if frame.empty:
        return {}
    keyed = frame.assign(_partition=partitions.row_keys(frame))
    return {
        (partition, group): (len(rows), math.fsum(rows["quantity_kwh"]))
        for (partition, group), rows in keyed.groupby(["_partition", group_column], sort=True)
    }


def sums_per_group(frame: pd.DataFrame, group_column: str) -> dict[str, float]:
    """kWh per group over the whole frame; the unspecified group `*` is listed but apart."""
    if frame.empty:
        return {}
    return {
        str(group): math.fsum(rows["quantity_kwh"])
        for group, rows in frame.groupby(group_column, sort=True)
    }


def total_kwh(frame: pd.DataFrame, group_column: str) -> float:
    """The total over base groups: Elhub's `*` group never counts towards totals."""
    return math.fsum(frame.loc[frame[group_column] != UNSPECIFIED_GROUP, "quantity_kwh"])


def describe_differences(
    expected: dict[SummaryKey, tuple[int, float]], actual: dict[SummaryKey, tuple[int, float]]
) -> list[str]:
    """Human-readable lines for every (partition, group) whose rows or sum differ."""
    lines = []
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key, (0, 0.0)), actual.get(key, (0, 0.0))
        if want != got:
            lines.append(f"{key[0]} {key[1]}: expected {want[0]} rows / {want[1]!r} kWh, found {got[0]} / {got[1]!r}")
    return lines

"""Judge a raw Elhub frame before it may flow downstream.

Only what can really happen is checked here: the parser already refuses bad
quantities and conflicting duplicates, so those cannot reach a check. What can
reach it is a hole in a series, a series that stops before Elhub's publication
does, and a revision that withdraws rows. Each function returns
`(passed, metadata)`; the asset turns that into an `AssetCheckResult`.
"""

from __future__ import annotations

import pandas as pd

from ind320_assets.domain import ElhubDataset
from ind320_assets.elhub.report import assess_completeness
from ind320_assets.elhub.windows import expected_local_hours
from ind320_assets.partition_slice import PartitionSlice
from ind320_assets.revisions import Fingerprints

CheckOutcome = tuple[bool, dict]


def check_hours_complete(
    frame: pd.DataFrame, dataset: ElhubDataset, partitions: PartitionSlice, published_until: pd.Timestamp
) -> CheckOutcome:
    """Every series in each partition has every local hour of its month.

    Allowed, and reported: a series that starts late and is complete from then
    on (NO5 wind began 2021-06-02), and the unpublished tail of the current
    month (hours at or after `published_until`). Any hole is a failure, and so
    is a series that stops before the others' publication does.
    """
    rows_by_key = partitions.split(frame)
    late_starts: dict[str, str] = {}
    gaps: dict[str, int] = {}
    series_checked = 0
    for p in partitions:
        found = assess_completeness(rows_by_key[p.key], dataset, p.month_start, p.month_end, (p.price_area,))
        series_checked += len(found.series_rows)
        for series, first in found.late_starts.items():
            late_starts[_series_name(p.key, series)] = first.isoformat()
        for series, holes in found.gaps.items():
            gaps[_series_name(p.key, series)] = len(holes)
        hours = expected_local_hours(p.month_start, p.month_end)
        for series, last in found.early_ends.items():
            # A series may end where Elhub's publication ends; hours before that are missing.
            missing_tail = int(((hours > last) & (hours < published_until)).sum())
            if missing_tail:
                name = _series_name(p.key, series)
                gaps[name] = gaps.get(name, 0) + missing_tail
    return not gaps, {"series_checked": series_checked, "late_starts": late_starts, "gaps": gaps}


def _series_name(partition_key: str, series: tuple[str, ...]) -> str:
    """`2021-06-01|NO5 wind`; a series without a group is named by its partition alone."""
    return " ".join((partition_key, *series[1:]))


def check_rows_not_withdrawn(loaded: Fingerprints, previous: Fingerprints) -> CheckOutcome:
    """No partition holds fewer rows than its previous materialization did.

    Elhub may legitimately withdraw hours, so this warns rather than blocks: a
    partition that shrinks is worth a look before a dashboard shows it.
    """
    shrunk = {
        key: {"before": previous[key]["rows"], "now": loaded.get(key, {}).get("rows", 0)}
        for key in sorted(previous)
        if loaded.get(key, {}).get("rows", 0) < previous[key]["rows"]
    }
    return not shrunk, {"partitions_compared": len(previous), "shrunk": shrunk}

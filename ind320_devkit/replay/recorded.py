"""The one real Elhub response we ship, replayed verbatim for its hours.

A PRODUCTION_PER_GROUP_MBA_HOUR default-window response recorded around
2025-11-19 (see data/PROVENANCE.md): 2025-10-20 09:00 to 2025-11-18 23:00 local,
all areas and groups, including the `*` group.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from ind320_assets.domain import PRODUCTION, UNSPECIFIED_GROUP
from ind320_assets.elhub.schema import conform

RECORDED_PRODUCTION_CSV = Path(__file__).parent / "data" / "recorded_production_2025-10-20_2025-11-18.csv.gz"
# First hour and exclusive end of the recording, as UTC instants.
RECORDED_START = pd.Timestamp("2025-10-20T07:00:00Z")
RECORDED_END = pd.Timestamp("2025-11-18T23:00:00Z")


@lru_cache(maxsize=1)
def recorded_production() -> pd.DataFrame:
    """The recorded rows in the client's frame schema (UTC instants, `*` flagged)."""
    raw = pd.read_csv(RECORDED_PRODUCTION_CSV, dtype={"priceArea": str, "productionGroup": str})
    frame = pd.DataFrame(
        {
            "price_area": raw["priceArea"],
            PRODUCTION.group_column: raw["productionGroup"],
            # startTime was re-serialised with a space by pandas; its offset is intact.
            "start_time": pd.to_datetime(raw["startTime"], format="ISO8601", utc=True),
            "end_time": pd.to_datetime(raw["endTime"], format="ISO8601", utc=True),
            "last_updated_time": pd.to_datetime(raw["lastUpdatedTime"], format="ISO8601", utc=True),
            "quantity_kwh": raw["quantityKwh"].astype("float64"),
            "is_unspecified_group": raw["productionGroup"] == UNSPECIFIED_GROUP,
        }
    )
    return conform(frame, PRODUCTION)

"""What a MongoDB collection of day documents holds, as rows, for the tests' assertions."""

from __future__ import annotations

import pandas as pd
from pymongo.collection import Collection

from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.mongo_documents import to_rows


def mongo_row_count(collection: Collection, where: dict | None = None) -> int:
    """Rows = elements of the day documents' `start_time` arrays."""
    return sum(len(d["start_time"]) for d in collection.find(where or {}, {"start_time": 1}))


def mongo_rows(collection: Collection, spec: ElhubAssetSpec, where: dict | None = None) -> pd.DataFrame:
    return to_rows(list(collection.find(where or {})), spec.stored_schema)

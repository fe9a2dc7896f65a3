"""Client for Elhub's Energy Data API (MBA-hour datasets) and its local replay.

The client lives here; the replay server is in `ind320_devkit.replay`
and is only imported by whoever runs it.
"""

from ind320_assets.elhub.client import DEFAULT_BASE_URL, SENT_PARAMETERS, ElhubClient
from ind320_assets.elhub.errors import ElhubApiError, ElhubDataError
from ind320_assets.elhub.parsing import parse_price_areas
from ind320_assets.elhub.report import FetchReport, FetchResult
from ind320_assets.elhub.schema import empty_frame, frame_dtypes
from ind320_assets.elhub.updates import UPDATES_PARAMETERS, Update, Updates, parse_updates, touched_partitions
from ind320_assets.elhub.windows import DateWindow, expected_local_hours, month_windows

__all__ = [
    "DEFAULT_BASE_URL",
    "SENT_PARAMETERS",
    "UPDATES_PARAMETERS",
    "Update",
    "Updates",
    "DateWindow",
    "ElhubApiError",
    "ElhubClient",
    "ElhubDataError",
    "FetchReport",
    "FetchResult",
    "empty_frame",
    "expected_local_hours",
    "frame_dtypes",
    "month_windows",
    "parse_price_areas",
    "parse_updates",
    "touched_partitions",
]

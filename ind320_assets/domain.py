"""Facts about the Elhub domain that every module shares.

Price areas, datasets and their groups live here and nowhere else, so adding a
dataset means declaring one more `ElhubDataset` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OSLO_TZ = "Europe/Oslo"
PRICE_AREAS: tuple[str, ...] = ("NO1", "NO2", "NO3", "NO4", "NO5")
PRICE_AREA_EIC: dict[str, str] = {
    "NO1": "10YNO-1--------2",
    "NO2": "10YNO-2--------T",
    "NO3": "10YNO-3--------J",
    "NO4": "10YNO-4--------9",
    "NO5": "10Y1001A1001A48H",
}
# Elhub's "unspecified" group. Kept in the data, flagged, and left out of totals.
UNSPECIFIED_GROUP = "*"
# The first month Elhub publishes the MBA-level datasets for.
FIRST_MONTH = "2021-01-01"


@dataclass(frozen=True)
class ElhubDataset:
    """One Elhub MBA-hour dataset and how its records map onto our columns."""

    dataset_id: str  # e.g. PRODUCTION_PER_GROUP_MBA_HOUR, as sent in `dataset=`
    group_field: str  # the API's record field naming the group, e.g. productionGroup
    group_column: str  # our column for it, e.g. production_group
    groups: tuple[str, ...]  # the base groups that make up totals
    # Extra integer fields of a record, API name -> our column name.
    extra_int_fields: dict[str, str] = field(default_factory=dict)

    @property
    def list_attribute(self) -> str:
        """The camelCase attribute that holds the records, e.g. productionPerGroupMbaHour."""
        head, *rest = self.dataset_id.lower().split("_")
        return head + "".join(part.capitalize() for part in rest)


PRODUCTION = ElhubDataset(
    dataset_id="PRODUCTION_PER_GROUP_MBA_HOUR",
    group_field="productionGroup",
    group_column="production_group",
    groups=("hydro", "other", "solar", "thermal", "wind"),
)
CONSUMPTION = ElhubDataset(
    dataset_id="CONSUMPTION_PER_GROUP_MBA_HOUR",
    group_field="consumptionGroup",
    group_column="consumption_group",
    groups=("cabin", "household", "primary", "secondary", "tertiary"),
    extra_int_fields={"meteringPointCount": "metering_point_count"},
)
DATASETS: dict[str, ElhubDataset] = {d.dataset_id: d for d in (PRODUCTION, CONSUMPTION)}

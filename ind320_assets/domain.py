"""Facts about the Elhub domain that every module shares.

Price areas, datasets and their groups live here and nowhere else, so adding a
dataset means declaring one more `ElhubDataset` below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def column_name(api_field: str) -> str:
    """Our snake_case column for an API record field: `exchangeInQuantityKwh` -> `exchange_in_quantity_kwh`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", api_field).lower()


@dataclass(frozen=True)
class ElhubDataset:
    """One Elhub MBA-hour dataset and how its records map onto our columns.

    A dataset has one series per price area, or one per (price area, group)
    when it names a group field; each record carries one or more kWh quantities.
    """

    dataset_id: str  # e.g. PRODUCTION_PER_GROUP_MBA_HOUR, as sent in `dataset=`
    group_field: str | None = None  # the API's record field naming the group, e.g. productionGroup; None: no group
    group_column: str | None = None  # our column for it, e.g. production_group
    groups: tuple[str, ...] = ()  # the base groups that make up totals
    # Extra integer fields of a record, API name -> our column name.
    extra_int_fields: dict[str, str] = field(default_factory=dict)
    # The record's kWh fields, API names; each is stored in the column `column_name` gives it.
    quantity_fields: tuple[str, ...] = ("quantityKwh",)
    # Whether a quantity may be below zero; when not, the parser refuses a negative one.
    signed_quantities: bool = False

    def __post_init__(self) -> None:
        if (self.group_field is None) != (self.group_column is None) or (self.group_field is None and self.groups):
            raise ValueError(f"{self.dataset_id}: a group needs its field, its column and its groups together")
        if not self.quantity_fields:
            raise ValueError(f"{self.dataset_id}: a dataset needs at least one quantity field")

    @property
    def list_attribute(self) -> str:
        """The camelCase attribute that holds the records, e.g. productionPerGroupMbaHour."""
        head, *rest = self.dataset_id.lower().split("_")
        return head + "".join(part.capitalize() for part in rest)

    @property
    def quantity_columns(self) -> tuple[str, ...]:
        return tuple(column_name(f) for f in self.quantity_fields)

    @property
    def series_columns(self) -> tuple[str, ...]:
        """The columns that name one series: the area, and the group when there is one."""
        return ("price_area",) if self.group_column is None else ("price_area", self.group_column)

    def expected_series(self, areas: Iterable[str]) -> list[tuple[str, ...]]:
        """Every base series of `areas`: (area, group) per base group, or (area,)."""
        return [(a, g) for a in areas for g in self.groups] if self.group_column else [(a,) for a in areas]


# The quantity column of a dataset that declares none: what functions of rows assume when not told.
DEFAULT_QUANTITY_COLUMNS: tuple[str, ...] = ElhubDataset("").quantity_columns

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
# Without a group: one series per area. Field names and their sources: docs/elhub_datasets.md.
EXCHANGE = ElhubDataset(
    dataset_id="EXCHANGE_PER_MBA_HOUR",
    quantity_fields=("exchangeInQuantityKwh", "exchangeOutQuantityKwh"),
)
LOSS = ElhubDataset(
    dataset_id="LOSS_PER_MBA_HOUR",
    quantity_fields=("calculatedLossQuantityKwh",),
    signed_quantities=True,  # a guess: a calculated loss may come out below zero in an hour
)
DATASETS: dict[str, ElhubDataset] = {d.dataset_id: d for d in (PRODUCTION, CONSUMPTION, EXCHANGE, LOSS)}

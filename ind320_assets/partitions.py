"""Every Elhub asset is partitioned by local month × price area.

Dagster joins a multi-partition key's values in alphabetical order of the
dimension names, so `month` and `price_area` give CLI keys like `2021-01-01|NO1`.
What a run does with its keys lives in `partition_slice.py`.
"""

from dagster import MonthlyPartitionsDefinition, MultiPartitionsDefinition, StaticPartitionsDefinition

from ind320_assets.domain import FIRST_MONTH, OSLO_TZ, PRICE_AREAS

MONTH_DIM = "month"
AREA_DIM = "price_area"

# end_offset=1 includes the current, still-growing month.
MONTHS = MonthlyPartitionsDefinition(start_date=FIRST_MONTH, timezone=OSLO_TZ, end_offset=1)
ELHUB_PARTITIONS = MultiPartitionsDefinition({MONTH_DIM: MONTHS, AREA_DIM: StaticPartitionsDefinition(list(PRICE_AREAS))})

"""A daily refresh of the current month, for deployments that prefer a clock to polling."""

from __future__ import annotations

import pandas as pd
from dagster import DefaultScheduleStatus, RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from ind320_assets.assets.spec import ElhubAssetSpec
from ind320_assets.domain import OSLO_TZ
from ind320_assets.partition_slice import PartitionSlice


def build_current_month_schedule(spec: ElhubAssetSpec) -> ScheduleDefinition:
    chain = spec.asset_keys

    @schedule(
        name=f"elhub_{spec.name}_current_month_daily",
        cron_schedule="30 6 * * *",  # after Elhub's overnight publication
        execution_timezone=OSLO_TZ,
        target=chain,
        default_status=DefaultScheduleStatus.STOPPED,  # the revision sensor is the default way
        description=f"Reloads the current month of {spec.dataset.dataset_id} for every area, daily. Off by default.",
    )
    def current_month(context: ScheduleEvaluationContext):
        today = pd.Timestamp(context.scheduled_execution_time).tz_convert(OSLO_TZ).date()
        for key in PartitionSlice.of([today.replace(day=1)]).keys:
            yield RunRequest(run_key=f"{key}@{today.isoformat()}", partition_key=key, asset_selection=chain)

    return current_month

"""The dashboard's charts, as Altair specs built from the frames `dashboard.queries` folds."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import altair as alt
import pandas as pd

from dashboard.queries import ALL_AREAS, TOTAL, day_ticks


def _long_gwh(gwh: pd.Series | pd.DataFrame, group_title: str) -> pd.DataFrame:
    if isinstance(gwh, pd.Series):
        return pd.DataFrame({group_title: gwh.index, "GWh": gwh.to_numpy()}).dropna()
    return gwh.reset_index().melt(id_vars=gwh.index.name, var_name=group_title, value_name="GWh").dropna()


def area_group_bars(gwh: pd.DataFrame, group_title: str) -> alt.Chart:
    """Each price area's year, one stacked bar, a segment per group. `gwh` is `totals_kwh` in GWh."""
    per_area = gwh.drop(columns=TOTAL).drop(index=ALL_AREAS)
    groups = list(per_area.columns)
    long = _long_gwh(per_area, group_title)
    return alt.Chart(long, title="per price area").mark_bar().encode(
        y=alt.Y(f"{per_area.index.name}:N", title=None),
        x=alt.X("GWh:Q", stack="zero", title="GWh"),
        color=alt.Color(f"{group_title}:N", sort=groups),
        order=alt.Order("group_order:Q"),
        tooltip=[per_area.index.name, group_title, alt.Tooltip("GWh:Q", format=",.3f")],
    ).transform_calculate(group_order=f"indexof({json.dumps(groups)}, datum['{group_title}'])")


def group_pie(gwh: pd.DataFrame, group_title: str) -> alt.Chart:
    """The year of all areas together, a slice per group."""
    national = gwh.drop(columns=TOTAL).loc[ALL_AREAS]
    groups = list(national.index)
    long = _long_gwh(national, group_title)
    return alt.Chart(long, title="all areas").mark_arc().encode(
        theta=alt.Theta("GWh:Q"),
        color=alt.Color(f"{group_title}:N", sort=groups),
        order=alt.Order("group_order:Q"),
        tooltip=[group_title, alt.Tooltip("GWh:Q", format=",.3f")],
    ).transform_calculate(group_order=f"indexof({json.dumps(groups)}, datum['{group_title}'])")


def month_lines(frame: pd.DataFrame, month: str, group_title: str, groups: list[str]) -> alt.Chart:
    """A line per group over the month's hours (`series_frame`).

    Points sit at their UTC instants (a UTC scale, whatever the browser's zone), so a
    DST month is evenly spaced; the axis ticks are the Oslo midnights, labelled with
    their Oslo dates, and the tooltip names the Oslo hour with its zone."""
    ticks, labels = day_ticks(month)
    # Vega-Lite draws no tick for a number among a temporal axis's values: they go as ISO instants.
    values = [datetime.fromtimestamp(t / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for t in ticks]
    label_of_tick = f"{json.dumps(labels)}[indexof({json.dumps(ticks)}, toNumber(datum.value))]"
    return alt.Chart(frame).mark_line(strokeWidth=1.2).encode(
        x=alt.X("epoch_ms:T", title="Oslo time", scale=alt.Scale(type="utc"),
                axis=alt.Axis(values=values, labelExpr=label_of_tick, labelOverlap=True)),
        y=alt.Y("kwh:Q", title="kWh per hour"),
        color=alt.Color("group:N", title=group_title, sort=groups),
        tooltip=[alt.Tooltip("oslo_time:N", title="hour (Oslo)"), alt.Tooltip("group:N", title=group_title),
                 alt.Tooltip("kwh:Q", title="kWh", format=",.3f")],
    ).interactive(bind_y=False)

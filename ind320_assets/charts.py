"""A small line chart per group of one partition, for Dagster asset metadata.

People look at a chart rather than read 745 hourly numbers: a missing day, a
stuck meter or a DST glitch is obvious as a gap or a spike, and invisible in a
table of sums. The PNG travels inside Markdown as a data URI, which is how the
Dagster UI shows images in metadata, so it is kept small.
"""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
from dagster import MetadataValue
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ind320_assets.domain import OSLO_TZ, UNSPECIFIED_GROUP

# 512 x 208 pixels keeps the base64 text far below the ~60 KB that metadata
# comfortably holds.
FIGURE_INCHES = (6.4, 2.6)
DPI = 80
# Anti-aliased lines make the full-colour PNG ~50 KB for a month of five groups;
# a 64-colour palette looks the same and is ~3.5 times smaller.
PALETTE_COLORS = 64
MARGINS = {"left": 0.11, "right": 0.83, "top": 0.89, "bottom": 0.16}
UNSPECIFIED_LABEL = "unspecified"
_EMBEDDED_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def series_to_plot(frame: pd.DataFrame, group_column: str) -> dict[str, pd.Series]:
    """{legend label: MWh indexed by Oslo time}, base groups sorted, `*` last and only if non-zero."""
    lines: dict[str, pd.Series] = {}
    unspecified = None
    for group, rows in frame.groupby(group_column, sort=True):
        rows = rows.sort_values("start_time")
        mwh = pd.Series(
            rows["quantity_kwh"].to_numpy() / 1000,
            index=pd.DatetimeIndex(rows["start_time"]).tz_convert(OSLO_TZ),
        )
        if group == UNSPECIFIED_GROUP:
            # Elhub sends `*` rows of zeros for most areas; a flat line there is noise.
            unspecified = mwh if (mwh.abs() > 0).any() else None
        else:
            lines[str(group)] = mwh
    if unspecified is not None:
        lines[UNSPECIFIED_LABEL] = unspecified
    return lines


def partition_chart_png(frame: pd.DataFrame, group_column: str, title: str) -> bytes:
    """PNG bytes of one line per group; a "no data" note when there is nothing to draw."""
    # A bare Figure on an Agg canvas, never pyplot: pyplot keeps global state and
    # is not thread safe, and assets may run in threads of one process.
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    # Fixed margins for the fixed size: constrained layout measured every label
    # and took half of the ~0.2 s a chart cost, 60 times in a year's backfill.
    figure.subplots_adjust(**MARGINS)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontsize="medium")
    axes.set_ylabel("MWh per hour", fontsize="small")
    axes.tick_params(labelsize="x-small")

    lines = series_to_plot(frame, group_column)
    for label, mwh in lines.items():
        axes.plot(mwh.index.to_pydatetime(), mwh.to_numpy(), label=label, linewidth=0.8)
    if lines:
        # Matplotlib labels dates in UTC unless told otherwise; a month is read in local time.
        locator = mdates.AutoDateLocator(tz=OSLO_TZ)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=OSLO_TZ))
        # No x margin: padding past the last hour reaches into next month, and the
        # date formatter would then label the axis with that month.
        axes.margins(x=0)
        axes.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize="x-small", frameon=False)
    else:
        axes.set_xticks([])
        axes.set_yticks([])
        axes.text(0.5, 0.5, "no data", transform=axes.transAxes, ha="center", va="center")
    return _palette_png(figure)


def _palette_png(figure: Figure) -> bytes:
    canvas = figure.canvas
    canvas.draw()
    rgb = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    rgb.quantize(colors=PALETTE_COLORS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def chart_metadata(frame: pd.DataFrame, group_column: str, title: str) -> MetadataValue:
    """Markdown metadata that embeds the chart as a data URI image."""
    encoded = base64.b64encode(partition_chart_png(frame, group_column, title)).decode("ascii")
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def decode_chart(markdown_text: str) -> bytes:
    """The PNG bytes embedded by `chart_metadata`."""
    match = _EMBEDDED_PNG.search(markdown_text)
    if match is None:
        raise ValueError("no `data:image/png;base64,` image found in the Markdown text")
    png = base64.b64decode(match.group(1), validate=True)
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError("the embedded data URI does not hold a PNG")
    return png

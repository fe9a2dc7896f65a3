"""Partition charts must be small, decodable PNGs, even for a DST month or an empty partition."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ind320_assets.charts import UNSPECIFIED_LABEL, chart_metadata, decode_chart, partition_chart_png, series_to_plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TITLE = "NO1 2021-10 production per group"


def october_frame(groups: dict[str, float]) -> pd.DataFrame:
    """745 hours of October 2021 in Oslo (the DST change adds one) per group, scaled by `groups`."""
    hours = pd.date_range("2021-09-30T22:00Z", periods=745, freq="h")
    wave = 1000 + 500 * np.sin(np.arange(len(hours)) / 24 * 2 * np.pi)
    return pd.concat(
        pd.DataFrame(
            {"price_area": "NO1", "production_group": group, "start_time": hours, "quantity_kwh": wave * scale}
        )
        for group, scale in groups.items()
    )


def decoded_image(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_chart_is_a_small_png_with_something_drawn() -> None:
    frame = october_frame({"hydro": 3, "wind": 1, "solar": 0.1})
    image = decoded_image(partition_chart_png(frame, "production_group", TITLE))
    assert image.shape[:2] == (208, 512)
    assert image.std() > 0


@pytest.mark.parametrize("frame", [october_frame({"hydro": 1}).iloc[:0], october_frame({"*": 0})], ids=["empty", "*0"])
def test_nothing_to_draw_still_gives_a_png(frame: pd.DataFrame) -> None:
    assert decoded_image(partition_chart_png(frame, "production_group", TITLE)).std() > 0


def test_metadata_round_trips_and_stays_small() -> None:
    frame = october_frame({"hydro": 3, "wind": 1, "*": 0.01})
    text = chart_metadata(frame, "production_group", TITLE).value
    assert text.startswith(f"![{TITLE}](data:image/png;base64,")
    assert len(text) < 80_000
    assert decode_chart(text) == partition_chart_png(frame, "production_group", TITLE)


def test_decode_chart_says_when_there_is_no_image() -> None:
    with pytest.raises(ValueError, match="no `data:image/png;base64,` image"):
        decode_chart("just text")


@pytest.mark.parametrize(
    ("unspecified_scale", "labels"), [(0, ["hydro", "wind"]), (0.01, ["hydro", "wind", UNSPECIFIED_LABEL])]
)
def test_unspecified_group_is_drawn_only_when_not_all_zero(unspecified_scale: float, labels: list[str]) -> None:
    lines = series_to_plot(october_frame({"wind": 1, "*": unspecified_scale, "hydro": 3}), "production_group")
    assert list(lines) == labels
    assert all(str(series.index.tz) == "Europe/Oslo" and len(series) == 745 for series in lines.values())

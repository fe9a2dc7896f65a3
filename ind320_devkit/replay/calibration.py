"""Reference numbers the generated replay data is calibrated to.

Production 2021 totals come from public notebook outputs of complete 2021
pulls (see /work/shared/data/elhub/SOURCES.md, copied into data/PROVENANCE.md):
the Ditto25/HenrikEngd Spark aggregates give the five group totals and the
top 20 area x group totals; the other five pairs follow from the group totals.
Consumption, exchange and loss have no public reference here, so their
numbers are plausible magnitudes only, and are labelled as such.
"""

from __future__ import annotations

import pandas as pd

# --- Production, 2021, kWh -------------------------------------------------
PRODUCTION_2021_GROUP_TOTAL_KWH: dict[str, float] = {
    "hydro": 1.4501459141678e11,
    "wind": 1.0733454198994e10,
    "thermal": 1.3323109825060067e9,
    "solar": 3.473282372999997e7,
    "other": 1.666337722899995e7,
}

PRODUCTION_2021_TOTAL_KWH: dict[tuple[str, str], float] = {
    # Top 20, verbatim from the Spark output.
    ("NO2", "hydro"): 5.240261793104e10,
    ("NO5", "hydro"): 3.033686754729001e10,
    ("NO4", "hydro"): 2.36643770081e10,
    ("NO3", "hydro"): 2.025394513040002e10,
    ("NO3", "wind"): 5.149394634765007e9,
    ("NO2", "wind"): 3.221530055060005e9,
    ("NO4", "wind"): 1.815169179249999e9,
    ("NO5", "thermal"): 6.91427003e8,
    ("NO1", "wind"): 5.473603280449867e8,
    ("NO4", "thermal"): 2.483754983750002e8,
    ("NO1", "thermal"): 2.3611798497100592e8,
    ("NO2", "thermal"): 1.563904761600004e8,
    ("NO4", "other"): 1.5971439443999972e7,
    ("NO1", "solar"): 1.4381936168000001e7,
    ("NO2", "solar"): 1.3993474230000027e7,
    ("NO3", "solar"): 3966473.815000003,
    ("NO5", "solar"): 2223285.9049999537,
    ("NO2", "other"): 492903.0499999995,
    ("NO4", "solar"): 167653.6119999999,
    # Derived: group total minus the known areas (the printed NO1 hydro,
    # 1.835678379994999...e10, was cut off; this completes it).
    ("NO1", "hydro"): 18356783799.94997,
    ("NO5", "wind"): 1.8740023,  # NO5 wind is a near-zero series from 2021-06-02
    ("NO3", "thermal"): 20.00000018,
    # Derived as a sum only (199,034.735 kWh for the three); split in the
    # proportion of their 2025 recorded means (54.7 : 49.5 : 24.0 kWh/h).
    ("NO1", "other"): 84935.7,
    ("NO3", "other"): 76800.0,
    ("NO5", "other"): 37299.0349999785,
}

# NO1 hydro, the first 25 hours of 2021 (from 2021-01-01T00:00+01:00), as
# printed by three independent notebooks; the replay serves them verbatim.
NO1_HYDRO_2021_FIRST_HOURS_KWH: tuple[float, ...] = (
    2507716.8, 2494728.0, 2486777.5, 2461176.0, 2466969.2, 2467460.0, 2482320.8,
    2509533.0, 2550758.2, 2693111.0, 2762854.8, 2767902.2, 2777353.2, 2779136.0,
    2804195.0, 2846295.5, 2864646.2, 2859661.0, 2854212.2, 2802948.2, 2795598.2,
    2801373.8, 2787213.8, 2743757.5, 2668773.5,
)  # fmt: skip

# NO5 wind exists from 2021-06-02 00:00 local: 5,113 hours in 2021.
NO5_WIND_FIRST_HOUR = pd.Timestamp("2021-06-01T22:00:00Z")

# --- Consumption, 2021 (plausible magnitudes, not reference values) --------
_TWH = 1e9
CONSUMPTION_2021_TOTAL_KWH: dict[tuple[str, str], float] = {
    (area, group): twh * _TWH
    for group, per_area in {
        "household": (14.5, 7.8, 6.1, 4.0, 5.2),
        "cabin": (0.95, 0.75, 0.55, 0.30, 0.45),
        "primary": (0.9, 1.6, 1.3, 1.1, 0.9),
        "secondary": (4.2, 17.5, 8.4, 9.3, 10.1),
        "tertiary": (12.8, 6.2, 5.3, 3.2, 4.1),
    }.items()
    for area, twh in zip(("NO1", "NO2", "NO3", "NO4", "NO5"), per_area)
}
CONSUMPTION_2021_METERING_POINTS: dict[tuple[str, str], int] = {
    (area, group): count
    for group, per_area in {
        "household": (1_150_000, 470_000, 390_000, 255_000, 310_000),
        "cabin": (105_000, 115_000, 80_000, 60_000, 70_000),
        "primary": (18_000, 16_000, 21_000, 16_000, 13_000),
        "secondary": (9_500, 8_000, 7_000, 5_000, 6_500),
        "tertiary": (95_000, 52_000, 47_000, 31_000, 37_000),
    }.items()
    for area, count in zip(("NO1", "NO2", "NO3", "NO4", "NO5"), per_area)
}
CONSUMPTION_GROWTH_PER_YEAR = 0.012

# --- Exchange and loss, 2021 (plausible magnitudes, not reference values) ---
# Per area, into and out of it across its borders (other areas and abroad): NO2 and
# NO5 export most, NO1 imports most. Norway's net export in 2021 was on the order of
# 17 TWh; these nets add up to about that.
EXCHANGE_2021_TOTAL_KWH: dict[tuple[str, str], float] = {
    (area, column): twh * _TWH
    for column, per_area in {
        "exchange_in_quantity_kwh": (14.0, 6.5, 7.0, 2.5, 4.0),
        "exchange_out_quantity_kwh": (7.5, 22.0, 4.5, 8.0, 9.0),
    }.items()
    for area, twh in zip(("NO1", "NO2", "NO3", "NO4", "NO5"), per_area)
}
# Calculated grid loss, roughly 5-7 % of each area's consumption above.
LOSS_2021_TOTAL_KWH: dict[tuple[str, str], float] = {
    (area, "calculated_loss_quantity_kwh"): twh * _TWH
    for area, twh in zip(("NO1", "NO2", "NO3", "NO4", "NO5"), (2.1, 2.0, 1.3, 1.1, 1.2))
}
METERING_POINT_GROWTH_PER_MONTH = 0.0035

# Rough centre of each price area (latitude, longitude), for the sun's path.
AREA_LOCATION: dict[str, tuple[float, float]] = {
    "NO1": (60.2, 10.8),
    "NO2": (58.9, 7.5),
    "NO3": (63.4, 10.4),
    "NO4": (68.0, 15.5),
    "NO5": (60.6, 6.0),
}

"""What the replay serves on `/production-groups` and `/consumption-groups`.

Consumption: verbatim from a flattened public copy of the real response
(mghyly20/internship-project-2025, data/raw/groupes_de_consommation.csv).
Production: only solar's text is public (a hasanelahi7 notebook output); the
other names and descriptions are written in its style and are guesses
(docs/elhub_updates_api.md §2).
"""

from __future__ import annotations

# (id, name, description), in the order the API lists them.
PRODUCTION_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("solar", "Solar", "Unit in which solar energy is converted to electricity with unspecified equipment/devices."),
    ("hydro", "Hydro", "Unit in which moving water energy is converted to electricity."),  # guessed text
    ("wind", "Wind", "Unit in which wind energy is converted to electricity."),  # guessed text
    ("thermal", "Thermal", "Unit in which heat from fuel is converted to electricity."),  # guessed text
    ("other", "Other", "Production that fits none of the other groups."),  # guessed text
    ("*", "*", "*"),  # guessed: the unspecified group, as on the consumption list
)

CONSUMPTION_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("household", "Household",
     "Meteringpoints that either have NACE Code XX (Household) or a combination of NACE Code 68.201 "
     "(House cooperative) and Consumption Code 35 (Households)"),
    ("cabin", "Cabins and holiday properties", "Cabins and vacation homes nace XY"),
    ("primary", "Primary Industry", "All agriculture, forestry, fishing incl green houses, Division code 1-3 + Y"),
    ("secondary", "Secondary Industry", "All industry section codes B through F"),
    ("tertiary", "Tertiary Industry",
     "All section codes G through U. Also includes all consumption that has incorrect or missing NACE Code."),
    ("industry", "Industry", "Combination of Primary and Secondary Industry"),
    ("private", "Private", "Combination of Household and Cabin"),
    ("business", "Business", "Same as Tertiary Industry"),
    ("*", "*", "*"),
)  # fmt: skip

GROUP_ENTITIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "production-groups": PRODUCTION_GROUPS,
    "consumption-groups": CONSUMPTION_GROUPS,
}

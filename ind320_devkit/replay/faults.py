"""Deterministic fault injection for the replay server.

Transport faults (hang, 429, 5xx, malformed JSON, truncated body) hit either
the first N requests or a seeded fraction of requests; the first-N counts
stack in that order, so `throttle_first_n=2, server_error_first_n=1` means
requests 0-1 get 429 and request 2 gets a 5xx. Data faults (duplicated
records, dropped hours) change every data response the same way each time.
Every field can be set by a CLI flag (`--throttle-first-n 2`) or an
environment variable (`ELHUB_REPLAY_THROTTLE_FIRST_N=2`).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ind320_assets.domain import ElhubDataset
from ind320_assets.elhub.schema import series_key_columns

ENV_PREFIX = "ELHUB_REPLAY_"
# Order matters: it is both the precedence and the stacking order of first-N faults.
TRANSPORT_FAULTS = ("hang", "throttle", "server_error", "malformed_json", "truncated_body")


def _knob(default: object, help_text: str) -> object:
    """A Faults field whose help text is reused for its CLI flag."""
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Faults:
    """Which faults to inject. The default injects nothing."""

    latency_ms: float = _knob(0.0, "fixed delay added to every response, ms")
    jitter_ms: float = _knob(0.0, "plus up to this much more, seeded per request, ms")
    hang_first_n: int = _knob(0, "the first N requests stall for --hang-s before answering")
    hang_fraction: float = _knob(0.0, "a seeded fraction of requests stall")
    hang_s: float = _knob(35.0, "how long a stalled request waits, s (beyond the client timeout)")
    throttle_first_n: int = _knob(0, "the next N requests get 429 Too Many Requests")
    throttle_fraction: float = _knob(0.0, "a seeded fraction of requests get 429")
    retry_after_s: int = _knob(1, "Retry-After sent with each 429, s")
    server_error_first_n: int = _knob(0, "the next N requests get 500 / 503 alternately")
    server_error_fraction: float = _knob(0.0, "a seeded fraction of requests get 500 / 503")
    malformed_json_first_n: int = _knob(0, "the next N data responses carry broken JSON")
    malformed_json_fraction: float = _knob(0.0, "a seeded fraction of data responses carry broken JSON")
    truncated_body_first_n: int = _knob(0, "the next N data responses hang up halfway through the body")
    truncated_body_fraction: float = _knob(0.0, "a seeded fraction of data responses are cut off")
    duplicate_records: int = _knob(0, "records repeated in every data response")
    conflicting_duplicates: bool = _knob(False, "repeat them with a different quantity (true/false)")
    drop_hours: int = _knob(0, "interior hours dropped from every series of every data response")
    seed: int = _knob(0, "seed for the fractions and the jitter")

    def transport_fault(self, request_index: int) -> str | None:
        """The transport fault for the request with this 0-based index, if any."""
        stacked = 0
        for kind in TRANSPORT_FAULTS:
            first_n = getattr(self, f"{kind}_first_n")
            if stacked <= request_index < stacked + first_n:
                return kind
            stacked += first_n
        for kind in TRANSPORT_FAULTS:
            fraction = getattr(self, f"{kind}_fraction")
            if fraction > 0 and self._unit(kind, request_index) < fraction:
                return kind
        return None

    def delay_s(self, request_index: int) -> float:
        """Latency plus seeded jitter for one request."""
        jitter = self.jitter_ms * self._unit("jitter", request_index) if self.jitter_ms else 0.0
        return (self.latency_ms + jitter) / 1000.0

    def _unit(self, kind: str, request_index: int) -> float:
        """A uniform [0, 1) number fixed by (seed, kind, request index)."""
        return random.Random(f"{self.seed}:{kind}:{request_index}").random()

    # --- configuration ------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Faults:
        values = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + spec.name.upper())
            if raw is not None and raw != "":
                values[spec.name] = _parse(spec.type, raw)
        return cls(**values)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, defaults: Faults) -> None:
        """One `--field-name` flag per field, defaulting to `defaults` (e.g. from the environment)."""
        group = parser.add_argument_group("fault injection (also ELHUB_REPLAY_<FIELD> env vars)")
        for spec in dataclasses.fields(cls):
            flag = "--" + spec.name.replace("_", "-")
            default = getattr(defaults, spec.name)
            group.add_argument(
                flag,
                dest=spec.name,
                default=default,
                type=lambda raw, t=spec.type: _parse(t, raw),
                help=f"{spec.metadata['help']} (default {default})",
            )

    @classmethod
    def from_arguments(cls, arguments: argparse.Namespace) -> Faults:
        return cls(**{spec.name: getattr(arguments, spec.name) for spec in dataclasses.fields(cls)})


def _parse(type_name: object, raw: str) -> object:
    """Parse a CLI/env string for a field annotated (as a string) `int`, `float` or `bool`."""
    name = str(type_name)
    if name == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name == "int":
        return int(raw)
    return float(raw)


def apply_data_faults(frame: pd.DataFrame, dataset: ElhubDataset, faults: Faults) -> pd.DataFrame:
    """The frame a faulty server would send: some hours dropped, some records repeated."""
    if faults.drop_hours > 0 and len(frame):
        frame = frame[~_interior_hours(frame, dataset, faults.drop_hours)]
    if faults.duplicate_records > 0 and len(frame):
        positions = np.linspace(0, len(frame) - 1, num=min(faults.duplicate_records, len(frame))).astype(int)
        repeats = frame.iloc[np.unique(positions)].copy()
        if faults.conflicting_duplicates:
            first_quantity = dataset.quantity_columns[0]
            repeats[first_quantity] = repeats[first_quantity] + 1.0
        # A stable sort puts each repeat right after its original, as a real glitch would.
        frame = pd.concat([frame, repeats]).sort_values(
            [*series_key_columns(dataset), "start_time"], kind="stable"
        )
    return frame.reset_index(drop=True)


def _interior_hours(frame: pd.DataFrame, dataset: ElhubDataset, per_series: int) -> np.ndarray:
    """Mask of `per_series` evenly spread hours strictly inside each series (never its ends)."""
    by_series = frame.groupby(series_key_columns(dataset), sort=False)["start_time"]
    position = by_series.cumcount().to_numpy()
    length = by_series.transform("size").to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    for k in range(1, per_series + 1):
        target = (k * (length - 1)) // (per_series + 1)
        mask |= (position == target) & (target > 0) & (length > per_series + 2)
    return mask

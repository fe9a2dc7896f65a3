"""Print issue 13's four figures from a `make bench` summary, one per line, ready to paste.

    python -m bench.ratios [bench/results/summary.json]

Reads the `ratios` object of the summary line that `bench.run_all` wrote, and prints:

    ratio backfill_with_views/baseline: 0.NN
    ratio backfill_chain/baseline: 0.NN
    ratio reload_full_year/spark_start: N.NN
    views_from_scratch_s: NN.N

A figure the run could not compute (its benchmark failed or was left out) prints as `n/a`,
and the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import RESULTS_DIR, load_json

# key in the summary's "ratios" -> (label printed, digits)
RATIOS = {
    "backfill_with_views/baseline": ("ratio backfill_with_views/baseline", 2),
    "backfill_chain/baseline": ("ratio backfill_chain/baseline", 2),
    "reload_full_year/spark_start": ("ratio reload_full_year/spark_start", 2),
    "views_from_scratch_s": ("views_from_scratch_s", 1),
}


def format_ratios(ratios: dict) -> list[str]:
    lines = []
    for key, (label, digits) in RATIOS.items():
        value = ratios.get(key)
        lines.append(f"{label}: {'n/a' if value is None else f'{value:.{digits}f}'}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", type=Path, nargs="?", default=RESULTS_DIR / "summary.json",
                        help="the summary line bench.run_all wrote (default bench/results/summary.json)")
    args = parser.parse_args(argv)
    summary = load_json(args.summary)
    if summary is None:
        parser.error(f"{args.summary} does not exist; run `make bench` first")
    ratios = summary.get("ratios") or {}
    print("\n".join(format_ratios(ratios)))
    sys.exit(0 if all(ratios.get(key) is not None for key in RATIOS) else 1)


if __name__ == "__main__":
    main()

"""Run every benchmark, one after the other, each in its own process.

    python -m bench.run_all [--latency-ms 150] [--only backfill_chain,backfill_with_views,reload,baseline,raw_limits,views]

Each benchmark prints one JSON line (echoed here and saved as bench/results/<name>.json);
a last `summary` line gathers the figures and the four ratios of issue 13 (printed alone
by `python -m bench.ratios bench/results/summary.json`). Nothing is compared with a
threshold; the exit code is non-zero only if a benchmark itself failed to run.

`backfill_with_views` leaves its full-year namespace in place when `reload` runs too;
`reload` then reloads its partition on that year instead of backfilling one of its own,
and the namespace is dropped after it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import (
    DEFAULT_LATENCY_MS,
    PYTHON,
    REPO_DIR,
    RESULTS_DIR,
    drop_namespace,
    header,
    load_json,
    log,
    prepare_environment,
    r,
    ratio,
)

# name -> the module and arguments it runs with; run in this order.
BENCHMARKS = {
    "backfill_chain": ["bench.backfill", "--selection", "chain"],
    "backfill_with_views": ["bench.backfill", "--selection", "with_views"],
    "reload": ["bench.reload"],
    "baseline": ["bench.baseline"],
    "raw_limits": ["bench.raw_limits"],
    "views": ["bench.views"],
}
OURS = "backfill_chain"  # baseline and raw_limits compare their stages with the chain's


def summary_figures(results: dict[str, dict]) -> dict:
    """The summary line's figures, from the benchmarks' lines of this run."""
    chain, with_views, reload, baseline, raw, views = (results.get(b) or {} for b in BENCHMARKS)
    full_year, empty = reload.get("reload_full_year") or {}, reload.get("reload_empty") or {}
    view_figures = views.get("views") or {}
    return {
        "ratios": {  # issue 13: what `bench.ratios` prints
            "backfill_with_views/baseline": ratio(with_views.get("wall_s"), baseline.get("wall_s"), 2),
            "backfill_chain/baseline": ratio(chain.get("wall_s"), baseline.get("wall_s"), 2),
            "reload_full_year/spark_start": ratio(full_year.get("wall_s"), reload.get("spark_start_wall_s"), 2),
            # A year's views from scratch as a run pays them: the pandas refreshes and the two
            # view assets' Spark reads of the year's stored rows.
            "views_from_scratch_s": r(view_figures.get("recompute_all_with_loads_s"), 1),
        },
        "views_from_scratch_includes_spark_loads": True,
        "views_from_scratch_without_loads_s": view_figures.get("recompute_all_total_s"),
        "views_load_stored_rows_year_s": (view_figures.get("load_stored_rows_s") or {}).get("year"),
        "backfill_chain_wall_s": chain.get("wall_s"),
        "backfill_with_views_wall_s": with_views.get("wall_s"),
        "backfill_view_steps_s": with_views.get("view_steps_s"),
        "baseline_wall_s": baseline.get("wall_s"),
        "write_stage_fraction_of_raw": raw.get("ours_fraction_of_raw"),
        "reload_empty_wall_s": empty.get("wall_s"),
        "reload_full_year_wall_s": full_year.get("wall_s"),
        "reload_full_year_step_s": full_year.get("step_s"),
        "reload_full_year_cli_startup_s": full_year.get("cli_startup_s"),
        "reload_full_year_cli_shutdown_s": full_year.get("cli_shutdown_s"),
        "spark_start_wall_s": reload.get("spark_start_wall_s"),
        "reload_empty_over_spark_start": reload.get("reload_empty_over_spark_start"),
        "views_update_one_partition_with_loads_s": view_figures.get("update_one_partition_with_loads_s"),
        "consumption_rematerialize_wall_s": (views.get("consumption") or {}).get("rematerialize_wall_s"),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help=f"fixed delay the replay server adds to every request (default {DEFAULT_LATENCY_MS:g})")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)} (always run in that order)")
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {tuple(BENCHMARKS)}")
    chosen = [b for b in BENCHMARKS if b in chosen]  # dependencies first, whatever order was given
    prepare_environment()  # once here, so a missing Java or connector fails before the first benchmark

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    ours = RESULTS_DIR / f"{OURS}.json"
    share_year = "backfill_with_views" in chosen and "reload" in chosen
    year_namespace = None
    failed = []
    try:
        for name in chosen:
            out = RESULTS_DIR / f"{name}.json"
            out.unlink(missing_ok=True)
            command = [PYTHON, "-m", *BENCHMARKS[name], "--latency-ms", str(args.latency_ms), "--out", str(out)]
            if name in ("baseline", "raw_limits") and ours.exists():
                command += ["--ours", str(ours)]
            if name == "backfill_with_views" and share_year:
                command += ["--keep-namespace"]
            if name == "reload" and year_namespace:
                command += ["--year-namespace", year_namespace]
            log(f"=== {name} ===")
            completed = subprocess.run(command, cwd=REPO_DIR, stdout=subprocess.PIPE, text=True)
            lines = completed.stdout.strip().splitlines()
            if lines:
                print(lines[-1], flush=True)
            if name == "backfill_with_views" and share_year:
                year_namespace = (load_json(out) or {}).get("namespace")
                if completed.returncode != 0 and year_namespace:
                    drop_namespace(year_namespace)  # a failed year is no base for the reload
                    year_namespace = None
            if completed.returncode != 0:
                failed.append(name)
                log(f"{name} exited with {completed.returncode}")
    finally:
        if year_namespace:
            drop_namespace(year_namespace)  # reload drops it too; dropping twice is harmless

    # Only this run's lines: a benchmark left out by --only counts as missing, not as an older file.
    results = {name: load_json(RESULTS_DIR / f"{name}.json") for name in chosen}
    summary = header("summary", args.latency_ms)
    summary.update({**summary_figures(results), "benchmarks_run": chosen, "failed": failed})
    print(json.dumps(summary, separators=(", ", ": ")), flush=True)
    (RESULTS_DIR / "summary.json").write_text(json.dumps(summary) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Run every benchmark, one after the other, each in its own process.

    python -m bench.run_all [--latency-ms 150] [--only backfill,reload,baseline,raw_limits,views]

Each benchmark prints one JSON line (echoed here and saved as bench/results/<name>.json);
a last `summary` line gathers the ratios. Nothing is compared with a threshold; the exit
code is non-zero only if a benchmark itself failed to run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import DEFAULT_LATENCY_MS, PYTHON, REPO_DIR, RESULTS_DIR, header, load_json, log, prepare_environment

BENCHMARKS = ("backfill", "reload", "baseline", "raw_limits", "views")
NEEDS_OURS = ("baseline", "raw_limits")  # they compare with benchmark 1's line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset, run in this order")
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {BENCHMARKS}")
    prepare_environment()  # once here, so a missing Java or connector fails before the first benchmark

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    ours = RESULTS_DIR / "backfill.json"
    failed = []
    for name in chosen:
        out = RESULTS_DIR / f"{name}.json"
        out.unlink(missing_ok=True)
        command = [PYTHON, "-m", f"bench.{name}", "--latency-ms", str(args.latency_ms), "--out", str(out)]
        if name in NEEDS_OURS and ours.exists():
            command += ["--ours", str(ours)]
        log(f"=== {name} ===")
        completed = subprocess.run(command, cwd=REPO_DIR, stdout=subprocess.PIPE, text=True)
        lines = completed.stdout.strip().splitlines()
        if lines:
            print(lines[-1], flush=True)
        if completed.returncode != 0:
            failed.append(name)
            log(f"{name} exited with {completed.returncode}")

    results = {name: load_json(RESULTS_DIR / f"{name}.json") for name in BENCHMARKS}
    summary = header("summary", args.latency_ms)
    backfill, reload, baseline, raw, views = (results[b] or {} for b in BENCHMARKS)
    summary.update({
        "backfill_wall_s": backfill.get("wall_s"),
        "baseline_wall_s": baseline.get("wall_s"),
        "backfill_over_baseline_wall": (baseline.get("ours_over_baseline") or {}).get("wall"),
        "write_stage_fraction_of_raw": raw.get("ours_fraction_of_raw"),
        "reload_wall_s": reload.get("reload_wall_s"),
        "spark_start_wall_s": reload.get("spark_start_wall_s"),
        "reload_over_spark_start": reload.get("reload_over_spark_start"),
        "views_update_over_recompute": (views.get("views") or {}).get("update_over_recompute"),
        "consumption_rematerialize_wall_s": (views.get("consumption") or {}).get("rematerialize_wall_s"),
        "failed": failed,
    })
    print(json.dumps(summary, separators=(", ", ": ")), flush=True)
    (RESULTS_DIR / "summary.json").write_text(json.dumps(summary) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Run every benchmark: bash bench/run_all.sh [--latency-ms 150] [--only backfill_chain,backfill_with_views,reload,baseline,raw_limits,views]
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench.run_all "$@"

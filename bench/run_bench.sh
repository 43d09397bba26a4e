#!/usr/bin/env bash
# make bench: every speed figure of DESIGN.md against its budget → results/bench/summary.md (see bench/run_all.py).
# BENCH_SKIP_TRAINING=1 skips the timed training from scratch (several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python bench/run_all.py "$1"

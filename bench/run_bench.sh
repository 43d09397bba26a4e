#!/usr/bin/env bash
# make bench: the knowledge micro-benchmark, then the servers on their own ports and the REST benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"
.venv/bin/python bench/knowledge_bench.py
.venv/bin/python - "$model" <<'PY'
import subprocess, sys
from pathlib import Path
from bot import serve
processes = serve.start(Path(sys.argv[1]))
try:
    subprocess.run([sys.executable, "bench/rest_bench.py"], check=True)
finally:
    serve.stop(processes)
PY

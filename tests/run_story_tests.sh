#!/usr/bin/env bash
# Test stories (tests/test_stories.yml) through `rasa test core`, with the real action server.
set -euo pipefail
cd "$(dirname "$0")/.."
model="$1"
port=5055
.venv/bin/python -m actions --port "$port" > build/story-tests-actions.log 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://localhost:$port/health" > /dev/null && break
  sleep 0.5
done
.venv/bin/python -m rasa test core --model "$model" --stories tests/test_stories.yml \
  --endpoints endpoints.yml --out results/stories --fail-on-prediction-errors

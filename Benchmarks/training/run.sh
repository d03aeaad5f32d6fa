#!/usr/bin/env bash
# Benchmarks a training step of repprobe's Training module against PyTorch (CPU, the same
# thread count, networks, batch and optimiser), in alternating rounds, and writes
# Benchmarks/training/results.md and results.json.
#
#   Benchmarks/training/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"

scripts/ensure-python-packages.sh numpy=numpy torch=torch sklearn=scikit-learn
build_bench
scratch training

echo "== waiting for the build lock, then timing" >&2
flock "$lock" bash -c '
  set -euo pipefail
  data="$1" bench="$2" here="$3"
  for round in 1 2 3; do
    echo "== round $round of 3: pytorch" >&2
    python3 "$here/torch_bench.py" "$data" > "$data/torch_$round.json"
    echo "== round $round of 3: repprobe" >&2
    "$bench" --training "$data" > "$data/repprobe_$round.json"
  done
' _ "$data" "$bench" "$here"

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)"
if [ -n "$commit" ] && [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
python3 "$here/report.py" "$data" "$commit" "$here/results.md" "$here/results.json"
cat "$here/results.md"

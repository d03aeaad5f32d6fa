#!/usr/bin/env bash
# Benchmarks repprobe against NumPy / scikit-learn on identical data, in one run.
#
#   Benchmarks/run.sh            full sizes, five alternating rounds (about 13 minutes on 2 cores)
#   Benchmarks/run.sh --quick    small sizes, a smoke test of every path (well under a minute)
#   Benchmarks/run.sh --all      every suite at full size first (whole commands, networks,
#                                training, transformers: about half an hour more), then this one
#
# Builds repprobe-bench in release, writes the data once into a temporary folder, times
# repprobe and then Python on the same files, and prints a Markdown table that is also
# written to Benchmarks/results.md and Benchmarks/results.json (results-quick.* for --quick).
# A full run ends with the project's speed targets, row by row, from every suite's latest
# results (Benchmarks/targets.py, also written to Benchmarks/targets.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
if [ "$*" = "--all" ]; then
  for suite in process networks training transformers; do
    echo "== suite $suite" >&2
    bash "$here/$suite/run.sh"
  done
  set --
fi
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy sklearn=scikit-learn threadpoolctl=threadpoolctl
build_bench
scratch bench

echo "== writing the data (${quick[*]:-full sizes})" >&2
python3 "$here/make_data.py" "$data" "${quick[@]}"

# The tools alternate, round after round, so that a spell in which this machine runs slow
# falls on both; the report takes each measurement's median over the rounds.
rounds=5
[ ${#quick[@]} -eq 0 ] || rounds=1
for round in $(seq "$rounds"); do
  echo "== round $round of $rounds: timing repprobe" >&2
  "$bench" "$data" > "$data/repprobe-$round.json"
  # A current NumPy runs slower with the OpenBLAS overrides that some machines set for
  # their system OpenBLAS, so they are dropped for this one process only; python_bench.py
  # prints the kernel that threadpoolctl then reports.
  echo "== round $round of $rounds: timing NumPy / scikit-learn" >&2
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 "$here/python_bench.py" "$data" > "$data/python-$round.json"
done

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)"
if [ -n "$commit" ] && [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
echo "== results" >&2
python3 "$here/report.py" "$data" --repprobe "$data"/repprobe-*.json --python "$data"/python-*.json \
  --markdown "$here/results$suffix.md" --json "$here/results$suffix.json" --commit "$commit"

if [ ${#quick[@]} -eq 0 ]; then
  echo "== speed targets" >&2
  python3 "$here/targets.py" --markdown "$here/targets.md"
fi

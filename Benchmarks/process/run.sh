#!/usr/bin/env bash
# Times whole commands as a user does: `repprobe cka` on two .npy files (10 000 × 2 048
# float32) and on a 12-layer .npz (5 000 samples), and `repprobe pca` on a 10 000 × 1 024
# .npy, against the NumPy and scikit-learn scripts that load the same files and compute
# the same numbers, process start to exit; and `repprobe demo`, the whole built-in
# comparison, which no Python package does in one command.
#
#   Benchmarks/process/run.sh            five alternating rounds, medians
#   Benchmarks/process/run.sh --quick    small files, one round
#
# Every run is a whole process under /usr/bin/time (wall, user and system time, peak
# resident memory), holding the build lock. Writes Benchmarks/process/results.md and
# results.json (results-quick.* for --quick).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy sklearn=scikit-learn
echo "== building repprobe (release)" >&2
flock "$lock" swift build -c release --product repprobe >&2
repprobe="$(swift build -c release --show-bin-path)/repprobe"
scratch process

rounds=5
[ ${#quick[@]} -eq 0 ] || rounds=1
echo "== writing the files" >&2
python3 "$here/make_files.py" "$data" "${quick[@]}"

export data repprobe rounds here
flock "$lock" bash -c '
  set -euo pipefail
  : > "$data/times.tsv"
  for round in $(seq "$rounds"); do
    time_it repprobe pair "$repprobe" cka "$data/X.npy" "$data/Y.npy" --json
    time_it numpy pair python3 "$here/numpy_cka.py" "$data/X.npy" "$data/Y.npy"
    time_it repprobe layers "$repprobe" cka "$data/layers.npz" --json
    time_it numpy layers python3 "$here/numpy_cka.py" "$data/layers.npz"
    time_it repprobe pca "$repprobe" pca "$data/P.npy" --components 10 --json
    time_it numpy pca python3 "$here/sklearn_pca.py" "$data/P.npy" 10
    time_it repprobe demo "$repprobe" demo -o "$data/demo" --no-timing
  done
'
python3 "$here/report.py" "$data" "$here/results$suffix.md" "$here/results$suffix.json"
cat "$here/results$suffix.md"

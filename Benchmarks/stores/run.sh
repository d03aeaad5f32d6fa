#!/usr/bin/env bash
# Benchmarks analyses of activation stores larger than their memory budget: `repprobe cka`
# and `repprobe pca` streaming a shard set a block of samples at a time (--memory 500M),
# against the NumPy and scikit-learn code a user would write (load every shard, concatenate,
# analyse in memory), on 50 000 and 200 000 samples of three layers (1 792 float32
# features; 0.36 and 1.4 GB on disk).
#
#   Benchmarks/stores/run.sh            three alternating rounds, medians
#   Benchmarks/stores/run.sh --quick    10 000 and 40 000 samples, one round
#
# Every run is a whole process timed by /usr/bin/time (wall, user and system time, peak
# resident memory), holding the build lock. Writes Benchmarks/stores/results.md and
# results.json (results-quick.* for --quick).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy safetensors=safetensors sklearn=scikit-learn
echo "== building repprobe (release)" >&2
flock "$lock" swift build -c release --product repprobe >&2
repprobe="$(swift build -c release --show-bin-path)/repprobe"
scratch stores

small=50000 large=200000 rounds=3
[ ${#quick[@]} -eq 0 ] || { small=10000; large=40000; rounds=1; }
echo "== writing the stores ($small and $large samples)" >&2
(cd "$data" && python3 "$here/make_store.py" "$small" small && python3 "$here/make_store.py" "$large" large)

export data repprobe rounds here
flock "$lock" bash -c '
  set -euo pipefail
  : > "$data/times.tsv"
  for round in $(seq "$rounds"); do
    for size in small large; do
      time_it repprobe-cka "$size" "$repprobe" cka "$data/$size.safetensors" --memory 500M --json
      time_it numpy-cka "$size" python3 "$here/numpy_cka.py" "$data/$size.safetensors.index.json"
      time_it repprobe-pca "$size" "$repprobe" pca "$data/$size.safetensors" --memory 500M --components 10 --json
      time_it sklearn-pca "$size" python3 "$here/numpy_pca.py" "$data/$size.safetensors.index.json" 10
    done
  done
'
python3 "$here/report.py" "$data" "$small" "$large" "$here/results$suffix.md" "$here/results$suffix.json"
cat "$here/results$suffix.md"

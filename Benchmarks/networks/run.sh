#!/usr/bin/env bash
# Benchmarks repprobe's network runtime against onnxruntime on the same ONNX files and
# inputs, and measures the peak memory of a streamed capture.
#
#   Benchmarks/networks/run.sh            full run (about 10 minutes on 2 cores)
#   Benchmarks/networks/run.sh --quick    few runs and small capture inputs, a smoke test
#
# Builds repprobe-bench in release, exports the models and writes the inputs into a
# temporary folder, then times onnxruntime and repprobe back to back, in several
# alternating rounds so that a machine whose speed drifts treats both alike, and runs the
# capture at each input size, all while holding the build lock so that no compilation
# runs on the machine meanwhile. Writes Benchmarks/networks/results.md and results.json
# (results-quick.* for --quick).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy torch=torch onnx=onnx onnxruntime=onnxruntime
build_bench
scratch networks

echo "== exporting the models and writing the inputs (${quick[*]:-full run})" >&2
python3 "$here/make_models.py" "$data" "${quick[@]}"

# One line per capture input size: the input file, then the model and its layers.
captures="$(python3 -c '
import json, sys
capture = json.load(open(sys.argv[1]))["capture"]
for entry in capture["inputs"]:
    print(entry["file"], capture["model"], *capture["layers"])
' "$data/manifest.json")"

rounds=3
[ ${#quick[@]} -eq 0 ] || rounds=1

echo "== waiting for the build lock, then timing" >&2
flock "$lock" bash -c '
  set -euo pipefail
  data="$1" bench="$2" here="$3" captures="$4" rounds="$5"
  for round in $(seq "$rounds"); do
    echo "== round $round of $rounds: onnxruntime" >&2
    python3 "$here/ort_bench.py" "$data" > "$data/ort_$round.json"
    echo "== round $round of $rounds: repprobe" >&2
    "$bench" --networks "$data" > "$data/repprobe_$round.json"
  done
  echo "== capture memory" >&2
  # The peak moves by a fifth from run to run at either size, so each size runs once per
  # round and the report compares the smallest peaks.
  for round in $(seq "$rounds"); do
    while read -r inputs model layers; do
      # shellcheck disable=SC2086  # the layer names are separate arguments
      "$bench" --capture-memory "$data/$model" "$data/$inputs" "$data/capture.npz" $layers \
        > "$data/capture_${inputs%.npy}_$round.json"
      rm -f "$data/capture.npz"
    done <<< "$captures"
  done
' _ "$data" "$bench" "$here" "$captures" "$rounds"

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || true)"
if [ -n "$commit" ] && [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi
echo "== results" >&2
python3 "$here/report.py" "$data" --repprobe "$data"/repprobe_*.json --ort "$data"/ort_*.json \
  --capture "$data"/capture_*.json \
  --markdown "$here/results$suffix.md" --json "$here/results$suffix.json" --commit "$commit"

#!/usr/bin/env bash
# Benchmarks Hugging Face folders run natively by repprobe against onnxruntime (on the
# ONNX export of the same model) and PyTorch (transformers), on the same inputs, in one run.
#
#   Benchmarks/transformers/run.sh            BERT-base-shaped, 32 × 128 tokens; ViT-B/16, 8 images
#   Benchmarks/transformers/run.sh --quick    2-block models, small batches: a smoke test
#
# Builds repprobe-bench in release, writes the models and inputs into a temporary folder,
# then times the three tools in alternating rounds (onnxruntime, PyTorch, repprobe) under
# the build lock, and writes results.md and results.json here (results-quick.* for --quick).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy torch=torch transformers=transformers onnx=onnx \
  onnxruntime=onnxruntime onnxscript=onnxscript
build_bench
scratch transformers
echo "== writing the models and inputs (${quick[*]:-full sizes})" >&2
python3 "$here/make_models.py" "$data" "${quick[@]}"

rounds=3
[ ${#quick[@]} -eq 0 ] || rounds=1
echo "== timing ($rounds alternating rounds)" >&2
flock "$lock" bash -c '
  set -euo pipefail
  data="$1" bench="$2" here="$3" rounds="$4"
  for round in $(seq "$rounds"); do
    echo "-- round $round: onnxruntime" >&2
    python3 "$here/python_bench.py" "$data" ort > "$data/ort_$round.json"
    echo "-- round $round: PyTorch" >&2
    python3 "$here/python_bench.py" "$data" torch > "$data/torch_$round.json"
    echo "-- round $round: repprobe" >&2
    "$bench" --transformers "$data" > "$data/repprobe_$round.json"
  done
' _ "$data" "$bench" "$here" "$rounds"
python3 "$here/report.py" "$data" "$rounds" "$here/results$suffix.md" "$here/results$suffix.json"
cat "$here/results$suffix.md"

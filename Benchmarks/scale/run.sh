#!/usr/bin/env bash
# Benchmarks the streamed CKA table at scale: the whole `repprobe compare` command on 10 000
# and 100 000 inputs (1 000 and 10 000 with --quick) through two ResNet-18s, twelve layers
# each reduced by mean, against the PyTorch pipeline a user would write (forward hooks,
# CKA accumulated in torch), and under `mpirun -np 2` against one process.
#
#   Benchmarks/scale/run.sh            full run (about half an hour on 2 cores)
#   Benchmarks/scale/run.sh --quick    small inputs, a smoke test
#
# Every run is a whole process timed by /usr/bin/time (wall, user and system time, peak
# resident memory). On the small inputs repprobe and PyTorch alternate for three rounds
# and the medians are reported; the large inputs run once each. All timings hold the build
# lock, so that no compilation runs meanwhile. Writes Benchmarks/scale/results.md and
# results.json (results-quick.* for --quick).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
quick_option "$@"

scripts/ensure-python-packages.sh numpy=numpy torch=torch torchvision=torchvision onnx=onnx
echo "== building repprobe (release)" >&2
flock "$lock" swift build -c release --product repprobe >&2
repprobe="$(swift build -c release --show-bin-path)/repprobe"
scratch scale

echo "== exporting the models and writing the inputs (${quick[*]:-full run})" >&2
python3 "$here/make_models.py" "$data" "${quick[@]}"

layers="relu,maxpool,layer1.0,layer1.1,layer2.0,layer2.1,layer3.0,layer3.1,layer4.0,layer4.1,avgpool,fc"
rounds=3
[ ${#quick[@]} -eq 0 ] || rounds=1
mpi=()
if command -v mpirun >/dev/null; then
  mpi=(mpirun --oversubscribe -np 2)
  [ "$(id -u)" -ne 0 ] || mpi+=(--allow-run-as-root)
fi

echo "== waiting for the build lock, then timing" >&2
export data repprobe layers rounds here
export mpi_command="${mpi[*]:-}"
flock "$lock" bash -c '
  set -euo pipefail
  : > "$data/times.tsv"
  compare() { echo "$repprobe" compare "$data/a.onnx" "$data/b.onnx" --input "$data/x-$1.npy" --layers "$layers" --reduce mean --batch-size 256 --memory 200M --json --quiet; }
  for round in $(seq "$rounds"); do
    time_it repprobe small $(compare small)
    time_it pytorch small python3 "$here/torch_cka.py" "$data/x-small.npy" --batch-size 256
  done
  time_it repprobe large $(compare large)
  time_it pytorch large python3 "$here/torch_cka.py" "$data/x-large.npy" --batch-size 256
  if [ -n "$mpi_command" ]; then
    time_it mpirun-2 large $mpi_command $(compare large)
  fi
'
python3 "$here/report.py" "$data" "$here/results$suffix.md" "$here/results$suffix.json"
cat "$here/results$suffix.md"

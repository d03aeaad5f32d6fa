# The preamble every benchmark script shares; sourced, not run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"   (or ./common.sh from Benchmarks/)
#
# Leaves the shell in the repository root with `root` and `lock` (the build lock, which the
# timings take too) set, and defines:
#   quick_option "$@"     reads an optional --quick: `quick` (the flag, or empty) and `suffix`
#   build_bench           builds repprobe-bench (release) under the lock and sets `bench`
#   scratch NAME          sets `data` to a temporary folder removed on exit
#   time_it LABEL SIZE COMMAND...
#                         runs one whole process under /usr/bin/time, appending "LABEL SIZE
#                         wall user system peak-KB" to $data/times.tsv and keeping its stdout
#                         in $data/LABEL-SIZE.json; exported, so that the timings run under
#                         `flock "$lock" bash -c '...'` can call it

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Every build on the machine takes this lock; the timings take it too.
lock="${REPPROBE_BUILD_LOCK:-/tmp/repprobe-build.lock}"

quick_option() {
  quick=()
  suffix=""
  case "$#:${1:-}" in
    0:) ;;
    1:--quick) quick=(--quick); suffix="-quick" ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
}

build_bench() {
  echo "== building repprobe-bench (release)" >&2
  flock "$lock" swift build -c release --product repprobe-bench >&2
  bench="$(swift build -c release --show-bin-path)/repprobe-bench"
}

scratch() {
  data="$(mktemp -d "${TMPDIR:-/tmp}/repprobe-$1.XXXXXX")"
  trap 'rm -rf "$data"' EXIT
}

time_it() {
  local label="$1" size="$2"
  shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$data/time.txt" "$@" > "$data/$label-$size.json"
  echo "$label $size $(cat "$data/time.txt")" >> "$data/times.tsv"
  echo "  $label $size: $(cat "$data/time.txt")" >&2
}
export -f time_it

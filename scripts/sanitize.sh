#!/usr/bin/env bash
# Runs the test suite under a sanitizer, and (for address) the training command's output
# check in a release build, where optimisation can expose what a debug build hides.
#
# Usage: scripts/sanitize.sh address|thread [FILTER]
#   address  AddressSanitizer: out-of-bounds access, use after free, double free
#   thread   ThreadSanitizer: data races between the threads of the parallel kernels
#   FILTER   passed to `swift test --filter` (default: every test)
#
# Builds go to .build-asan/ and .build-tsan/. OpenBLAS runs single-threaded under the
# thread sanitizer, whose instrumentation does not reach into it. Exits non-zero on a
# sanitizer report or a failed test.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ $# -lt 1 || ! "$1" =~ ^(address|thread)$ ]]; then
    echo "usage: scripts/sanitize.sh address|thread [FILTER]" >&2
    exit 2
fi
sanitizer="$1"
filter=("${@:2}")
[[ ${#filter[@]} -gt 0 ]] && filter=(--filter "${filter[0]}")

case "$sanitizer" in
    address)
        build="$root/.build-asan"
        export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
        ;;
    thread)
        build="$root/.build-tsan"
        export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
        export OPENBLAS_NUM_THREADS=1
        ;;
esac

echo "== swift test under the $sanitizer sanitizer" >&2
swift test --package-path "$root" --build-path "$build" --sanitize="$sanitizer" ${filter[@]+"${filter[@]}"}

if [[ "$sanitizer" == address ]]; then
    # The training command's printed numbers, from a release build: once they came out as
    # garbage through String(format:) there while the log held the right values.
    echo "== repprobe train, release build under the address sanitizer" >&2
    swift build --package-path "$root" --build-path "$build" -c release --sanitize=address --product repprobe
    binary="$(swift build --package-path "$root" --build-path "$build" -c release --show-bin-path)/repprobe"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    (cd "$root" && "$binary" train plain-cnn --seed 1 --epochs 1 --every 23 -o "$work/train" > "$work/out.txt" 2> "$work/err.txt")
    cat "$work/out.txt"
    grep -Eq '^Probe-set accuracy after [0-9]+ steps: [01]\.[0-9]{3}$' "$work/out.txt" || {
        echo "the training command printed something other than its step count and accuracy" >&2
        exit 1
    }
    grep -Eq '^\| 0 \| [0-9]+ \| [01]\.[0-9]{3} \|' "$work/train/report.md" || {
        echo "the training report's per-class table is malformed" >&2
        exit 1
    }
fi
echo "== no $sanitizer sanitizer report" >&2

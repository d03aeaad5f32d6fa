#!/usr/bin/env bash
# Fuzzes one parser of untrusted input with libFuzzer and AddressSanitizer.
#
# Usage: scripts/fuzz.sh TARGET SECONDS
#   TARGET: npy, npz, safetensors, pytorch, pickle, onnx, probeset, notebook, or all
#           (every target, SECONDS each)
#
# The targets are in Fuzz/ and enter the package only with REPPROBE_FUZZ=1; they build into
# .build-fuzz/. Each target's corpus starts from the files of its kind under Tests/Fixtures/
# (and the shipped probe sets and notebooks), grows in .build-fuzz/corpus/TARGET, and any
# input that crashes, leaks or hangs is kept as .build-fuzz/crashes/TARGET-*. The script
# prints libFuzzer's final statistics and exits non-zero when a target found something.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
targets=(npy npz safetensors pytorch pickle onnx probeset notebook)
if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS (TARGET: ${targets[*]} or all)" >&2
    exit 2
fi
if [[ "$1" == all ]]; then
    chosen=("${targets[@]}")
elif [[ " ${targets[*]} " == *" $1 "* ]]; then
    chosen=("$1")
else
    echo "unknown target '$1' (known: ${targets[*]} or all)" >&2
    exit 2
fi
seconds="$2"
build="$root/.build-fuzz"

REPPROBE_FUZZ=1 REPPROBE_MPI=0 swift build --package-path "$root" --build-path "$build" --product repprobe-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g >&2
binary="$(REPPROBE_FUZZ=1 REPPROBE_MPI=0 swift build --package-path "$root" --build-path "$build" --show-bin-path)/repprobe-fuzz"

# The seeds of a target: fixture files of its kind, smaller than 1 MB.
seeds() {
    local patterns=()
    case "$1" in
        npy) patterns=("*.npy") ;;
        npz) patterns=("*.npz") ;;
        safetensors) patterns=("*.safetensors") ;;
        pytorch) patterns=("*.pt" "*.pth" "*.ckpt" "*.zip") ;;
        onnx) patterns=("*.onnx") ;;
        probeset) patterns=("*.yaml" "*.yml") ;;
        notebook) patterns=("*.md") ;;
        pickle) ;;
    esac
    for pattern in "${patterns[@]}"; do
        find "$root/Tests/Fixtures" "$root/probes" "$root/notebooks-md" -name "$pattern" -size -1024k -type f 2>/dev/null
    done
}

status=0
for target in "${chosen[@]}"; do
    corpus="$build/corpus/$target"
    mkdir -p "$corpus" "$build/crashes"
    if [[ -z "$(ls -A "$corpus")" ]]; then
        if [[ "$target" == pickle ]]; then
            # The pickles inside the PyTorch fixtures.
            n=0
            while read -r file; do
                n=$((n + 1))
                unzip -p "$file" '*/data.pkl' > "$corpus/seed-$n.pkl" 2>/dev/null || rm -f "$corpus/seed-$n.pkl"
            done < <(seeds pytorch)
        else
            while read -r file; do
                cp "$file" "$corpus/seed-$(printf '%s' "$file" | sha1sum | cut -c1-12)-$(basename "$file")"
            done < <(seeds "$target")
        fi
    fi
    echo "== $target: $(ls "$corpus" | wc -l) inputs in the corpus, $seconds s" >&2
    if ! REPPROBE_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1" "$binary" "$corpus" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$target-" 2>&1 | grep -E "^(stat::|==[0-9]+==|SUMMARY|Fatal|.*Crash|.*crash-|.*timeout-|.*oom-|Done )"; then
        :
    fi
    if ls "$build/crashes/$target-"* >/dev/null 2>&1; then
        echo "== $target: found $(ls "$build/crashes/$target-"* | wc -l) failing inputs in $build/crashes" >&2
        status=1
    fi
done
exit $status

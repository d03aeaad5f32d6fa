#!/usr/bin/env python3
"""Pools the rounds of Benchmarks/training/run.sh and writes results.md and results.json.

    python3 report.py DATA_DIR COMMIT RESULTS.md RESULTS.json

Each side's step times are pooled over its rounds; the table gives the best and the median
step time of each side and their ratios (repprobe / PyTorch: at most 1.2 meets the target).
"""
import glob
import json
import os
import platform
import statistics
import sys


def pooled(files):
    runs, meta = {}, None
    for path in sorted(files):
        with open(path) as f:
            report = json.load(f)
        meta = report
        for m in report["measurements"]:
            entry = runs.setdefault(m["network"], {"batch": m["batch"], "parameters": m["parameters"], "runs": []})
            entry["runs"] += m["runs"]
    return runs, meta


def main():
    data, commit, markdown_path, json_path = sys.argv[1:5]
    torch_runs, torch_meta = pooled(glob.glob(os.path.join(data, "torch_*.json")))
    swift_runs, swift_meta = pooled(glob.glob(os.path.join(data, "repprobe_*.json")))
    rows, results = [], []
    for network, theirs in torch_runs.items():
        ours = swift_runs[network]
        best = (min(ours["runs"]), min(theirs["runs"]))
        median = (statistics.median(ours["runs"]), statistics.median(theirs["runs"]))
        results.append({"network": network, "batch": theirs["batch"], "parameters": theirs["parameters"],
                        "repprobe_best": best[0], "pytorch_best": best[1], "repprobe_median": median[0],
                        "pytorch_median": median[1], "ratio_best": best[0] / best[1], "ratio_median": median[0] / median[1]})
        rows.append(f"| {network} | {theirs['batch']} | {theirs['parameters']} | {1e3 * best[0]:.1f} | {1e3 * best[1]:.1f} | "
                    f"{best[0] / best[1]:.2f} | {1e3 * median[0]:.1f} | {1e3 * median[1]:.1f} | {median[0] / median[1]:.2f} |")
    met = all(r["ratio_median"] <= 1.2 for r in results)
    lines = [
        "# Training benchmark: repprobe against PyTorch", "",
        f"CPU, {torch_meta['threads']} threads on each side. repprobe: {swift_meta['blas']}. PyTorch {torch_meta['version']}. "
        f"Python {platform.python_version()}. Commit {commit}.", "",
        "A step: zero the gradients, forward in training mode, mean cross-entropy, backward, one Adam step "
        "(lr 3e-3), on the same batch of 32 random 1×16×16 images. 3 alternating rounds (PyTorch, then repprobe), "
        "each of 5 untimed and 30 timed steps per network; times pooled per side.", "",
        "| network | batch | parameters | repprobe best (ms) | PyTorch best (ms) | ratio | repprobe median (ms) | PyTorch median (ms) | ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows, "",
        f"Target, a step within 1.2× of PyTorch's time (medians): {'met' if met else 'not met'}.",
    ]
    with open(markdown_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(json_path, "w") as f:
        json.dump({"commit": commit, "results": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

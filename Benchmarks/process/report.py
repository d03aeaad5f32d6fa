"""Writes the whole-process benchmark's results from the timings and outputs run.sh left
in DIR:

    python3 Benchmarks/process/report.py DIR results.md results.json
"""
import json
import statistics
import sys

import numpy as np

TASKS = {
    "pair": "`repprobe cka X.npy Y.npy --json`, 10 000 × 2 048 float32 each",
    "layers": "`repprobe cka layers.npz --json`, 12 layers of 5 000 samples (widths 64 … 512)",
    "pca": "`repprobe pca P.npy --components 10 --json`, 10 000 × 1 024 float32; scikit-learn `PCA(svd_solver='covariance_eigh')`",
}

# Commands timed alone: no Python package does what they do in one command.
ALONE = {
    "demo": "`repprobe demo`: `compare` of two digit CNNs (26 + 26 layers, 360 samples), 1 000 bootstrap "
            "resamples per best match, ridge probes over 6 α with a control, PCA, receptive fields, report",
}


def values(task, tool, output):
    """The numbers both tools print: the CKA matrix, or the leading explained-variance ratios."""
    if task == "pca":
        return np.array(output[0]["explained_variance_ratio"] if tool == "repprobe" else output["explained_variance_ratio"])
    return np.array(output["matrix"])


def main():
    folder, markdown, output = sys.argv[1:4]
    runs = {}
    for line in open(f"{folder}/times.tsv"):
        tool, task, wall, user, system, peak = line.split()
        runs.setdefault((tool, task), []).append({"wall_s": float(wall), "user_s": float(user), "system_s": float(system),
                                                  "peak_bytes": int(peak) * 1024})

    def median(tool, task, key):
        return statistics.median(r[key] for r in runs[(tool, task)])

    rows = []
    for task in TASKS:
        ours = values(task, "repprobe", json.load(open(f"{folder}/repprobe-{task}.json")))
        theirs = values(task, "numpy", json.load(open(f"{folder}/numpy-{task}.json")))
        row = {"task": task, "runs": len(runs[("repprobe", task)]), "max_abs_difference": float(np.max(np.abs(ours - theirs)))}
        for tool in ("repprobe", "numpy"):
            row[tool] = {key: median(tool, task, key) for key in ("wall_s", "user_s", "system_s", "peak_bytes")}
        rows.append(row)
    alone = [{"task": task, "runs": len(runs[("repprobe", task)]),
              "repprobe": {key: median("repprobe", task, key) for key in ("wall_s", "user_s", "system_s", "peak_bytes")}}
             for task in ALONE if ("repprobe", task) in runs]
    json.dump({"rows": rows, "alone": alone, "runs": {f"{tool} {task}": r for (tool, task), r in runs.items()}}, open(output, "w"), indent=2)

    lines = ["# Whole commands: repprobe against the NumPy and scikit-learn scripts", "",
             "Each command is a whole process, start to exit, timed by `/usr/bin/time` (`Benchmarks/process/run.sh`); repprobe and "
             "Python alternate, and the table gives medians. Ratio = repprobe / Python: below 1, repprobe is faster or smaller.", "",
             "| task | runs | repprobe wall (s) | Python wall (s) | ratio | repprobe system (s) | Python system (s) | repprobe peak (MB) | Python peak (MB) | peak ratio | max \\|Δ\\| |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    if "-quick" in markdown:
        lines.insert(2, "A `--quick` run: the files are smaller than the task column says.\n")
    for row in rows:
        ours, theirs = row["repprobe"], row["numpy"]
        lines.append(f"| {TASKS[row['task']]} | {row['runs']} | {ours['wall_s']:.2f} | {theirs['wall_s']:.2f} | {ours['wall_s'] / theirs['wall_s']:.2f} | "
                     f"{ours['system_s']:.2f} | {theirs['system_s']:.2f} | {ours['peak_bytes'] / 1e6:.0f} | {theirs['peak_bytes'] / 1e6:.0f} | "
                     f"{ours['peak_bytes'] / theirs['peak_bytes']:.2f} | {row['max_abs_difference']:.1e} |")
    if alone:
        lines += ["", "Timed alone, as the same medians:", "",
                  "| command | runs | wall (s) | user (s) | system (s) | peak (MB) |", "|---|---:|---:|---:|---:|---:|"]
        for row in alone:
            ours = row["repprobe"]
            lines.append(f"| {ALONE[row['task']]} | {row['runs']} | {ours['wall_s']:.2f} | {ours['user_s']:.2f} | "
                         f"{ours['system_s']:.2f} | {ours['peak_bytes'] / 1e6:.0f} |")
    open(markdown, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

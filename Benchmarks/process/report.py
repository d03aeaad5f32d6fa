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
}


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
        ours = np.array(json.load(open(f"{folder}/repprobe-{task}.json"))["matrix"])
        theirs = np.array(json.load(open(f"{folder}/numpy-{task}.json"))["matrix"])
        row = {"task": task, "runs": len(runs[("repprobe", task)]), "max_abs_difference": float(np.max(np.abs(ours - theirs)))}
        for tool in ("repprobe", "numpy"):
            row[tool] = {key: median(tool, task, key) for key in ("wall_s", "user_s", "system_s", "peak_bytes")}
        rows.append(row)
    json.dump({"rows": rows, "runs": {f"{tool} {task}": r for (tool, task), r in runs.items()}}, open(output, "w"), indent=2)

    lines = ["# Whole commands: repprobe against the NumPy script", "",
             "Each command is a whole process, start to exit, timed by `/usr/bin/time` (`Benchmarks/process/run.sh`); repprobe and "
             "NumPy alternate, and the table gives medians. Ratio = repprobe / NumPy: below 1, repprobe is faster or smaller.", "",
             "| task | runs | repprobe wall (s) | NumPy wall (s) | ratio | repprobe system (s) | NumPy system (s) | repprobe peak (MB) | NumPy peak (MB) | peak ratio | max \\|Δ\\| |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ours, theirs = row["repprobe"], row["numpy"]
        lines.append(f"| {TASKS[row['task']]} | {row['runs']} | {ours['wall_s']:.2f} | {theirs['wall_s']:.2f} | {ours['wall_s'] / theirs['wall_s']:.2f} | "
                     f"{ours['system_s']:.2f} | {theirs['system_s']:.2f} | {ours['peak_bytes'] / 1e6:.0f} | {theirs['peak_bytes'] / 1e6:.0f} | "
                     f"{ours['peak_bytes'] / theirs['peak_bytes']:.2f} | {row['max_abs_difference']:.1e} |")
    open(markdown, "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""Writes the store benchmark's results from the timings and outputs run.sh left in DIR.

    python3 Benchmarks/stores/report.py DIR SMALL LARGE results.md results.json
"""
import json
import statistics
import sys

import numpy as np


def main():
    folder, small, large, markdown, output = sys.argv[1:6]
    samples = {"small": int(small), "large": int(large)}
    runs = {}
    for line in open(f"{folder}/times.tsv"):
        label, size, wall, user, system, peak = line.split()
        runs.setdefault((label, size), []).append((float(wall), float(user), float(system), int(peak) * 1024))

    def median(key, k):
        return statistics.median(r[k] for r in runs[key])

    def load(label, size):
        return json.load(open(f"{folder}/{label}-{size}.json"))

    agreement = {}
    for size in samples:
        ours, theirs = np.array(load("repprobe-cka", size)["matrix"]), np.array(load("numpy-cka", size)["matrix"])
        cka = float(np.max(np.abs(ours - theirs)))
        ours, theirs = load("repprobe-pca", size), load("sklearn-pca", size)
        pca = max(float(np.max(np.abs(np.array(a["explained_variance"]) / np.array(b["explained_variance"]) - 1))) for a, b in zip(ours, theirs))
        agreement[size] = {"cka_max_abs_difference": cka, "pca_max_relative_difference": pca}

    rows = []
    for (label, size) in runs:
        rows.append({"tool": label, "samples": samples[size], "runs": len(runs[(label, size)]), "wall_s": median((label, size), 0),
                     "user_s": median((label, size), 1), "system_s": median((label, size), 2), "peak_bytes": median((label, size), 3)})
    json.dump({"rows": rows, "agreement": agreement}, open(output, "w"), indent=2)

    lines = ["# Analyses of activation stores larger than their memory budget", "",
             "`repprobe cka` and `repprobe pca` stream a shard set a block of samples at a time (`--memory 500M`); "
             "the NumPy and scikit-learn scripts load every shard and analyse in memory. Whole processes, "
             "`/usr/bin/time`; medians of the runs. Written by `Benchmarks/stores/run.sh`.", "",
             "| analysis | samples | repprobe wall | Python wall | ratio | repprobe peak | Python peak | agreement |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for analysis, other, key in (("cka", "numpy-cka", "cka_max_abs_difference"), ("pca", "sklearn-pca", "pca_max_relative_difference")):
        for size in samples:
            ours, theirs = (f"repprobe-{analysis}", size), (other, size)
            lines.append(f"| {analysis} | {samples[size]:,} | {median(ours, 0):.1f} s | {median(theirs, 0):.1f} s | "
                         f"{median(ours, 0) / median(theirs, 0):.2f} | {median(ours, 3) / 1e6:.0f} MB | {median(theirs, 3) / 1e6:.0f} MB | "
                         f"{agreement[size][key]:.1e} |")
    lines += ["", "Agreement: largest absolute difference of the CKA tables, largest relative difference of the "
              "explained variances of the leading 10 components.", ""]
    open(markdown, "w").write("\n".join(lines))


main()

"""Writes the scale benchmark's results from the timings and outputs run.sh left in DIR.

    python3 Benchmarks/scale/report.py DIR results.md results.json
"""
import json
import statistics
import sys

import numpy as np


def main():
    folder, markdown, output = sys.argv[1:4]
    runs = {}
    for line in open(f"{folder}/times.tsv"):
        label, size, wall, user, system, peak = line.split()
        runs.setdefault((label, size), []).append((float(wall), float(user), float(system), int(peak) * 1024))
    sizes = {size: int(np.load(f"{folder}/x-{size}.npy", mmap_mode="r").shape[0]) for size in ("small", "large")}

    def median(key, k):
        return statistics.median(r[k] for r in runs[key])

    rows = []
    for (label, size) in runs:
        rows.append({"tool": label, "inputs": sizes[size], "runs": len(runs[(label, size)]), "wall_s": median((label, size), 0),
                     "user_s": median((label, size), 1), "system_s": median((label, size), 2), "peak_bytes": median((label, size), 3)})
    # Agreement: repprobe's streamed table against torch's feature sums, and mpirun against one process.
    def table(label, size, key="matrix"):
        return np.array(json.load(open(f"{folder}/{label}-{size}.json"))[key], dtype=float)
    agreement = {size: float(np.nanmax(np.abs(table("repprobe", size) - table("pytorch", size)))) for size in ("small", "large")}
    if ("mpirun-2", "large") in runs:
        agreement["mpirun_vs_one_process"] = float(np.nanmax(np.abs(table("mpirun-2", "large") - table("repprobe", "large"))))
    minibatch = float(np.nanmax(np.abs(table("pytorch", "large", "minibatch") - table("repprobe", "large"))))

    lines = ["# Scale: the streamed CKA table", "",
             "Two ResNet-18s (random weights, 32 × 32 inputs), twelve layers each reduced by mean, the whole command timed "
             "(`Benchmarks/scale/run.sh`). Medians of the runs; peak is the largest resident set.", "",
             "| tool | inputs | runs | wall (s) | user (s) | system (s) | peak (MB) |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (r["inputs"], r["tool"])):
        lines.append(f"| {r['tool']} | {r['inputs']} | {r['runs']} | {r['wall_s']:.1f} | {r['user_s']:.1f} | {r['system_s']:.1f} | {r['peak_bytes'] / 1e6:.0f} |")
    def ratio(a, b, size, k=0):
        return median((a, size), k) / median((b, size), k)
    lines += ["", f"- repprobe peak memory, {sizes['large']} against {sizes['small']} inputs: "
              f"{median(('repprobe', 'large'), 3) / median(('repprobe', 'small'), 3):.2f}×",
              f"- PyTorch / repprobe wall time: {ratio('pytorch', 'repprobe', 'small'):.2f}× ({sizes['small']} inputs), "
              f"{ratio('pytorch', 'repprobe', 'large'):.2f}× ({sizes['large']})",
              f"- largest difference of the tables, repprobe against torch's feature sums: {agreement['small']:.1e} and {agreement['large']:.1e}; "
              f"torch's minibatch CKA (another estimator) differs by up to {minibatch:.3f}"]
    if ("mpirun-2", "large") in runs:
        lines.append(f"- `mpirun -np 2` / one process wall time on this machine's 2 cores: {ratio('mpirun-2', 'repprobe', 'large'):.2f}×; "
                     f"tables differ by {agreement['mpirun_vs_one_process']:.1e}")
    open(markdown, "w").write("\n".join(lines) + "\n")
    json.dump({"runs": rows, "agreement": agreement, "minibatch_difference": minibatch}, open(output, "w"), indent=1)


if __name__ == "__main__":
    main()

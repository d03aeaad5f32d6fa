"""Pools the rounds of run.sh and writes the Markdown table and JSON of the transformer
benchmark: per model, each tool's best and median throughput over all its runs, and
repprobe's ratio to onnxruntime and to PyTorch (higher is better for repprobe).

Usage: python3 report.py DATA ROUNDS OUT.md OUT.json
"""
import json
import os
import statistics
import sys


def kept_notes(path):
    """What an earlier results file has below its table: the history of earlier runs and the
    whole-process table, which are written by hand and which this script does not make. They
    are kept under the new table (their first paragraph, on the run before, wants updating)."""
    if not os.path.exists(path):
        return ""
    lines = open(path).read().splitlines()
    i = 0
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    while i < len(lines) and lines[i].startswith("|"):
        i += 1
    rest = "\n".join(lines[i:]).strip("\n")
    return "\n" + rest + "\n" if rest else ""


def main():
    data, rounds, out_md, out_json = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    pooled = {}
    errors = {}
    for tool in ["ort", "torch", "repprobe"]:
        for r in range(1, rounds + 1):
            report = json.load(open(os.path.join(data, f"{tool}_{r}.json")))
            for m in report["measurements"]:
                entry = pooled.setdefault(m["model"], {}).setdefault(tool, {"batch": m["batch"], "runs": []})
                entry["runs"] += m["runs"]
                if m.get("max_relative_error") is not None:
                    errors[m["model"]] = max(errors.get(m["model"], 0), m["max_relative_error"])
    rows, table = [], []
    table.append("| model | batch | onnxruntime /s | PyTorch /s | repprobe /s | repprobe ÷ onnxruntime | repprobe ÷ PyTorch | max rel. error vs onnxruntime |")
    table.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model, tools in pooled.items():
        rate = {}
        for tool, entry in tools.items():
            best, median = min(entry["runs"]), statistics.median(entry["runs"])
            rate[tool] = (entry["batch"] / best, entry["batch"] / median)
        batch = tools["repprobe"]["batch"]
        row = {"model": model, "batch": batch, "runs": {t: tools[t]["runs"] for t in tools},
               "samples_per_second_best": {t: rate[t][0] for t in rate}, "samples_per_second_median": {t: rate[t][1] for t in rate},
               "ratio_to_onnxruntime_median": rate["repprobe"][1] / rate["ort"][1],
               "ratio_to_pytorch_median": rate["repprobe"][1] / rate["torch"][1], "max_relative_error": errors.get(model)}
        rows.append(row)
        fmt = lambda t: f"{rate[t][1]:.2f} ({rate[t][0]:.2f})"
        table.append(f"| {model} | {batch} | {fmt('ort')} | {fmt('torch')} | {fmt('repprobe')} | "
                     f"{row['ratio_to_onnxruntime_median']:.2f} | {row['ratio_to_pytorch_median']:.2f} | "
                     f"{errors.get(model, float('nan')):.1e} |")
    text = ("Samples per second, median over all runs of every round (best in brackets); "
            f"{rounds} alternating rounds, 2 threads each.\n\n" + "\n".join(table) + "\n")
    text += kept_notes(out_md)
    open(out_md, "w").write(text)
    json.dump({"rounds": rounds, "rows": rows}, open(out_json, "w"), indent=2)


if __name__ == "__main__":
    main()

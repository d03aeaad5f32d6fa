#!/usr/bin/env python3
"""Pairs the repprobe and onnxruntime timings of one network benchmark run, with the
capture memory figures, into a Markdown table and a JSON file.

    python3 report.py DATA_DIR --repprobe R1.json [R2.json ...] --ort O1.json [O2.json ...]
        [--capture C1.json ...] --markdown OUT.md --json OUT.json [--commit REV]

Each side may come in several rounds (alternating runs of the two tools); the timed
runs of all rounds are pooled, and throughput is the batch size over the best (and the
median) of them. The table is also printed on stdout. Ratio = repprobe throughput /
onnxruntime throughput: above 1, repprobe is faster. The target is a ratio of at least
1 for every row (it was 0.5), and a capture peak memory that does not grow with the number of inputs.
"""

import argparse
import json
import os
import platform
import statistics

TARGET_RATIO = 1.0
# Peak memory counts as flat if the larger capture stays within this margin of the smaller.
MEMORY_MARGIN = 1.05


def count(n):
    return f"{n:,}".replace(",", " ")


def mib(kib):
    return "—" if kib is None else f"{kib / 1024:.0f} MiB"


def pooled(paths):
    """The reports of several rounds as one: every measurement's runs joined, best and
    median recomputed, the rounds' own figures kept under "rounds"."""
    reports = []
    for path in paths:
        with open(path) as f:
            reports.append(json.load(f))
    merged = dict(reports[0], rounds=len(reports))
    measurements = {}
    for report in reports:
        for m in report["measurements"]:
            key = (m["file"], m["batch"])
            if key not in measurements:
                measurements[key] = dict(m, runs=[], round_best=[])
            measurements[key]["runs"] += m["runs"]
            measurements[key]["round_best"].append(m["best"])
    for m in measurements.values():
        m["best"], m["median"] = min(m["runs"]), statistics.median(m["runs"])
        m["images_per_second"] = m["batch"] / m["best"]
        m["images_per_second_median"] = m["batch"] / m["median"]
    merged["measurements"] = list(measurements.values())
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--repprobe", nargs="+", required=True, help="repprobe-bench --networks reports, one per round")
    parser.add_argument("--ort", nargs="+", required=True, help="ort_bench.py reports, one per round")
    parser.add_argument("--capture", nargs="*", default=[], help="repprobe-bench --capture-memory reports")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--commit", default="")
    args = parser.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    repprobe = pooled(args.repprobe)
    ort = pooled(args.ort)
    # Reports of the same input size (one per round) become one row.
    runs_by_size = {}
    for path in args.capture:
        with open(path) as f:
            report = json.load(f)
        runs_by_size.setdefault(report["samples"], []).append(report)
    captures = []
    for samples in sorted(runs_by_size):
        runs = runs_by_size[samples]
        summary = dict(runs[0])
        for key in ("peak_rss_after_load_kib", "seconds"):
            summary[key] = statistics.median(r[key] for r in runs)
        # The smallest peak: what the runs have in common. Transient buffers of the two
        # threads that happen to coincide only raise a run's peak, as a busy machine only
        # lengthens a run's time (the speed rows take best times for the same reason).
        summary["peak_rss_kib"] = min(r["peak_rss_kib"] for r in runs)
        summary["peak_rss_kib_runs"] = [r["peak_rss_kib"] for r in runs]
        captures.append(summary)

    ort_rows = {(m["file"], m["batch"]): m for m in ort["measurements"]}
    rows = []
    for r in repprobe["measurements"]:
        o = ort_rows[(r["file"], r["batch"])]
        rows.append(
            {
                "model": r["model"],
                "batch": r["batch"],
                "repprobe_images_per_second": r["images_per_second"],
                "ort_images_per_second": o["images_per_second"],
                "ratio": r["images_per_second"] / o["images_per_second"],
                "repprobe_images_per_second_median": r["images_per_second_median"],
                "ort_images_per_second_median": o["images_per_second_median"],
                "ratio_median": r["images_per_second_median"] / o["images_per_second_median"],
                "max_relative_error": r.get("max_relative_error"),
                "max_absolute_error": r.get("max_absolute_error"),
                "repprobe_runs": r["runs"],
                "ort_runs": o["runs"],
            }
        )

    lines = [
        "# Network benchmark: repprobe against onnxruntime",
        "",
        f"CPU: {ort['cpu']}, {ort['threads']} threads on each side. "
        f"repprobe: {repprobe['blas']}. onnxruntime {ort['version']} ({ort['session']}). "
        f"Models exported by PyTorch {manifest['torch']} (TorchScript exporter, opset 17, BatchNorm folded). "
        f"Python {platform.python_version()}."
        + (f" Commit {args.commit}." if args.commit else ""),
        "",
        f"Throughput is the batch size over the best wall-clock time of all timed runs: {repprobe['rounds']} "
        f"alternating rounds (onnxruntime, then repprobe), each of {manifest['warmup']} untimed runs and then "
        + ", ".join(f"{n} timed runs at batch {b}" for b, n in manifest["runs"].items())
        + ". The ratio of the median times is the last column but one.",
        "",
        "| model | batch | repprobe img/s | onnxruntime img/s | ratio repprobe/ORT | ratio (medians) | max rel. error |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        error = row["max_relative_error"]
        lines.append(
            f"| {row['model']} | {row['batch']} | {row['repprobe_images_per_second']:.1f} "
            f"| {row['ort_images_per_second']:.1f} | {row['ratio']:.2f} | {row['ratio_median']:.2f} "
            f"| {'—' if error is None else f'{error:.1e}'} |"
        )
    met = all(row["ratio"] >= TARGET_RATIO for row in rows)
    lines += [
        "",
        f"Target, at least {TARGET_RATIO:g}× onnxruntime's throughput on every row: {'met' if met else 'not met'}.",
        "Max rel. error is max |repprobe − onnxruntime| / max |onnxruntime| over the logits.",
    ]

    memory = None
    if captures:
        first = captures[0]
        lines += [
            "",
            "## Capture memory",
            "",
            f"Streamed capture with `Capture.run` (`NPYInputs` → `NPZActivationWriter`) of {first['model']}, "
            f"layers {', '.join(first['layers'])}, reduction `{first['reduction']}`, batch {first['batch']}; "
            "peak resident memory (`VmHWM`) of the process at the end; the smallest of one run per round "
            "(every run's peak in brackets), other columns medians.",
            "",
            "| inputs | input file | peak RSS | after loading | capture time |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for c in captures:
            size = os.path.getsize(os.path.join(args.data, c["inputs"])) / 2**20
            each = ", ".join(mib(k) for k in c["peak_rss_kib_runs"])
            lines.append(
                f"| {count(c['samples'])} | {size:.0f} MiB | {mib(c['peak_rss_kib'])} ({each}) "
                f"| {mib(c['peak_rss_after_load_kib'])} | {c['seconds']:.1f} s |"
            )
        flat = captures[-1]["peak_rss_kib"] <= MEMORY_MARGIN * captures[0]["peak_rss_kib"]
        lines += [
            "",
            f"Target, peak memory over {count(captures[-1]['samples'])} inputs no higher than over "
            f"{count(captures[0]['samples'])}: {'met' if flat else 'not met'} (within {round((MEMORY_MARGIN - 1) * 100)} %).",
        ]
        memory = {"captures": captures, "flat": flat}

    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.markdown, "w") as f:
        f.write(text)
    with open(args.json, "w") as f:
        json.dump(
            {
                "commit": args.commit,
                "manifest": manifest,
                "rows": rows,
                "target_met": met,
                "memory": memory,
                "repprobe": repprobe,
                "onnxruntime": ort,
            },
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()

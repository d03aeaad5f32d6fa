#!/usr/bin/env python3
"""The project's speed targets, row by row, from the latest results of every benchmark.

    python3 Benchmarks/targets.py [--markdown Benchmarks/targets.md]

Reads the results.json that each suite writes (Benchmarks/run.sh for the kernels, and
process/, networks/, training/ and transformers/) and prints one table: the task, the tool
it is measured against, repprobe's figure and the target, and whether the target is met.
Every figure is a median over alternating rounds of the suite that made it; a suite whose
results are missing is reported as such, not skipped.
"""
import argparse
import json
import pathlib
import statistics

HERE = pathlib.Path(__file__).resolve().parent


def load(relative):
    path = HERE / relative
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def measurement(side, ident):
    for m in side["measurements"]:
        if m["id"] == ident:
            return m
    raise KeyError(f"no measurement {ident!r}")


def rows():
    """(task, peer, figure, target, met, source) for every target; figure and target as text."""
    out = []
    missing = lambda task, peer, target, source: out.append((task, peer, "no results", target, None, source))

    process = load("process/results.json")
    source = "process/results.json"
    if process is None:
        missing("`repprobe cka X.npy Y.npy`, whole process, 10 000 × 2 048", "NumPy script", "≤ 0.9, peak ≤ NumPy's", source)
        missing("12-layer all-pairs CKA, n = 5 000, whole process", "NumPy script", "≤ 0.9", source)
        missing("`compare` demo (26 + 26 layers, 1 000 resamples)", "—", "≤ 10 s", source)
    else:
        by_task = {r["task"]: r for r in process["rows"]}
        pair = by_task["pair"]
        time_ratio = pair["repprobe"]["wall_s"] / pair["numpy"]["wall_s"]
        peak_ratio = pair["repprobe"]["peak_bytes"] / pair["numpy"]["peak_bytes"]
        out.append(("`repprobe cka X.npy Y.npy`, whole process, 10 000 × 2 048", "NumPy script",
                    f"{time_ratio:.2f} of the time, {peak_ratio:.2f} of the peak", "≤ 0.9, peak ≤ NumPy's",
                    time_ratio <= 0.9 and peak_ratio <= 1, source))
        layers = by_task["layers"]
        ratio = layers["repprobe"]["wall_s"] / layers["numpy"]["wall_s"]
        out.append(("12-layer all-pairs CKA, n = 5 000, whole process", "NumPy script", f"{ratio:.2f} of the time",
                    "≤ 0.9", ratio <= 0.9, source))
        demo = {r["task"]: r for r in process["alone"]}["demo"]["repprobe"]["wall_s"]
        out.append(("`compare` demo (26 + 26 layers, 1 000 resamples)", "—", f"{demo:.2f} s", "≤ 10 s", demo <= 10, source))

    networks = load("networks/results.json")
    source = "networks/results.json"
    for model in ("ResNet-18", "ViT (4 blocks)"):
        for batch in (1, 8):
            task = f"{model} forward, batch {batch}"
            row = None if networks is None else next(
                (r for r in networks["rows"] if r["model"] == model and r["batch"] == batch), None)
            if row is None:
                missing(task, "onnxruntime", "≥ 1.0", source)
                continue
            out.append((task, "onnxruntime", f"{row['ratio_median']:.2f}× its throughput (best {row['ratio']:.2f})",
                        "≥ 1.0", min(row["ratio_median"], row["ratio"]) >= 1, source))

    transformers = load("transformers/results.json")
    source = "transformers/results.json"
    for row in [] if transformers is None else transformers["rows"]:
        ratio = row["ratio_to_onnxruntime_median"]
        out.append((f"{row['model']}, batch {row['batch']}", "onnxruntime", f"{ratio:.2f}× its throughput", "≥ 1.0",
                    ratio >= 1, source))
    if transformers is None:
        missing("BERT-base-shaped encoder", "onnxruntime", "≥ 1.0", source)

    training = load("training/results.json")
    source = "training/results.json"
    for row in [] if training is None else training["results"]:
        ratio = row["ratio_median"]
        out.append((f"training step, {row['network']}", "PyTorch", f"{ratio:.2f} of the time", "≤ 1.2", ratio <= 1.2, source))
    if training is None:
        missing("training step", "PyTorch", "≤ 1.2", source)

    kernels = load("results.json")
    source = "results.json"
    if kernels is None:
        missing("exact PCA 10 000 × 1 024", "scikit-learn `covariance_eigh`", "≤ 1.0", source)
        missing("logistic probe 5 000 × 256, 10 classes, 5 folds", "scikit-learn", "≤ 0.5, same accuracy", source)
    else:
        mine, theirs = kernels["repprobe"], kernels["python"]
        ratio = measurement(mine, "pca.exact")["seconds"] / measurement(theirs, "pca.exact.covariance_eigh")["seconds"]
        out.append(("exact PCA 10 000 × 1 024", "scikit-learn `covariance_eigh`", f"{ratio:.2f} of the time", "≤ 1.0",
                    ratio <= 1, source))
        ours, sklearn = measurement(mine, "probe.logistic"), measurement(theirs, "probe.logistic")
        ratio = ours["seconds"] / sklearn["seconds"]
        accuracy = statistics.mean(ours["values"]["mean_accuracy"]), statistics.mean(sklearn["values"]["mean_accuracy"])
        # repprobe solves to a gradient of 1e-8, scikit-learn stops at 1e-4: the accuracies
        # agree to the third decimal, not to the last digit.
        same = abs(accuracy[0] - accuracy[1]) <= 1e-3
        out.append(("logistic probe 5 000 × 256, 10 classes, 5 folds", "scikit-learn",
                    f"{ratio:.2f} of the time, accuracy {accuracy[0]:.4f} against {accuracy[1]:.4f}",
                    "≤ 0.5, same accuracy", ratio <= 0.5 and same, source))
    return out


def markdown(table):
    lines = ["| task | against | repprobe | target | met | results |", "| --- | --- | --- | --- | --- | --- |"]
    for task, peer, figure, target, met, source in table:
        verdict = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {task} | {peer} | {figure} | {target} | {verdict} | `Benchmarks/{source}` |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=pathlib.Path, help="also write the table here")
    args = parser.parse_args()
    text = markdown(rows())
    print(text, end="")
    if args.markdown:
        args.markdown.write_text("# Speed targets\n\nWritten by `Benchmarks/targets.py` from each suite's latest results.\n\n" + text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Pairs the repprobe and Python timings of one run into a Markdown table and a JSON file.

    python3 report.py DATA_DIR --repprobe JSON... --python JSON... --markdown OUT.md --json OUT.json [--commit REV]

Each JSON is one round, printed by repprobe-bench or python_bench.py; a measurement's time
is the median of its rounds' times.

The table is also printed on stdout. Ratio = repprobe time / Python time: below 1,
repprobe is faster.
"""

import argparse
import json
import os

import numpy as np


def seconds(value):
    if value is None:
        return "—"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def sci(value):
    return f"{value:.1e}"


class Run:
    def __init__(self, repprobe, python):
        self.r = {m["id"]: m for m in repprobe["measurements"]}
        self.p = {m["id"]: m for m in python["measurements"]}

    def fastest_python(self, ids):
        present = [self.p[i] for i in ids if i in self.p]
        return min(present, key=lambda m: m["seconds"])

    def gflops(self, key):
        m = self.r[key]
        return m["flops"] / m["seconds"] / 1e9 if m.get("flops") else None

    def value(self, side, key, name):
        return np.asarray(side[key]["values"][name])


def pooled(paths):
    """The rounds' reports as one: each measurement's time is the median of its rounds'
    times (each the best of that round's repetitions), which are kept in `rounds`."""
    reports = []
    for path in paths:
        with open(path) as f:
            reports.append(json.load(f))
    merged = dict(reports[0])
    merged["measurements"] = []
    for m in reports[0]["measurements"]:
        times = [next(x for x in r["measurements"] if x["id"] == m["id"])["seconds"] for r in reports]
        merged["measurements"].append(dict(m, seconds=float(np.median(times)), rounds=times))
    merged["rounds"] = len(reports)
    return merged


def rows(run, manifest):
    """One dict per table row: label, shape, both times, GFLOP/s, floor and a note."""
    floor = {"f64": run.gflops("floor.dgemm"), "f32": run.gflops("floor.sgemm")}
    out = []

    def row(label, r_key, p, note="", precision=None, python_label=None):
        r = run.r[r_key]
        out.append(
            {
                "task": label,
                "shape": r["shape"],
                "repprobe_id": r_key,
                "python_id": p["id"],
                "python_label": python_label or "",
                "repprobe_seconds": r["seconds"],
                "python_seconds": p["seconds"],
                "ratio": r["seconds"] / p["seconds"],
                "gflops": run.gflops(r_key) if precision else None,
                "floor_gflops": floor[precision] if precision else None,
                "floor_kind": {"f64": "dgemm", "f32": "sgemm"}.get(precision),
                "note": note,
            }
        )

    for kind, precision in (("dgemm", "f64"), ("sgemm", "f32")):
        key = f"floor.{kind}"
        numpy_rate = run.p[key]["flops"] / run.p[key]["seconds"] / 1e9
        row(f"{kind} (the floor)", key, run.p[key], f"NumPy {numpy_rate:.1f} GFLOP/s", precision, "NumPy `@`")

    for precision, name in (("f64", "float64"), ("f32", "float32")):
        numpy_ids = [f"cka.{precision}.feature", f"cka.{precision}.gram"]
        fastest = run.fastest_python(numpy_ids)
        fastest_form = fastest["id"].rsplit(".", 1)[1]
        for form in ("automatic", "feature", "gram"):
            key = f"cka.{precision}.{form}"
            same = f"cka.{precision}.{'feature' if form == 'automatic' else form}"
            delta = abs(run.value(run.r, key, "cka")[0] - run.value(run.p, same, "cka")[0])
            note = f"CKA {run.value(run.r, key, 'cka')[0]:.6f}, \\|Δ\\| vs NumPy {same.rsplit('.', 1)[1]} form {sci(delta)}"
            if form == "gram":
                numpy_gram = run.p[f"cka.{precision}.gram"]["seconds"]
                note += f"; NumPy Gram form {seconds(numpy_gram)} (ratio {run.r[key]['seconds'] / numpy_gram:.2f})"
            row(f"linear CKA {name}, `.{form}`", key, fastest, note, precision, f"NumPy {fastest_form} form")

    all_pairs = run.r["cka_matrix.all_pairs"]["seconds"]
    pairwise = run.r["cka_matrix.pairwise"]["seconds"]
    numpy_pairwise = run.p["cka_matrix.pairwise"]["seconds"]
    numpy_pre = run.p["cka_matrix.precomputed"]["seconds"]
    fastest = run.fastest_python(["cka_matrix.pairwise", "cka_matrix.precomputed"])
    matrix = run.value(run.r, "cka_matrix.all_pairs", "matrix")
    delta_numpy = np.max(np.abs(matrix - run.value(run.p, "cka_matrix.pairwise", "matrix")))
    delta_pairs = np.max(np.abs(matrix - run.value(run.r, "cka_matrix.pairwise", "matrix")))
    row(
        "CKA matrix, `CKAMatrix.compute` (all pairs)",
        "cka_matrix.all_pairs",
        fastest,
        f"all pairs {pairwise / all_pairs:.1f}× faster than repprobe pair by pair; max \\|Δ\\| vs NumPy {sci(delta_numpy)}, "
        f"vs pair by pair {sci(delta_pairs)}",
        "f64",
        "NumPy per-layer precomputed" if fastest["id"].endswith("precomputed") else "NumPy pair by pair",
    )
    count = len(manifest["cka_matrix"]["widths"])
    calls = count * (count + 1) // 2
    row(
        f"CKA matrix, `CKA.linear` pair by pair ({calls} calls, diagonal included)",
        "cka_matrix.pairwise",
        run.p["cka_matrix.pairwise"],
        f"NumPy per-layer precomputed: {seconds(numpy_pre)} ({numpy_pairwise / numpy_pre:.1f}× over its pair loop)",
        "f64",
        "NumPy pair by pair",
    )

    top = manifest["pca_compare_top"]
    for key, label, python_label in (
        ("pca.exact", "PCA exact, all components", "sklearn `svd_solver='full'`"),
        ("pca.randomized", f"PCA randomized, top {manifest['pca_randomized']['components']}", "sklearn `'randomized'`"),
    ):
        mine = run.value(run.r, key, "explained_variance")
        theirs = run.value(run.p, key, "explained_variance")
        k = min(top, len(mine), len(theirs))
        relative = np.max(np.abs(mine[:k] - theirs[:k]) / np.abs(theirs[:k]))
        note = f"max rel. Δ of top-{k} explained variance {sci(relative)}"
        if key == "pca.exact":
            eigh = run.p["pca.exact.covariance_eigh"]["seconds"]
            note += f"; sklearn `'covariance_eigh'` {seconds(eigh)} (ratio {run.r[key]['seconds'] / eigh:.2f})"
        row(label, key, run.p[key], note, python_label=python_label)

    for key, label, python_label in (
        ("probe.ridge", "ridge probe, α ∈ " + str(manifest["probe"]["alphas"]), "sklearn `RidgeClassifier`"),
        ("probe.logistic", "logistic probe, C = " + str(manifest["probe"]["c"][0]), "sklearn `LogisticRegression`"),
    ):
        mine = run.value(run.r, key, "mean_accuracy")
        theirs = run.value(run.p, key, "mean_accuracy")
        note = (
            "mean accuracy repprobe " + "/".join(f"{v:.4f}" for v in mine)
            + ", sklearn " + "/".join(f"{v:.4f}" for v in theirs)
            + f" (max \\|Δ\\| {sci(np.max(np.abs(mine - theirs)))})"
        )
        if key == "probe.logistic":
            note += (
                f"; L-BFGS iterations on fold 0: repprobe {int(run.value(run.r, key, 'iterations_fold0')[0])}, "
                f"sklearn {int(run.value(run.p, key, 'iterations_fold0')[0])}"
            )
        row(label, key, run.p[key], note, python_label=python_label)
    return out


def markdown(table, manifest, repprobe, python, commit):
    kernels = ", ".join(
        f"{b.get('filepath')} {b.get('version')} kernel {b.get('architecture')}, {b.get('num_threads')} threads"
        for b in python["blas"]
        if b.get("user_api") == "blas"
    )
    env = python.get("environment", {})
    unset = all(env.get(v) is None for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    versions = python["versions"]
    lines = [
        f"# repprobe benchmarks ({manifest['mode']} run)",
        "",
        f"- repprobe{' at ' + commit if commit else ''}: {repprobe['blas']}, {repprobe['threads']} threads",
        f"- Python {versions['python']}, NumPy {versions['numpy']}, scikit-learn {versions['scikit-learn']}: "
        f"{kernels}"
        + (" (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for this process)" if unset else ""),
        f"- Each time is the median over {repprobe['rounds']} rounds, repprobe and Python alternating, of the round's "
        f"best wall-clock time of {manifest['repeats']['default']} runs after one warm-up "
        f"({manifest['repeats']['gram']} for the Gram forms), both tools on the same `.npy` files in the same run.",
        "- Ratio = repprobe / Python: below 1, repprobe is faster. CKA rows are compared with the fastest NumPy formula.",
        "",
        "| task | shape | repprobe | Python | ratio | repprobe GFLOP/s | floor GFLOP/s | checks and notes |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for r in table:
        gflops = f"{r['gflops']:.1f}" if r["gflops"] is not None else "—"
        floor = f"{r['floor_gflops']:.1f} ({r['floor_kind']})" if r["floor_gflops"] is not None else "—"
        python_cell = f"{seconds(r['python_seconds'])} {r['python_label']}".strip()
        lines.append(
            f"| {r['task']} | {r['shape']} | {seconds(r['repprobe_seconds'])} | {python_cell} | "
            f"{r['ratio']:.2f} | {gflops} | {floor} | {r['note']} |"
        )
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder written by make_data.py (for manifest.json)")
    parser.add_argument("--repprobe", nargs="+", required=True, help="JSON printed by repprobe-bench, one per round")
    parser.add_argument("--python", nargs="+", required=True, help="JSON printed by python_bench.py, one per round")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--json", required=True)
    parser.add_argument("--commit", default="")
    args = parser.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    if len(args.repprobe) != len(args.python):
        parser.error(f"{len(args.repprobe)} repprobe rounds against {len(args.python)} Python rounds")
    repprobe, python = pooled(args.repprobe), pooled(args.python)

    table = rows(Run(repprobe, python), manifest)
    text = markdown(table, manifest, repprobe, python, args.commit)
    write_atomically(args.markdown, text)
    combined = {
        "mode": manifest["mode"],
        "commit": args.commit,
        "manifest": manifest,
        "rows": table,
        "repprobe": repprobe,
        "python": python,
    }
    write_atomically(args.json, json.dumps(combined, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()

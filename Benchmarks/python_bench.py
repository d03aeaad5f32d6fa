#!/usr/bin/env python3
"""Times NumPy and scikit-learn on the files that make_data.py wrote, and prints the
timings as JSON on stdout (progress goes to stderr).

    python3 python_bench.py DATA_DIR

Each timing is wall clock, the best of the manifest's repetition count after one
untimed warm-up call. BLAS is limited to the manifest's thread count through
threadpoolctl, whose report (library, version, kernel) is part of the output.
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import PredefinedSplit, cross_val_score
from threadpoolctl import threadpool_info, threadpool_limits


def log(message):
    print(message, file=sys.stderr, flush=True)


class Recorder:
    def __init__(self, repeats):
        self.repeats = repeats
        self.measurements = []

    def measure(self, key, shape, body, repeats_key="default", flops=None):
        """Runs `body` once untimed, then `repeats` timed; keeps the best time and the
        value of the last call."""
        repeats = self.repeats.get(repeats_key, self.repeats["default"])
        value = body()
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            value = body()
            runs.append(time.perf_counter() - start)
        best = min(runs)
        log(f"  {key:<32} {best:9.4f} s  (best of {repeats})")
        entry = {"id": key, "shape": shape, "seconds": best, "runs": runs}
        if flops is not None:
            entry["flops"] = flops
        self.measurements.append(entry)
        return value

    def attach(self, key, **values):
        """Adds result numbers (for the agreement checks) to a measurement."""
        for entry in self.measurements:
            if entry["id"] == key:
                entry.setdefault("values", {}).update(
                    {name: np.asarray(v, dtype=np.float64).ravel().tolist() for name, v in values.items()}
                )


# ---------------------------------------------------------------------------
# Linear CKA in the two textbook forms (biased HSIC estimator).
# ---------------------------------------------------------------------------
def cka_feature(x, y):
    """||YᵀX||²_F / (||XᵀX||_F ||YᵀY||_F) on centred data: cost ∝ n·d²."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    cross = y.T @ x
    return np.vdot(cross, cross) / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def cka_gram(x, y):
    """<K, L>_F / (||K||_F ||L||_F) for the centred n x n Grams: cost ∝ n²·d.

    Centring the data first gives the centred Gram HKH directly (and is cheaper than
    centring the n x n matrix)."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    k = x @ x.T
    norm_k = np.linalg.norm(k)
    l = y @ y.T
    return np.vdot(k, l) / (norm_k * np.linalg.norm(l))


def cka_matrix_pairwise(layers):
    """The loop most CKA code runs: every pair from scratch, the diagonal included."""
    count = len(layers)
    result = np.eye(count)
    for i in range(count):
        for j in range(i, count):
            result[i, j] = result[j, i] = cka_feature(layers[i], layers[j])
    return result


def cka_matrix_precomputed(layers):
    """Each layer centred and its ||XᵀX||_F computed once; each pair then costs one product."""
    centred = [layer - layer.mean(axis=0) for layer in layers]
    norms = [np.linalg.norm(c.T @ c) for c in centred]
    count = len(layers)
    result = np.eye(count)
    for i in range(count):
        for j in range(i + 1, count):
            cross = centred[j].T @ centred[i]
            result[i, j] = result[j, i] = np.vdot(cross, cross) / (norms[i] * norms[j])
    return result


def blas_report():
    """threadpoolctl's view of the loaded BLAS, without machine-specific paths."""
    report = []
    for entry in threadpool_info():
        entry = dict(entry)
        if "filepath" in entry:
            entry["filepath"] = os.path.basename(entry["filepath"])
        report.append(entry)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder written by make_data.py")
    args = parser.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)

    def load(name):
        return np.load(os.path.join(args.data, name))

    threads = manifest["threads"]
    with threadpool_limits(limits=threads):
        blas = blas_report()
        for entry in blas:
            log(
                f"python: {entry.get('internal_api')} {entry.get('version')} kernel={entry.get('architecture')} "
                f"threads={entry.get('num_threads')} ({entry.get('filepath')})"
            )
        for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            log(f"python: {variable}={os.environ.get(variable, '(unset)')}")
        recorder = Recorder(manifest["repeats"])
        run_floor(manifest, recorder)
        run_cka(manifest, recorder, load)
        run_cka_matrix(manifest, recorder, load)
        run_pca(manifest, recorder, load)
        run_probes(manifest, recorder, load)

    output = {
        "tool": "python",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "blas": blas,
        "environment": {v: os.environ.get(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "threads": threads,
        "measurements": recorder.measurements,
    }
    json.dump(output, sys.stdout, indent=1)
    print()


def run_floor(manifest, recorder):
    size = manifest["floor"]["size"]
    rng = np.random.default_rng(0)
    a = rng.random((size, size))
    b = rng.random((size, size))
    shape = f"{size}×{size}×{size}"
    flops = 2.0 * size**3
    log("python: gemm floor")
    recorder.measure("floor.dgemm", shape, lambda: a @ b, flops=flops)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    recorder.measure("floor.sgemm", shape, lambda: a32 @ b32, flops=flops)


def run_cka(manifest, recorder, load):
    c = manifest["cka"]
    shape = f"{c['n']}×{c['d']} ×2"
    for precision in ("f64", "f32"):
        log(f"python: linear CKA {precision}")
        x, y = load(c[f"x_{precision}"]), load(c[f"y_{precision}"])
        for form, function in (("feature", cka_feature), ("gram", cka_gram)):
            key = f"cka.{precision}.{form}"
            repeats_key = "gram" if form == "gram" else "default"
            value = recorder.measure(key, shape, lambda: function(x, y), repeats_key=repeats_key)
            recorder.attach(key, cka=[value])
        del x, y


def run_cka_matrix(manifest, recorder, load):
    m = manifest["cka_matrix"]
    layers = [load(name) for name in m["layers"]]
    shape = f"{len(layers)} layers, n={m['n']}, Σd={sum(m['widths'])}"
    log("python: CKA matrix")
    for key, function in (
        ("cka_matrix.pairwise", cka_matrix_pairwise),
        ("cka_matrix.precomputed", cka_matrix_precomputed),
    ):
        value = recorder.measure(key, shape, lambda: function(layers))
        recorder.attach(key, matrix=value)


def run_pca(manifest, recorder, load):
    top = manifest["pca_compare_top"]
    p = manifest["pca_exact"]
    x = load(p["x"])
    shape = f"{p['n']}×{p['d']}"
    log("python: PCA")
    for key, solver in (("pca.exact", "full"), ("pca.exact.covariance_eigh", "covariance_eigh")):
        fitted = recorder.measure(key, shape, lambda: PCA(svd_solver=solver).fit(x))
        recorder.attach(key, explained_variance=fitted.explained_variance_[:top])

    p = manifest["pca_randomized"]
    x = load(p["x"])
    k = p["components"]
    fitted = recorder.measure(
        "pca.randomized",
        f"{p['n']}×{p['d']}, top {k}",
        lambda: PCA(n_components=k, svd_solver="randomized", random_state=0).fit(x),
    )
    recorder.attach("pca.randomized", explained_variance=fitted.explained_variance_[:top])


def run_probes(manifest, recorder, load):
    p = manifest["probe"]
    x, labels, folds = load(p["x"]), load(p["labels"]), load(p["folds"])
    cv = PredefinedSplit(folds)
    fold_count = len(np.unique(folds))
    log("python: probes")

    def ridge_sweep():
        return [cross_val_score(RidgeClassifier(alpha=alpha), x, labels, cv=cv) for alpha in p["alphas"]]

    shape = f"{p['n']}×{p['d']}, {p['classes']} classes, {fold_count} folds"
    scores = recorder.measure("probe.ridge", shape + f", {len(p['alphas'])} alphas", ridge_sweep)
    recorder.attach("probe.ridge", mean_accuracy=[s.mean() for s in scores], fold_accuracy=scores)

    def logistic_sweep():
        return [cross_val_score(LogisticRegression(C=c, max_iter=1000), x, labels, cv=cv) for c in p["c"]]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = recorder.measure("probe.logistic", shape + f", C={p['c']}", logistic_sweep)
        # Iterations of one fold's fit (untimed), to compare the solvers' stopping points.
        train = folds != 0
        single = LogisticRegression(C=p["c"][0], max_iter=1000).fit(x[train], labels[train])
    recorder.attach(
        "probe.logistic",
        mean_accuracy=[s.mean() for s in scores],
        fold_accuracy=scores,
        iterations_fold0=np.atleast_1d(single.n_iter_).max(),
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the benchmark inputs once, so that repprobe and NumPy/scikit-learn time
the same bytes.

    python3 make_data.py OUT_DIR [--quick]

Every matrix is samples x features, C order, float64 unless its name says f32;
labels and folds are int64. OUT_DIR/manifest.json lists the files, the sizes
and the repetition counts; both benchmark programs read only that manifest and
the files it names. One seeded generator, fixed draw order: the same command
writes the same files.
"""

import argparse
import json
import os

import numpy as np
from sklearn.model_selection import StratifiedKFold

SEED = 20261126

# Sizes of each task. "full" is the published run; "quick" is a smoke test that
# exercises every code path in seconds.
SIZES = {
    "full": {
        "floor": {"size": 3000},
        "cka": {"n": 10000, "d": 2048, "latent": 64},
        "cka_matrix": {"n": 5000, "widths": [64, 128, 192, 256, 320, 384, 448, 512, 384, 256, 128, 64]},
        "pca_exact": {"n": 10000, "d": 1024},
        "pca_randomized": {"n": 10000, "d": 2048, "components": 50},
        "probe": {"n": 5000, "d": 256, "classes": 10},
    },
    "quick": {
        "floor": {"size": 600},
        "cka": {"n": 1000, "d": 256, "latent": 16},
        "cka_matrix": {"n": 500, "widths": [8, 16, 24, 32, 40, 48, 56, 64, 48, 32, 16, 8]},
        "pca_exact": {"n": 1000, "d": 128},
        "pca_randomized": {"n": 1000, "d": 256, "components": 20},
        "probe": {"n": 600, "d": 32, "classes": 10},
    },
}

# Timed repetitions after one untimed warm-up call; the slow Gram form gets fewer.
REPEATS = {"default": 3, "gram": 2}


def save(folder, name, array):
    path = os.path.join(folder, name)
    np.save(path, np.ascontiguousarray(array))
    return name


def correlated_pair(rng, n, d, latent):
    """Two n x d views of one latent signal plus independent noise (CKA around 0.5)."""
    z = rng.standard_normal((n, latent))
    x = z @ rng.standard_normal((latent, d)) + 4.0 * rng.standard_normal((n, d)) + 3.0
    y = z @ rng.standard_normal((latent, d)) + 4.0 * rng.standard_normal((n, d)) - 1.0
    return x, y


def layer_stack(rng, n, widths, latent=32):
    """Layers of one imaginary network: a latent state that drifts with depth, read
    out at each layer's width, plus noise, so the CKA matrix decays off the diagonal."""
    state = rng.standard_normal((n, latent))
    layers = []
    for width in widths:
        state = 0.9 * state + np.sqrt(1 - 0.81) * rng.standard_normal((n, latent))
        readout = rng.standard_normal((latent, width)) / np.sqrt(latent)
        layers.append(np.tanh(state @ readout) + 0.3 * rng.standard_normal((n, width)))
    return layers


def decaying_spectrum(rng, n, d, rank=200, decay=20.0):
    """Rank-`rank` data with singular values falling as exp(-j/decay), plus a noise floor:
    a clear gap after the leading components, as in real activations."""
    rank = min(rank, d // 2)
    basis, _ = np.linalg.qr(rng.standard_normal((d, rank)))
    scales = 10.0 * np.exp(-np.arange(rank) / decay)
    signal = (rng.standard_normal((n, rank)) * scales) @ basis.T
    return signal + 0.05 * rng.standard_normal((n, d)) + rng.standard_normal(d)


def gaussian_classes(rng, n, d, classes):
    """Class means plus unit noise, separated enough for a moderate probe accuracy."""
    means = rng.standard_normal((classes, d)) * 0.12 * np.sqrt(256 / d)
    labels = rng.permutation(np.arange(n) % classes)
    x = means[labels] + rng.standard_normal((n, d))
    return x, labels.astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write the .npy files and manifest.json into")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke test")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    out = args.out

    c = sizes["cka"]
    x, y = correlated_pair(rng, c["n"], c["d"], c["latent"])
    cka = {
        "n": c["n"],
        "d": c["d"],
        "x_f64": save(out, "cka_x_f64.npy", x),
        "y_f64": save(out, "cka_y_f64.npy", y),
        "x_f32": save(out, "cka_x_f32.npy", x.astype(np.float32)),
        "y_f32": save(out, "cka_y_f32.npy", y.astype(np.float32)),
    }
    del x, y

    m = sizes["cka_matrix"]
    layers = layer_stack(rng, m["n"], m["widths"])
    cka_matrix = {
        "n": m["n"],
        "widths": m["widths"],
        "layers": [save(out, f"layer_{i:02d}.npy", layer) for i, layer in enumerate(layers)],
    }
    del layers

    p = sizes["pca_exact"]
    pca_exact = {"n": p["n"], "d": p["d"], "x": save(out, "pca_exact_x.npy", decaying_spectrum(rng, p["n"], p["d"]))}
    p = sizes["pca_randomized"]
    pca_randomized = {
        "n": p["n"],
        "d": p["d"],
        "components": p["components"],
        "oversampling": 10,
        "x": save(out, "pca_randomized_x.npy", decaying_spectrum(rng, p["n"], p["d"])),
    }

    p = sizes["probe"]
    x, labels = gaussian_classes(rng, p["n"], p["d"], p["classes"])
    folds = np.empty(p["n"], dtype=np.int64)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for fold, (_, test) in enumerate(splitter.split(x, labels)):
        folds[test] = fold
    probe = {
        "n": p["n"],
        "d": p["d"],
        "classes": p["classes"],
        "x": save(out, "probe_x.npy", x),
        "labels": save(out, "probe_labels.npy", labels),
        "folds": save(out, "probe_folds.npy", folds),
        "alphas": [0.1, 1.0, 10.0, 100.0],
        "c": [1.0],
    }

    manifest = {
        "mode": mode,
        "seed": SEED,
        "threads": 2,
        "repeats": REPEATS,
        "floor": sizes["floor"],
        "cka": cka,
        "cka_matrix": cka_matrix,
        "pca_exact": pca_exact,
        "pca_randomized": pca_randomized,
        "pca_compare_top": 50 if mode == "full" else 20,
        "probe": probe,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()

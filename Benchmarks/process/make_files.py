#!/usr/bin/env python3
"""Writes the whole-process benchmark's files into DIR from the kernel benchmark's
generators (../make_data.py), so that both time the same kind of data:

    python3 make_files.py DIR [--quick]

X.npy and Y.npy: two correlated float32 matrices, 10 000 x 2 048 (what a user saves from
two networks' hooks); layers.npz: 12 float32 layers of 5 000 samples, widths 64 ... 512;
P.npy: 10 000 x 1 024 float32 samples of a decaying spectrum, for PCA.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import make_data  # noqa: E402


def main():
    folder = sys.argv[1]
    sizes = make_data.SIZES["quick" if "--quick" in sys.argv[2:] else "full"]
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(make_data.SEED)
    c = sizes["cka"]
    x, y = make_data.correlated_pair(rng, c["n"], c["d"], c["latent"])
    np.save(os.path.join(folder, "X.npy"), x.astype(np.float32))
    np.save(os.path.join(folder, "Y.npy"), y.astype(np.float32))
    del x, y
    m = sizes["cka_matrix"]
    layers = make_data.layer_stack(rng, m["n"], m["widths"])
    np.savez(os.path.join(folder, "layers.npz"), **{f"layer_{i:02d}": layer.astype(np.float32) for i, layer in enumerate(layers)})
    del layers
    p = sizes["pca_exact"]
    np.save(os.path.join(folder, "P.npy"), make_data.decaying_spectrum(rng, p["n"], p["d"]).astype(np.float32))


if __name__ == "__main__":
    main()

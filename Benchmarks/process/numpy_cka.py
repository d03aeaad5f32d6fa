"""Linear CKA (biased) as a NumPy user writes it, loading the files in the process:

    python3 numpy_cka.py X.npy Y.npy     the pair, in float64: load, centre, feature form
    python3 numpy_cka.py layers.npz      every pair of the file's layers, each layer centred
                                         and its ||X^T X||_F computed once

Prints {"matrix": [[...]]} as `repprobe cka --json` does.
"""
import json
import sys

import numpy as np


def centred(array):
    x = array.astype(np.float64)
    x -= x.mean(axis=0)
    return x


if len(sys.argv) == 3:
    x, y = centred(np.load(sys.argv[1])), centred(np.load(sys.argv[2]))
    matrix = [[float(np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))]]
else:
    with np.load(sys.argv[1]) as archive:
        layers = [centred(archive[name]) for name in archive.files]
    norms = [np.linalg.norm(x.T @ x) for x in layers]
    matrix = [[float(np.linalg.norm(a.T @ b) ** 2 / (na * nb)) for b, nb in zip(layers, norms)] for a, na in zip(layers, norms)]
print(json.dumps({"matrix": matrix}))

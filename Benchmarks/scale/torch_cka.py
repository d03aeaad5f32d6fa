"""The Python pipeline a user would write for the scale benchmark: PyTorch forward hooks on
the same twelve modules of the same two ResNet-18s (rebuilt from their seeds), each output
averaged over space as repprobe's `mean` does, and linear CKA accumulated batch by batch in
torch, float64, in the two ways such tools do:

- minibatch CKA (Nguyen et al. 2021, as torch_cka-style tools compute it): per batch the
  unbiased HSIC of every pair of Gram matrices, summed, CKA from the sums;
- feature sums: XᵀY, XᵀX, YᵀY and the feature sums, centred at the end (biased CKA, the
  quantity repprobe streams).

    python3 Benchmarks/scale/torch_cka.py INPUT.npy [--batch-size 256]

Prints the CKA matrix of the feature sums as JSON (rows: A's layers, columns: B's).
"""
import json
import sys

import numpy as np
import torch

from make_models import model

LAYERS = ["relu", "maxpool", "layer1.0", "layer1.1", "layer2.0", "layer2.1", "layer3.0", "layer3.1", "layer4.0", "layer4.1", "avgpool", "fc"]


def hooked(net):
    captured = {}
    modules = dict(net.named_modules())
    for name in LAYERS:
        def hook(_module, _inputs, output, name=name):
            captured[name] = (output.mean(dim=(2, 3)) if output.dim() == 4 else output.flatten(1)).double()
        modules[name].register_forward_hook(hook)
    return captured


def unbiased_hsic(k, l):
    n = k.shape[0]
    k = k.clone().fill_diagonal_(0)
    l = l.clone().fill_diagonal_(0)
    ones = torch.ones(n, 1, dtype=k.dtype)
    term = torch.trace(k @ l) + (ones.T @ k @ ones) * (ones.T @ l @ ones) / ((n - 1) * (n - 2)) - 2 * (ones.T @ k @ l @ ones) / (n - 2)
    return (term / (n * (n - 3))).item()


def main():
    path = sys.argv[1]
    batch = int(sys.argv[sys.argv.index("--batch-size") + 1]) if "--batch-size" in sys.argv else 256
    torch.set_grad_enabled(False)
    a, b = model(1), model(2)
    seen_a, seen_b = hooked(a), hooked(b)
    x = np.load(path, mmap_mode="r")
    sums = None
    hsic = np.zeros((len(LAYERS), len(LAYERS)))
    self_a = np.zeros(len(LAYERS))
    self_b = np.zeros(len(LAYERS))
    for start in range(0, x.shape[0], batch):
        inputs = torch.from_numpy(np.array(x[start:start + batch]))
        a(inputs)
        b(inputs)
        fa = [seen_a[name] for name in LAYERS]
        fb = [seen_b[name] for name in LAYERS]
        if sums is None:
            sums = {"n": 0, "sa": [f.sum(0) * 0 for f in fa], "sb": [f.sum(0) * 0 for f in fb],
                    "aa": [f.T @ f * 0 for f in fa], "bb": [f.T @ f * 0 for f in fb],
                    "ab": [[p.T @ q * 0 for q in fb] for p in fa]}
        sums["n"] += inputs.shape[0]
        for i, p in enumerate(fa):
            sums["sa"][i] += p.sum(0)
            sums["aa"][i] += p.T @ p
            for j, q in enumerate(fb):
                sums["ab"][i][j] += p.T @ q
        for j, q in enumerate(fb):
            sums["sb"][j] += q.sum(0)
            sums["bb"][j] += q.T @ q
        if inputs.shape[0] > 3:
            grams_a = [p @ p.T for p in fa]
            grams_b = [q @ q.T for q in fb]
            for i in range(len(LAYERS)):
                self_a[i] += unbiased_hsic(grams_a[i], grams_a[i])
                self_b[i] += unbiased_hsic(grams_b[i], grams_b[i])
                for j in range(len(LAYERS)):
                    hsic[i, j] += unbiased_hsic(grams_a[i], grams_b[j])
    n = sums["n"]
    centred = lambda m, s, t: m - torch.outer(s, t) / n
    aa = [torch.linalg.norm(centred(m, s, s)) for m, s in zip(sums["aa"], sums["sa"])]
    bb = [torch.linalg.norm(centred(m, s, s)) for m, s in zip(sums["bb"], sums["sb"])]
    table = [[(torch.linalg.norm(centred(sums["ab"][i][j], sums["sa"][i], sums["sb"][j])) ** 2 / (aa[i] * bb[j])).item()
              for j in range(len(LAYERS))] for i in range(len(LAYERS))]
    minibatch = (hsic / np.sqrt(np.outer(self_a, self_b))).tolist()
    print(json.dumps({"layers": LAYERS, "matrix": table, "minibatch": minibatch}))


if __name__ == "__main__":
    main()

"""Reference numbers for `repprobe compare`, computed with NumPy from PyTorch's own forward
hooks, independently of repprobe.

    python3 Tests/Fixtures/compare/make_compare_reference.py

Uses the CNN of Tests/Fixtures/networks (its class and the committed weights cnn.pt,
cnn_alt.pt and the Lightning checkpoint cnn_lightning.ckpt). Writes beside this script:
  inputs.npy      40 seeded inputs, float32 [40, 3, 16, 16]
  reference.json  for model B = cnn_alt.pt and B = the Lightning checkpoint's weights, the
                  linear CKA (biased HSIC) matrix between A = cnn.pt and B over the module
                  paths listed, each activation reduced by the mean over its spatial axes
                  (what `--reduce mean` does), and each model's CKA with itself
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
NETWORKS = os.path.join(os.path.dirname(HERE), "networks")
sys.path.insert(0, NETWORKS)
import make_network_fixtures as fixtures  # noqa: E402

LAYERS = ["conv1", "bn1", "relu", "pool", "dw", "relu6", "se", "pw", "hswish", "avgpool", "fc"]


def reduce(a):
    a = a.astype(np.float64)
    return a.reshape(a.shape[0], a.shape[1], -1).mean(axis=2) if a.ndim > 2 else a.reshape(a.shape[0], -1)


def linear_cka(x, y):
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def activations(state_dict, x):
    model = fixtures.build("cnn", fixtures.MODELS["cnn"][2])
    model.load_state_dict(state_dict)
    model.eval()
    hooks, _ = fixtures.hook_outputs(model, x)
    return [reduce(hooks[name]) for name in LAYERS]


def main():
    g = torch.Generator().manual_seed(4242)
    x = torch.randn(40, 3, 16, 16, generator=g)
    np.save(os.path.join(HERE, "inputs.npy"), x.numpy().astype(np.float32))
    a = activations(torch.load(os.path.join(NETWORKS, "cnn.pt")), x)
    lightning = torch.load(os.path.join(NETWORKS, "cnn_lightning.ckpt"), weights_only=False)["state_dict"]
    lightning = {k[len("model."):]: v for k, v in lightning.items()}
    reference = {"layers": LAYERS, "reduction": "mean", "samples": 40, "cases": {}}
    for name, state in [("cnn_alt.pt", torch.load(os.path.join(NETWORKS, "cnn_alt.pt"))), ("cnn_lightning.ckpt", lightning)]:
        b = activations(state, x)
        reference["cases"][name] = {
            "cka": [[linear_cka(p, q) for q in b] for p in a],
            "cka_b_b": [[linear_cka(p, q) for q in b] for p in b],
        }
    reference["cka_a_a"] = [[linear_cka(p, q) for q in a] for p in a]
    reference["torch"] = torch.__version__
    reference["numpy"] = np.__version__
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch references for the Training module: gradients of every parameter and of the
input, batch-normalisation statistics, and parameters after optimiser steps, for networks
that repprobe builds layer for layer with the same state-dict names.

    python3 Tests/Fixtures/training/make_training_reference.py

Writes training_reference.npz beside this script. Keys, for each case C:
  C/param/NAME       the parameter or buffer before the step (the Swift side loads these)
  C/input, C/labels  the batch (float32 N×C×H×W, int64 N)
  C/logits, C/loss   the forward pass in training mode
  C/grad/NAME        the gradient of the mean cross-entropy with respect to each parameter
  C/grad_input       ... and to the input
  C/after/NAME       running statistics after that forward pass
  C/sgd/NAME         parameters after two steps of SGD (lr 0.1, momentum 0.9, weight decay
                     1e-3 on convolution and linear weights only) on the same batch
  C/adam/NAME        parameters after two steps of Adam (lr 1e-2, weight decay 1e-3 likewise)

Cases: "digits_plain" and "digits_residual" (DigitNet of models/make_models.py, batch 6),
"mixed" (strided convolution with bias, GELU, average pooling, batch normalisation, ReLU,
overlapping max pooling, linear; batch 4). One CPU thread, float32, seeded.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "models"))
from make_models import DigitNet  # noqa: E402

torch.set_num_threads(1)


def mixed():
    # The second convolution has no bias: before batch normalisation its gradient is zero
    # up to rounding, which Adam would blow up into steps of random sign.
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.GELU(), nn.AvgPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(3, stride=2),
        nn.Flatten(), nn.Linear(6, 5))


def decaying(name, parameter):
    # Weights of convolutions and linear layers decay; biases and BatchNorm's do not.
    return parameter.dim() > 1


def groups(model):
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if decaying(n, p)], "weight_decay": 1e-3},
            {"params": [p for n, p in named if not decaying(n, p)], "weight_decay": 0.0}]


def case(out, name, make, shape, classes, seed):
    torch.manual_seed(seed)
    model = make()
    # Non-trivial BatchNorm parameters and statistics, so that every term is exercised.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(*shape)
    y = torch.randint(0, classes, (shape[0],))
    for key, value in state.items():
        if not key.endswith("num_batches_tracked"):
            out[f"{name}/param/{key}"] = value.numpy().astype(np.float32, copy=True)
    out[f"{name}/input"] = x.numpy().copy()
    out[f"{name}/labels"] = y.numpy().astype(np.int64)

    model.train()
    xi = x.clone().requires_grad_(True)
    logits = model(xi)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out[f"{name}/logits"] = logits.detach().numpy().copy()
    out[f"{name}/loss"] = np.array(loss.item(), dtype=np.float32)
    out[f"{name}/grad_input"] = xi.grad.numpy().copy()
    for key, p in model.named_parameters():
        out[f"{name}/grad/{key}"] = p.grad.numpy().copy()
    for key, value in model.state_dict().items():
        if "running" in key:
            # A copy: the optimiser runs below update the same tensors in place.
            out[f"{name}/after/{key}"] = value.numpy().copy()

    for optimiser_name, make_optimiser in [
        ("sgd", lambda m: torch.optim.SGD(groups(m), lr=0.1, momentum=0.9)),
        ("adam", lambda m: torch.optim.Adam(groups(m), lr=1e-2)),
    ]:
        model.load_state_dict(state)
        optimiser = make_optimiser(model)
        model.train()
        for _ in range(2):
            optimiser.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimiser.step()
        for key, p in model.named_parameters():
            out[f"{name}/{optimiser_name}/{key}"] = p.detach().numpy().copy()


def main():
    out = {}
    case(out, "digits_plain", lambda: DigitNet(residual=False), (6, 1, 16, 16), 10, seed=1)
    case(out, "digits_residual", lambda: DigitNet(residual=True), (6, 1, 16, 16), 10, seed=2)
    case(out, "mixed", mixed, (4, 3, 12, 12), 5, seed=3)
    path = os.path.join(HERE, "training_reference.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {len(out)} arrays, torch {torch.__version__}")


if __name__ == "__main__":
    main()

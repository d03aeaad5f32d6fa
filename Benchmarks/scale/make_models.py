"""Writes the scale benchmark's models and inputs into DIR.

    python3 Benchmarks/scale/make_models.py DIR [--quick]      (torch, torchvision, onnx, numpy)

Two torchvision ResNet-18s with random weights (seeds 1 and 2, eval mode) for 32 × 32
images, exported with a dynamic batch to a.onnx and b.onnx; inputs x-small.npy and
x-large.npy (10 000 and 100 000 seeded standard-normal images, or 1 000 and 10 000 with
--quick), written in chunks so that the script never holds them whole.
"""
import contextlib
import io
import os
import sys

import numpy as np
import torch
import torchvision


def model(seed):
    torch.manual_seed(seed)
    return torchvision.models.resnet18(weights=None).eval()


def export(net, path):
    x = torch.zeros(2, 3, 32, 32)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        torch.onnx.export(net, (x,), path, dynamo=False, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17)


def inputs(path, count, seed):
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(count, 3, 32, 32))
    rng = np.random.default_rng(seed)
    for start in range(0, count, 10_000):
        stop = min(count, start + 10_000)
        array[start:stop] = rng.standard_normal((stop - start, 3, 32, 32), dtype=np.float32)
    array.flush()


def main():
    folder = sys.argv[1]
    quick = "--quick" in sys.argv[2:]
    os.makedirs(folder, exist_ok=True)
    for name, seed in (("a", 1), ("b", 2)):
        export(model(seed), os.path.join(folder, f"{name}.onnx"))
    small, large = (1_000, 10_000) if quick else (10_000, 100_000)
    inputs(os.path.join(folder, "x-small.npy"), small, 3)
    inputs(os.path.join(folder, "x-large.npy"), large, 4)


if __name__ == "__main__":
    main()

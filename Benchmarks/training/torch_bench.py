#!/usr/bin/env python3
"""Times training steps of the digit networks in PyTorch (CPU) and prints JSON on stdout.

    python3 torch_bench.py DATA_DIR [--threads 2] [--steps 30] [--warmup 5]

A step is what a training loop does per batch: zero the gradients, forward in training
mode, mean cross-entropy, backward, one Adam step (lr 3e-3). The batch (32 images of
1×16×16 and their labels) is read from DATA_DIR/batch.npy and labels.npy, which this
script writes when they are missing, so that repprobe-bench --training times the same
data. Networks: DigitNet of models/make_models.py, plain and residual with 2 blocks per
stage (the shipped models) and residual with 6 (the deep recipe). Reports the best and
the median step time over the timed steps.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
from make_models import Block, DigitNet  # noqa: E402

NETWORKS = [("plain-cnn", False, 2), ("residual-cnn", True, 2), ("deep-residual-cnn", True, 6)]


def digit_net(residual, blocks):
    model = DigitNet(residual)
    if blocks != 2:
        width = 12
        model.layer1 = torch.nn.Sequential(*[Block(width, residual) for _ in range(blocks)])
        model.layer2 = torch.nn.Sequential(*[Block(width, residual) for _ in range(blocks)])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.data, exist_ok=True)
    batch_file, labels_file = os.path.join(args.data, "batch.npy"), os.path.join(args.data, "labels.npy")
    if not os.path.exists(batch_file):
        rng = np.random.default_rng(0)
        np.save(batch_file, rng.random((32, 1, 16, 16), dtype=np.float32))
        np.save(labels_file, rng.integers(0, 10, 32).astype(np.int64))
    x = torch.from_numpy(np.load(batch_file))
    y = torch.from_numpy(np.load(labels_file))
    measurements = []
    for name, residual, blocks in NETWORKS:
        torch.manual_seed(0)
        model = digit_net(residual, blocks)
        model.train()
        optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
        times = []
        for step in range(args.warmup + args.steps):
            start = time.perf_counter()
            optimiser.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimiser.step()
            elapsed = time.perf_counter() - start
            if step >= args.warmup:
                times.append(elapsed)
        measurements.append({"network": name, "batch": int(x.shape[0]),
                             "parameters": sum(p.numel() for p in model.parameters()),
                             "best": min(times), "median": statistics.median(times), "runs": times})
        print(f"pytorch {name}: best {1e3 * min(times):.1f} ms, median {1e3 * statistics.median(times):.1f} ms",
              file=sys.stderr)
    json.dump({"tool": "pytorch", "version": torch.__version__, "threads": args.threads,
               "measurements": measurements}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

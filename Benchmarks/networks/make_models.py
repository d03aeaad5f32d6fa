#!/usr/bin/env python3
"""Builds the networks of the network benchmark, exports them to ONNX and writes their
inputs, so that repprobe and onnxruntime run the same files.

    python3 make_models.py OUT_DIR [--quick]

Writes into OUT_DIR:
  resnet18.onnx    ResNet-18 (BasicBlocks [2, 2, 2, 2], widths 64-512, 1000 classes)
  vit.onnx         a ViT-Tiny with 4 blocks (patch 16, dim 192, 3 heads, MLP 768)
  small_cnn.onnx   four convolutions on 3x32x32, for the capture memory test
  inputs_224.npy   float32 [8, 3, 224, 224]; a batch of b takes the first b rows
  inputs_5000.npy, inputs_50000.npy   float32 [n, 3, 32, 32] for small_cnn
  manifest.json    the files, the batches and the timing protocol

Weights come from a seeded generator, inputs from NumPy's. The exports use the
TorchScript exporter at opset 17 in eval mode with constant folding, so BatchNorm is
folded into the preceding Conv as in most exported models; the batch axis is dynamic.
--quick writes smaller capture inputs and fewer timed runs, a smoke test of every path.
"""

import argparse
import json
import os

import warnings

import numpy as np
import torch
from torch import nn

# The TorchScript exporter is the one asked for; its deprecation notice is noise here.
warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export", category=DeprecationWarning)

SEED = 20261127

# Untimed runs first, then timed runs per batch size; throughput is images / time.
PROTOCOL = {
    "full": {"warmup": 3, "runs": {"8": 15, "1": 40}, "capture_sizes": [5000, 50000]},
    "quick": {"warmup": 1, "runs": {"8": 2, "1": 3}, "capture_sizes": [500, 5000]},
}
BATCHES = [8, 1]


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + identity)


class ResNet18(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        widths = [64, 128, 256, 512]
        layers = []
        inputs = 64
        for index, width in enumerate(widths):
            stride = 1 if index == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inputs, width, stride), BasicBlock(width, width, 1)))
            inputs = width
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        weights = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, image=224, patch=16, dim=192, depth=4, heads=3, hidden=768, classes=1000):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        tokens = (image // patch) ** 2 + 1
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


class SmallCNN(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU())
        self.conv3 = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1), nn.ReLU())
        self.conv4 = nn.Sequential(nn.Conv2d(128, 128, 3, 1, 1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = self.conv4(self.conv3(self.conv2(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def randomize_batchnorm(model, generator):
    """Running statistics and affine parameters away from the identity, so that folding
    them into the convolutions changes the weights as it does for a trained model."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.weight.data = 1 + 0.1 * torch.randn(c, generator=generator)
            module.bias.data = 0.1 * torch.randn(c, generator=generator)
            module.running_mean.data = 0.1 * torch.randn(c, generator=generator)
            module.running_var.data = 1 + 0.2 * torch.rand(c, generator=generator)


def export(model, shape, path):
    model.eval()
    example = torch.zeros((2,) + shape)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (example,),
            path,
            dynamo=False,
            opset_version=17,
            do_constant_folding=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )


def write_inputs(path, count, shape, rng, chunk=2000):
    """Uniform values in [-1, 1), written chunk by chunk into a memory-mapped .npy so that
    even the largest file never sits in memory whole."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(count,) + shape)
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        array[start:stop] = rng.uniform(-1, 1, size=(stop - start,) + shape).astype(np.float32)
    array.flush()
    del array


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write the models, inputs and manifest.json into")
    parser.add_argument("--quick", action="store_true", help="small capture inputs and few runs, for a smoke test")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    protocol = PROTOCOL[mode]
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    resnet = ResNet18()
    randomize_batchnorm(resnet, generator)
    export(resnet, (3, 224, 224), os.path.join(args.out, "resnet18.onnx"))
    export(ViT(), (3, 224, 224), os.path.join(args.out, "vit.onnx"))
    export(SmallCNN(), (3, 32, 32), os.path.join(args.out, "small_cnn.onnx"))

    write_inputs(os.path.join(args.out, "inputs_224.npy"), max(BATCHES), (3, 224, 224), rng)
    capture_inputs = []
    for count in protocol["capture_sizes"]:
        name = f"inputs_{count}.npy"
        write_inputs(os.path.join(args.out, name), count, (3, 32, 32), rng)
        capture_inputs.append({"count": count, "file": name})

    manifest = {
        "mode": mode,
        "seed": SEED,
        "threads": 2,
        "warmup": protocol["warmup"],
        "runs": protocol["runs"],
        "models": [
            {"name": "ResNet-18", "file": "resnet18.onnx", "input": "inputs_224.npy", "batches": BATCHES},
            {"name": "ViT (4 blocks)", "file": "vit.onnx", "input": "inputs_224.npy", "batches": BATCHES},
        ],
        "capture": {
            "model": "small_cnn.onnx",
            "inputs": capture_inputs,
            "layers": ["conv1", "conv2", "conv3", "conv4"],
        },
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()

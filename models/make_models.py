"""Trains the small networks that ship with repprobe, and writes the digits probe data.

    python3 models/make_models.py

Everything comes from scikit-learn's bundled 8×8 handwritten digits (1797 images, the UCI
"Optical Recognition of Handwritten Digits" test set, CC BY 4.0), so nothing is downloaded.
The networks see the digits upsampled to 16×16 (bilinear, half-pixel centres: PyTorch's
`align_corners=False`, ONNX Resize's `half_pixel`), scaled to [0, 1].

Writes, beside the repository's folders:
  probes/data/digits.npz     images_train/images_test (uint8, N×8×8, values 0–16),
                             labels_train/labels_test (int64); a fixed stratified split
  models/digits-plain-seed1.onnx, models/digits-plain-seed2.onnx
                             the same plain CNN trained from two seeds (the default pair of
                             `repprobe compare`)
  models/digits-residual-seed1.onnx
                             the same depth with identity shortcuts
  models/checkpoints/digits-plain-seed1-epoch{0,1,3,10}.pt
                             state dicts of seed 1 during training (epoch 0 = initial
                             weights), to pair with digits-plain-seed1.onnx via --graph
  models/models.json         accuracies, parameter counts, versions

Everything is seeded and runs on one CPU thread; a rerun with the same software versions
on the same kind of CPU gives the same weights.
"""
import json
import os
import platform

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
PROBE_DATA = os.path.join(ROOT, "probes", "data")
EPOCHS = 10
CHECKPOINT_EPOCHS = (0, 1, 3, 10)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def digits():
    data = load_digits()
    images = data.images.astype(np.uint8)  # values 0..16
    labels = data.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=360, stratify=labels, random_state=0)
    return train_x, train_y, test_x, test_y


def to_input(images):
    """uint8 N×8×8 (0–16) → float32 N×1×16×16 in [0, 1]."""
    x = torch.from_numpy(images.astype(np.float32) / 16).unsqueeze(1)
    return F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)


class Block(nn.Module):
    """conv → BN → ReLU → conv → BN, plus the input when residual, then ReLU."""

    def __init__(self, channels, residual):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + x if self.residual else y)


class DigitNet(nn.Module):
    """A 16×16 grey image → 10 logits: a 5×5 stem, four blocks of two 3×3 convolutions,
    two max-pools, global average pooling and a linear classifier (9 conv layers)."""

    def __init__(self, residual, width=12):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 5, padding=2, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.layer1 = nn.Sequential(Block(width, residual), Block(width, residual))
        self.pool1 = nn.MaxPool2d(2)
        self.layer2 = nn.Sequential(Block(width, residual), Block(width, residual))
        self.pool2 = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        x = self.layer2(self.pool1(x))
        return self.fc(torch.flatten(self.pool2(x), 1))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def train(residual, seed, x, y, checkpoints=None):
    torch.manual_seed(seed)
    model = DigitNet(residual)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    if checkpoints is not None and 0 in CHECKPOINT_EPOCHS:
        checkpoints[0] = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, EPOCHS + 1):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 32):
            batch = order[start:start + 32]
            # Small random shifts, so the first layer learns strokes rather than pixels.
            dx, dy = torch.randint(-1, 2, (2,), generator=generator).tolist()
            inputs = torch.roll(x[batch], shifts=(dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(inputs), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if checkpoints is not None and epoch in CHECKPOINT_EPOCHS:
            recalibrate(model, x)
            checkpoints[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
    recalibrate(model, x)
    model.eval()
    return model


def recalibrate(model, x):
    """Sets every BatchNorm's running statistics to the training set's (a cumulative
    average over one pass, no shifts): the moving averages lag behind the weights, badly
    so for the residual network, whose statistics keep drifting while it trains."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), 256):
            model(x[start:start + 256])
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1


def export(model, path):
    # The TorchScript exporter keeps module scopes in node names (layer paths); without
    # constant folding the BatchNormalization nodes and parameter names stay, so state
    # dicts can be swapped in.
    torch.onnx.export(
        model, (torch.zeros(1, 1, 16, 16),), path, dynamo=False, opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=False,
    )


def main():
    os.makedirs(PROBE_DATA, exist_ok=True)
    os.makedirs(os.path.join(MODELS, "checkpoints"), exist_ok=True)
    train_x, train_y, test_x, test_y = digits()
    np.savez_compressed(os.path.join(PROBE_DATA, "digits.npz"),
                        images_train=train_x, labels_train=train_y, images_test=test_x, labels_test=test_y)
    x, y = to_input(train_x), torch.from_numpy(train_y)
    tx, ty = to_input(test_x), torch.from_numpy(test_y)

    summary = {"torch": torch.__version__, "scikit-learn": sklearn.__version__,
               "python": platform.python_version(), "epochs": EPOCHS, "models": {}}
    for name, residual, seed in [("digits-plain-seed1", False, 1), ("digits-plain-seed2", False, 2),
                                 ("digits-residual-seed1", True, 1)]:
        checkpoints = {} if name == "digits-plain-seed1" else None
        model = train(residual, seed, x, y, checkpoints)
        export(model, os.path.join(MODELS, f"{name}.onnx"))
        summary["models"][name] = {
            "residual": residual, "seed": seed, "parameters": sum(p.numel() for p in model.parameters()),
            "train_accuracy": round(accuracy(model, x, y), 4), "test_accuracy": round(accuracy(model, tx, ty), 4),
        }
        for epoch, state in (checkpoints or {}).items():
            torch.save(state, os.path.join(MODELS, "checkpoints", f"{name}-epoch{epoch}.pt"))
            probe = DigitNet(residual)
            probe.load_state_dict(state)
            summary["models"][name].setdefault("checkpoint_test_accuracy", {})[str(epoch)] = round(accuracy(probe, tx, ty), 4)
        print(name, summary["models"][name])
    with open(os.path.join(MODELS, "models.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

"""Trains a small CNN on procedurally generated natural-like images; its first-layer
filters come out Gabor-like (oriented, localized, band-pass, like V1 simple cells).

    python3 models/make_natural_model.py                 # about 4 minutes on one CPU core
    python3 models/make_natural_model.py --filters-png stem.png   # also draws the stem filters

Data. "Dead leaves" images (Matheron; Lee, Mumford & Huang 2001), made here with NumPy,
nothing downloaded: opaque discs, ellipses or rotated rectangles of uniformly random grey
level fall on top of each other until the canvas is covered (drawn front to back, so only
visible parts are painted). Their sizes follow a power law, density ∝ r⁻³ between
rmin = 1.5 px and rmax = 32 px, which makes the images scale invariant, with the 1/f²
power spectrum and the sharp occluding edges of natural images. Each image is drawn at
twice its resolution, blurred with a Gaussian of random width (0.3–2.5 px, log-uniform;
optics and focus) and averaged down to 64×64; the networks see random 32×32 crops
(flipped and rotated by multiples of 90°) with a little Gaussian noise (σ = 0.01).
Every image holds one kind of shape: disc, ellipse or rectangle; that is the label.

Task, in two stages.
  1. The stem (32 filters, 9×9) is learned as the encoder of a sparse autoencoder
     (sparse coding, Olshausen & Field 1996): a 9×9 patch x is whitened (ZCA, regularised:
     x_w = Z x), coded as z = ReLU(W x_w + b) and reconstructed as D z, minimising
     |D z − x_w|² + λ |z|₁ with unit-norm dictionary columns; dictionary elements that
     fall silent are restarted from badly reconstructed patches. Applied to the raw
     image, this code is the convolution with W Z plus b, so the stem's weights are W Z:
     whitening is folded into the filters and the network takes the plain image.
  2. With the stem frozen, three more convolutions (with batch normalisation and ReLU),
     max-pools, global average pooling and a linear layer learn to tell which kind of
     shape an image is made of (3 classes; chance 1/3), a task that needs edges, corners
     and curvature: the deeper layers are trained, not random.

Why Gabor filters. After whitening, the strongest remaining structure of the images is
higher-order: edges, which are sparse. Coding patches with as few active units as
possible (about 2 % of the units active) picks localized, oriented edge and bar
detectors of one to two cycles, i.e. Gabor functions: the filters that sparse coding
and ICA find on photographs and that V1 simple cells have. Their frequency sits near the
whitening's cut-off (about 0.2 cycles/pixel); now and then one is a plain step edge. The
same network trained end to end on this little data keeps a noisy stem (tried: 1 of 32
filters fit a Gabor with R² ≥ 0.7) and classifies worse.

The network (input 1×1×32×32, grey values in [0, 1]; batch dimension dynamic):
  stem     Conv 1→32, 9×9, pad 4 (+bias), ReLU     32×32×32
  pool1    MaxPool 2                               32×16×16
  conv2    Conv 32→32, 3×3, pad 1, BN, ReLU        32×16×16
  pool2    MaxPool 2                               32×8×8
  conv3    Conv 32→48, 3×3, pad 1, BN, ReLU        48×8×8
  conv4    Conv 48→64, 3×3, pad 1, BN, ReLU        64×8×8
  pool3    GlobalAveragePool                       64
  fc       Gemm 64→3                               3 logits

Writes models/natural-v1like.onnx (opset 17, float32, BatchNormalization kept as nodes,
as the digits models) and adds or replaces the "natural-v1like" entry of
models/models.json, keeping the others (make_models.py rewrites that file whole: run this
script after it). When onnxruntime is installed the exported graph is checked against
PyTorch. Everything is seeded and runs on one CPU thread; a rerun with the same software
versions on the same kind of CPU gives the same weights.
"""
import argparse
import json
import os
import platform
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")
NAME = "natural-v1like"
KINDS = ("disc", "ellipse", "rectangle")
IMAGE = 64       # side of a generated image
CROP = 32        # side of the network's input
KERNEL = 9       # stem kernel
STEM = 32        # stem channels
NOISE = 0.01     # pixel noise added to every training crop or patch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ----------------------------------------------------------------------------- data

def dead_leaves(rng, size, kind, rmin, rmax, chunk=512):
    """One dead-leaves image, size×size, values in [0, 1]: leaves of one kind with radii
    of density ∝ r⁻³ on [rmin, rmax], centres uniform (a margin of rmax around the
    canvas), drawn front to back until every pixel is covered."""
    image = np.zeros((size, size), np.float32)
    covered = np.zeros((size, size), bool)
    a, b = rmin ** -2, rmax ** -2
    left = size * size
    uncovered_sums = None  # summed-area table of uncovered pixels, to skip hidden leaves
    while left > 0:
        r = (a - rng.random(chunk) * (a - b)) ** -0.5   # inverse CDF of r⁻³ on [rmin, rmax]
        cx = rng.uniform(-rmax, size + rmax, chunk)
        cy = rng.uniform(-rmax, size + rmax, chunk)
        grey = rng.random(chunk).astype(np.float32)
        aspect = rng.uniform(1.5, 4.0, chunk) if kind == 1 else rng.uniform(1.0, 4.0, chunk)
        if kind == 0:
            aspect[:] = 1
        angle = rng.uniform(0, np.pi, chunk)
        rx, ry = r * np.sqrt(aspect), r / np.sqrt(aspect)   # same area as the disc of radius r
        reach = np.maximum(rx, ry) * (np.sqrt(2) if kind == 2 else 1.0)
        x0 = np.clip(np.floor(cx - reach), 0, size).astype(int)
        x1 = np.clip(np.ceil(cx + reach) + 1, 0, size).astype(int)
        y0 = np.clip(np.floor(cy - reach), 0, size).astype(int)
        y1 = np.clip(np.ceil(cy + reach) + 1, 0, size).astype(int)
        for i in range(chunk):
            if x0[i] >= x1[i] or y0[i] >= y1[i]:
                continue
            if uncovered_sums is not None:
                s = uncovered_sums
                if s[y1[i], x1[i]] - s[y0[i], x1[i]] - s[y1[i], x0[i]] + s[y0[i], x0[i]] == 0:
                    continue  # entirely behind leaves already drawn (as of the last chunk)
            yy, xx = np.mgrid[y0[i]:y1[i], x0[i]:x1[i]]
            dx, dy = xx + 0.5 - cx[i], yy + 0.5 - cy[i]
            c, s_ = np.cos(angle[i]), np.sin(angle[i])
            u, v = c * dx + s_ * dy, c * dy - s_ * dx
            if kind == 2:
                inside = (np.abs(u) <= rx[i]) & (np.abs(v) <= ry[i])
            else:
                inside = (u / rx[i]) ** 2 + (v / ry[i]) ** 2 <= 1
            hidden = covered[y0[i]:y1[i], x0[i]:x1[i]]
            new = inside & ~hidden
            count = int(new.sum())
            if count:
                image[y0[i]:y1[i], x0[i]:x1[i]][new] = grey[i]
                hidden |= inside
                left -= count
                if left == 0:
                    break
        uncovered_sums = np.zeros((size + 1, size + 1), np.int64)
        uncovered_sums[1:, 1:] = (~covered).cumsum(0).cumsum(1)
    return image


def gaussian_blur(image, sigma):
    """Separable Gaussian blur with mirrored borders."""
    radius = int(np.ceil(4 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in (0, 1):
        padded = np.pad(image, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="symmetric")
        n = image.shape[axis]
        image = sum(w * np.take(padded, np.arange(k, k + n), axis=axis) for k, w in enumerate(taps))
    return image.astype(np.float32)


def make_images(rng, per_class, rmin=1.5, rmax=32.0, blur=(0.3, 2.5)):
    """per_class images of each kind, interleaved: float32 N×64×64 in [0, 1], labels N.
    Drawn at twice the resolution, blurred, then averaged down 2×2."""
    n = per_class * len(KINDS)
    images = np.zeros((n, IMAGE, IMAGE), np.float32)
    labels = np.zeros(n, np.int64)
    for i in range(n):
        kind = i % len(KINDS)
        fine = dead_leaves(rng, 2 * IMAGE, kind, 2 * rmin, 2 * rmax)
        sigma = np.exp(rng.uniform(np.log(blur[0]), np.log(blur[1])))
        fine = gaussian_blur(fine, 2 * sigma)
        images[i] = fine.reshape(IMAGE, 2, IMAGE, 2).mean((1, 3))
        labels[i] = kind
    return images, labels


# ------------------------------------------------------- stage 1: sparse-coding stem

def sample_patches(images, n, generator, size=KERNEL):
    """n random size×size patches (flattened, row-major as a Conv2d kernel), noise added,
    mean removed."""
    count, height, width = images.shape
    i = torch.randint(count, (n,), generator=generator)
    y = torch.randint(0, height - size + 1, (n,), generator=generator)
    x = torch.randint(0, width - size + 1, (n,), generator=generator)
    steps = torch.arange(size)
    p = images[i[:, None, None], (y[:, None] + steps)[:, :, None], (x[:, None] + steps)[:, None, :]]
    p = (p + NOISE * torch.randn(p.shape, generator=generator)).reshape(n, size * size)
    return p - p.mean(1, keepdim=True)


def train_stem(images, seed, steps, lam, eps, weight_decay, lr, batch=512, log=print):
    """Sparse autoencoder on whitened patches; returns the stem's weights (W Z) and
    biases and a summary."""
    generator = torch.Generator().manual_seed(seed)
    dim = KERNEL * KERNEL
    patches = sample_patches(images, 100_000, generator)
    eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    # ZCA whitening, regularised by eps × the mean eigenvalue (a soft high-frequency
    # cut-off); the patch-mean direction (eigenvalue 0) is dropped.
    scale = torch.where(eigenvalues > 1e-6 * eigenvalues[-1],
                        1 / torch.sqrt(eigenvalues + eps * eigenvalues.mean()), torch.zeros_like(eigenvalues))
    zca = eigenvectors @ torch.diag(scale) @ eigenvectors.T

    encoder = (0.01 * torch.randn(STEM, dim, generator=generator)).requires_grad_(True)
    bias = torch.zeros(STEM, requires_grad=True)
    dictionary = torch.randn(dim, STEM, generator=generator)
    dictionary = (dictionary / dictionary.norm(dim=0, keepdim=True)).requires_grad_(True)
    optimiser = torch.optim.Adam([encoder, bias, dictionary], lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + np.cos(np.pi * s / steps)))
    curve, restarts, window = [], 0, []
    for step in range(steps):
        x = sample_patches(images, batch, generator) @ zca
        code = F.relu(x @ encoder.T + bias)
        reconstruction = ((code @ dictionary.T - x) ** 2).sum(1).mean()
        sparsity = code.sum(1).mean()
        warm = min(1.0, step / (0.2 * steps))  # λ ramps up, so units find structure before they are pushed to silence
        loss = reconstruction + lam * warm * sparsity + weight_decay * (encoder ** 2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        with torch.no_grad():
            dictionary /= dictionary.norm(dim=0, keepdim=True).clamp_min(1e-8)
            if step % 500 == 499 and step < 0.6 * steps:
                restarts += restart_silent_units(images, zca, encoder, bias, dictionary, generator)
        window.append((reconstruction.item(), sparsity.item(), (code > 0).float().mean().item()))
        if (step + 1) % (steps // 10) == 0:
            r, s, active = np.mean(window, axis=0)
            curve.append({"step": step + 1, "reconstruction": round(r, 4), "l1": round(s, 4),
                          "loss": round(r + lam * s, 4), "active_fraction": round(active, 4)})
            log(f"  sparse coding step {step + 1:5d}: reconstruction {r:.3f}  L1 {s:.3f}  "
                f"loss {r + lam * s:.3f}  active {active:.3f}")
            window = []
    weights = (encoder.detach() @ zca).reshape(STEM, 1, KERNEL, KERNEL)
    variance = float((sample_patches(images, 10_000, generator) @ zca).pow(2).sum(1).mean())
    summary = {"steps": steps, "batch": batch, "lambda": lam, "zca_epsilon": eps, "weight_decay": weight_decay,
               "learning_rate": lr, "silent_unit_restarts": restarts, "whitened_patch_energy": round(variance, 4),
               "final_loss": curve[-1]["loss"], "final_reconstruction": curve[-1]["reconstruction"],
               "final_active_fraction": curve[-1]["active_fraction"], "curve": curve}
    return weights, bias.detach().clone(), summary


def restart_silent_units(images, zca, encoder, bias, dictionary, generator):
    x = sample_patches(images, 4096, generator) @ zca
    code = F.relu(x @ encoder.T + bias)
    rate = (code > 0).float().mean(0)
    silent = (rate < 1e-3).nonzero().flatten()
    if len(silent) == 0:
        return 0
    error = ((code @ dictionary.T - x) ** 2).sum(1)
    picked = x[torch.multinomial(error, len(silent), generator=generator)]
    direction = picked / picked.norm(dim=1, keepdim=True)
    alive = rate >= 1e-3
    encoder[silent] = direction * (encoder[alive].norm(dim=1).mean() if alive.any() else 1.0)
    bias[silent] = 0
    dictionary[:, silent] = direction.T
    return len(silent)


# --------------------------------------------------------- stage 2: the classifier

class NaturalNet(nn.Module):
    """A 32×32 grey image → 3 logits (disc, ellipse or rectangle leaves)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, STEM, KERNEL, padding=KERNEL // 2), nn.ReLU())
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Sequential(nn.Conv2d(STEM, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Sequential(nn.Conv2d(32, 48, 3, padding=1, bias=False), nn.BatchNorm2d(48), nn.ReLU())
        self.conv4 = nn.Sequential(nn.Conv2d(48, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.pool3 = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, len(KINDS))

    def forward(self, x):
        x = self.pool1(self.stem(x))
        x = self.conv4(self.conv3(self.pool2(self.conv2(x))))
        return self.fc(torch.flatten(self.pool3(x), 1))


def random_crops(images, index, generator):
    """Random 32×32 crops of the chosen images, each randomly flipped and rotated by a
    multiple of 90°, with pixel noise: N×1×32×32."""
    n = len(index)
    y = torch.randint(0, IMAGE - CROP + 1, (n,), generator=generator)
    x = torch.randint(0, IMAGE - CROP + 1, (n,), generator=generator)
    steps = torch.arange(CROP)
    crops = images[index[:, None, None], (y[:, None] + steps)[:, :, None], (x[:, None] + steps)[:, None, :]]
    flip = torch.rand(n, generator=generator) < 0.5
    crops = torch.where(flip[:, None, None], crops.flip(2), crops)
    turns = torch.randint(0, 4, (n,), generator=generator)
    crops = torch.stack([torch.rot90(c, int(t)) for c, t in zip(crops, turns)])
    return (crops + NOISE * torch.randn(crops.shape, generator=generator)).unsqueeze(1)


def centre_crops(images):
    offset = (IMAGE - CROP) // 2
    return images[:, None, offset:offset + CROP, offset:offset + CROP]


def train_classifier(model, images, labels, seed, steps, lr, batch=64, log=print):
    generator = torch.Generator().manual_seed(seed + 1)
    for p in model.stem.parameters():
        p.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(trainable, lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 0.5 * (1 + np.cos(np.pi * s / steps)))
    curve, window = [], []
    for step in range(steps):
        model.train()
        index = torch.randint(len(images), (batch,), generator=generator)
        logits = model(random_crops(images, index, generator))
        loss = F.cross_entropy(logits, labels[index])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        window.append((loss.item(), (logits.argmax(1) == labels[index]).float().mean().item()))
        if (step + 1) % (steps // 10) == 0:
            mean_loss, accuracy = np.mean(window, axis=0)
            curve.append({"step": step + 1, "loss": round(mean_loss, 4), "accuracy": round(accuracy, 4)})
            log(f"  classifier step {step + 1:5d}: cross-entropy {mean_loss:.4f}  batch accuracy {accuracy:.3f}")
            window = []
    recalibrate(model, images, generator)
    model.eval()
    return curve


def recalibrate(model, images, generator, passes=4):
    """Sets the BatchNorm running statistics to the training crops' (a cumulative average;
    the moving averages lag behind the weights)."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            for start in range(0, len(images), 256):
                index = torch.arange(start, min(start + 256, len(images)))
                model(random_crops(images, index, generator))
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 0.1


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(centre_crops(images[s:s + 256])) for s in range(0, len(images), 256)])
    return float(F.cross_entropy(logits, labels)), float((logits.argmax(1) == labels).float().mean())


# ------------------------------------------------------------------- export, output

def export(model, path):
    # As make_models.py: TorchScript exporter (module scopes in node names), no constant
    # folding (BatchNormalization nodes and parameter names stay).
    torch.onnx.export(
        model, (torch.zeros(1, 1, CROP, CROP),), path, dynamo=False, opset_version=17,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=False,
    )


def check_onnx(model, path, seed):
    """Largest absolute difference between onnxruntime and PyTorch on random inputs, or
    None without onnxruntime."""
    try:
        import onnxruntime
    except ImportError:
        return None
    x = torch.rand(4, 1, CROP, CROP, generator=torch.Generator().manual_seed(seed + 2))
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    with torch.no_grad():
        want = model(x).numpy()
    return float(np.abs(got - want).max())


def write_filters_png(path, weights, scale=8, columns=8):
    """The stem filters as a grey PNG, each scaled to its own maximum (grey = 0)."""
    w = weights[:, 0]
    n, k, _ = w.shape
    rows = -(-n // columns)
    canvas = np.full((rows * (k + 1) + 1, columns * (k + 1) + 1), 0.5)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[1 + r * (k + 1):1 + r * (k + 1) + k, 1 + c * (k + 1):1 + c * (k + 1) + k] = \
            0.5 + 0.5 * w[i] / max(np.abs(w[i]).max(), 1e-12)
    pixels = (np.kron(canvas, np.ones((scale, scale))) * 255 + 0.5).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def update_models_json(entry):
    path = os.path.join(MODELS, "models.json")
    summary = {"models": {}}
    if os.path.exists(path):
        with open(path) as f:
            summary = json.load(f)
    summary.setdefault("models", {})[NAME] = entry
    with open(path, "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-per-class", type=int, default=300, help="training images of each kind")
    parser.add_argument("--test-per-class", type=int, default=100, help="held-out images of each kind")
    parser.add_argument("--sparse-steps", type=int, default=6000, help="steps of stage 1 (512 patches each)")
    parser.add_argument("--sparsity", type=float, default=5.0, help="λ, weight of the L1 penalty")
    parser.add_argument("--zca-epsilon", type=float, default=0.3, help="whitening regulariser, × mean eigenvalue")
    parser.add_argument("--classifier-steps", type=int, default=1500, help="steps of stage 2 (64 crops each)")
    parser.add_argument("--output", default=os.path.join(MODELS, f"{NAME}.onnx"))
    parser.add_argument("--filters-png", help="also draw the stem filters to this PNG")
    parser.add_argument("--no-json", action="store_true", help="leave models.json alone")
    args = parser.parse_args()

    started = time.time()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"drawing {3 * (args.train_per_class + args.test_per_class)} dead-leaves images")
    train_x, train_y = make_images(rng, args.train_per_class)
    test_x, test_y = make_images(rng, args.test_per_class)
    train_x, train_y = torch.from_numpy(train_x), torch.from_numpy(train_y)
    test_x, test_y = torch.from_numpy(test_x), torch.from_numpy(test_y)
    data_seconds = time.time() - started

    print("stage 1: the stem as a sparse autoencoder on whitened 9×9 patches")
    weights, bias, sparse = train_stem(train_x, args.seed, args.sparse_steps, args.sparsity, args.zca_epsilon,
                                       weight_decay=0.01, lr=3e-3)
    model = NaturalNet()
    with torch.no_grad():
        model.stem[0].weight.copy_(weights)
        model.stem[0].bias.copy_(bias)
    stem_seconds = time.time() - started - data_seconds

    print("stage 2: deeper layers classify the kind of leaves, stem frozen")
    curve = train_classifier(model, train_x, train_y, args.seed, args.classifier_steps, lr=3e-3)
    train_loss, train_accuracy = evaluate(model, train_x, train_y)
    test_loss, test_accuracy = evaluate(model, test_x, test_y)
    print(f"  centre crops: train accuracy {train_accuracy:.4f}, test accuracy {test_accuracy:.4f} (chance 0.3333)")
    with torch.no_grad():
        active = float((model.stem(centre_crops(test_x)) > 0).float().mean())

    export(model, args.output)
    difference = check_onnx(model, args.output, args.seed)
    if difference is not None:
        print(f"onnxruntime vs PyTorch: max |difference| {difference:.2e}")
        assert difference < 1e-4, "the exported graph does not match the PyTorch model"
    if args.filters_png:
        write_filters_png(args.filters_png, weights.numpy())
    seconds = time.time() - started
    print(f"wrote {os.path.relpath(args.output, ROOT)} ({os.path.getsize(args.output)} bytes) in {seconds:.0f} s")

    if not args.no_json:
        update_models_json({
            "file": f"{NAME}.onnx",
            "description": "Small CNN whose first layer (9x9, 32 channels) holds Gabor-like, V1-simple-cell-like "
                           "filters, learned by sparse coding of natural-like images; three deeper convolutions "
                           "classify the kind of shape the image is made of.",
            "input": {"name": "input", "shape": ["batch", 1, CROP, CROP], "values": "grey, 0 to 1"},
            "output": {"name": "logits", "classes": list(KINDS)},
            "training_data": f"procedural dead-leaves images (discs, ellipses or rotated rectangles of uniform grey; "
                             f"radius density proportional to r^-3 on [1.5, 32] px; Gaussian blur 0.3 to 2.5 px; "
                             f"64x64, random 32x32 crops, flips, 90-degree rotations, noise sigma {NOISE}); "
                             f"{3 * args.train_per_class} training and {3 * args.test_per_class} test images",
            "task": "stage 1: stem = encoder of a sparse autoencoder on ZCA-whitened 9x9 patches (whitening folded "
                    "into the weights); stage 2: stem frozen, the rest trained with cross-entropy to classify "
                    "disc / ellipse / rectangle leaves",
            "seed": args.seed,
            "parameters": sum(p.numel() for p in model.parameters()),
            "sparse_coding": sparse,
            "classifier": {"steps": args.classifier_steps, "batch": 64, "learning_rate": 3e-3,
                           "epochs": round(args.classifier_steps * 64 / len(train_x), 1),  # crops per training image
                           "curve": curve, "final_loss": curve[-1]["loss"]},
            "stem_active_fraction_test": round(active, 4),
            "train_loss": round(train_loss, 4), "train_accuracy": round(train_accuracy, 4),
            "test_loss": round(test_loss, 4), "test_accuracy": round(test_accuracy, 4),
            "onnx_max_abs_difference": difference,
            "seconds": round(seconds),
            "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        })


if __name__ == "__main__":
    main()

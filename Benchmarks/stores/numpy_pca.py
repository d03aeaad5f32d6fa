"""PCA of every layer of a shard set, as a scikit-learn user writes it: load every shard
with safetensors, concatenate each layer in float64, and fit
sklearn.decomposition.PCA(svd_solver="covariance_eigh"), the exact solver for many more
samples than features. Prints the explained variances as repprobe pca --json does."""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from sklearn.decomposition import PCA

index_path = sys.argv[1]
components = int(sys.argv[2])
index = json.load(open(index_path))
folder = os.path.dirname(index_path)
parts = [load_file(os.path.join(folder, shard["file"])) for shard in index["shards"]]
rows = []
for entry in index["arrays"]:
    if entry["name"] == "sample_ids":
        continue
    x = np.concatenate([p[entry["name"]] for p in parts]).astype(np.float64)
    pca = PCA(n_components=components, svd_solver="covariance_eigh").fit(x)
    rows.append({"layer": entry["name"], "explained_variance": pca.explained_variance_.tolist(),
                 "explained_variance_ratio": pca.explained_variance_ratio_.tolist()})
    del x
print(json.dumps(rows))

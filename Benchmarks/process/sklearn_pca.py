"""Exact PCA as a scikit-learn user writes it, loading the file in the process:

    python3 sklearn_pca.py P.npy K

PCA(svd_solver="covariance_eigh") in float64, the method repprobe's exact PCA uses (the
eigen-decomposition of the covariance); prints the leading K explained-variance ratios as
`repprobe pca --json` gives them.
"""
import json
import sys

import numpy as np
from sklearn.decomposition import PCA

x = np.load(sys.argv[1]).astype(np.float64)
pca = PCA(svd_solver="covariance_eigh").fit(x)
print(json.dumps({"explained_variance_ratio": pca.explained_variance_ratio_[: int(sys.argv[2])].tolist()}))

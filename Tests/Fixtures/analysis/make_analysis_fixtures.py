#!/usr/bin/env python3
"""Reference fixtures for repprobe's analysis code (CKA, CCA, SVCCA, PWCCA,
Procrustes, RSA, mutual k-NN, PCA, ridge / logistic probes, stratified folds).

Everything is computed independently with NumPy / SciPy / scikit-learn in
float64.  Run from anywhere:

    python3 make_analysis_fixtures.py

It writes, next to this file:
  * the input arrays as .npy (float64, C order, samples x features; labels and
    folds as int64);
  * expected.json with every reference number (Python floats, i.e. shortest
    round-tripping repr of the doubles) and the library versions used.

Conventions: every data matrix is samples x features (rows = samples).
The script is deterministic (one seeded generator, fixed draw order) and
asserts its own internal cross-checks.
"""

import json
import os
import platform
import re
import warnings

import numpy as np
import scipy
import scipy.linalg
import scipy.optimize
import scipy.special
import scipy.stats
from scipy.spatial.distance import pdist

import sklearn
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import StratifiedKFold

OUT = os.path.dirname(os.path.abspath(__file__))
SEED = 20261126


# ----------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------
def fl(a):
    """numpy scalar / array -> plain Python float / nested lists of floats."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return float(a)
    return [fl(r) for r in a] if a.ndim > 1 else [float(v) for v in a]


def il(a):
    return [int(v) for v in np.asarray(a).ravel()]


def save(name, arr, dtype):
    arr = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
    np.save(os.path.join(OUT, name), arr)
    return arr


def centre(A):
    """Subtract column means."""
    return A - A.mean(axis=0, keepdims=True)


def random_orthogonal(rng, d):
    """Haar-distributed orthogonal matrix (QR of a Gaussian, sign-fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


# ----------------------------------------------------------------------------
# inputs (ONE generator, draws in this exact order)
# ----------------------------------------------------------------------------
rng = np.random.default_rng(SEED)

# X (60x12), Y = X @ W + noise (60x8), Z (60x80, n < d) partly driven by X.
X = rng.standard_normal((60, 12))
W_xy = rng.standard_normal((12, 8))
Y = X @ W_xy + 2.0 * rng.standard_normal((60, 8))
W_xz = rng.standard_normal((12, 80))
Z = 0.3 * (X @ W_xz) + rng.standard_normal((60, 80))
R_orth = random_orthogonal(rng, 12)  # for the 4th "layer" X @ R

# CCA pair: 3 shared latent dimensions + noise, columns on very different scales.
n_cca = 300
latent = rng.standard_normal((n_cca, 3))
cca_X = latent @ rng.standard_normal((3, 10)) + 1.0 * rng.standard_normal((n_cca, 10))
cca_Y = latent @ rng.standard_normal((3, 15)) + 1.5 * rng.standard_normal((n_cca, 15))
cca_X *= np.array([1.0, 1e3, 1e-3, 5.0, 0.2, 1.0, 40.0, 1.0, 0.01, 2.0])
cca_Y *= np.array([1.0, 1.0, 1e-3, 1e2, 3.0, 1.0, 0.5, 1.0, 1e3, 1.0,
                   0.05, 1.0, 7.0, 1.0, 1.0])

# SVCCA pair: geometrically decaying spectra (so the 99% cut is well defined),
# sharing 6 latent directions.  Columns of the latent matrix have standard
# deviation decay**j, then a random rotation mixes them into the features.
n_sv = 300
shared = rng.standard_normal((n_sv, 6))
lat_x = np.hstack([shared, rng.standard_normal((n_sv, 34))]) * (0.76 ** np.arange(40))
lat_y = np.hstack([shared[:, ::-1] + 0.5 * rng.standard_normal((n_sv, 6)),
                   rng.standard_normal((n_sv, 24))]) * (0.7 ** np.arange(30))
svcca_X = lat_x @ random_orthogonal(rng, 40) + 1e-3 * rng.standard_normal((n_sv, 40))
svcca_Y = lat_y @ random_orthogonal(rng, 30) + 1e-3 * rng.standard_normal((n_sv, 30))

# Probe data: 3 classes with labels 7, 2, 5 (counts 60/50/40) in shuffled order,
# Gaussian clouds whose means are only moderately apart (partial separability).
# (first-appearance order must differ from numeric order: redraw the
# permutation until it does; deterministic given the seed)
def first_appearance_is_sorted(lab):
    _, first = np.unique(lab, return_index=True)
    return bool(np.all(np.diff(first) > 0))

probe_labels = np.array([7] * 60 + [2] * 50 + [5] * 40)
probe_y = probe_labels[rng.permutation(150)]
while first_appearance_is_sorted(probe_y):
    probe_y = probe_labels[rng.permutation(150)]
class_means = {lab: 0.45 * rng.standard_normal(20) for lab in (7, 2, 5)}
probe_X = np.stack([class_means[c] for c in probe_y]) + rng.standard_normal((150, 20))
# Binary labels on the same X: noisy linear rule, labels 9 / 4.
w_bin = rng.standard_normal(20)
score = probe_X @ w_bin / np.linalg.norm(w_bin) + 0.9 * rng.standard_normal(150)
probe_y_binary = np.where(score > 0.3, 4, 9)

# Second label vector for StratifiedKFold: 23 samples, 4 classes of sizes
# 9 (label 3), 6 (label 8), 5 (label 1), 3 (label 6), shuffled.
strat_y2 = np.array([3] * 9 + [8] * 6 + [1] * 5 + [6] * 3)[rng.permutation(23)]

# Sanity: first-appearance order differs from numeric order.
for lab in (probe_y, probe_y_binary, strat_y2):
    assert not first_appearance_is_sorted(lab), "first-appearance order == numeric order"

# Stratified folds (test-fold index of each sample), shuffle=False.
def test_fold_index(y, n_splits):
    folds = np.full(len(y), -1, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # y2 has a class of 3 < 4 splits
        for f, (_, test) in enumerate(StratifiedKFold(n_splits=n_splits, shuffle=False)
                                      .split(np.zeros((len(y), 1)), y)):
            folds[test] = f
    assert (folds >= 0).all()
    return folds

folds = test_fold_index(probe_y, 5)
folds_binary = test_fold_index(probe_y_binary, 5)
folds_y2 = test_fold_index(strat_y2, 4)

X = save("X.npy", X, np.float64)
Y = save("Y.npy", Y, np.float64)
Z = save("Z.npy", Z, np.float64)
cca_X = save("cca_X.npy", cca_X, np.float64)
cca_Y = save("cca_Y.npy", cca_Y, np.float64)
svcca_X = save("svcca_X.npy", svcca_X, np.float64)
svcca_Y = save("svcca_Y.npy", svcca_Y, np.float64)
probe_X = save("probe_X.npy", probe_X, np.float64)
probe_y = save("probe_y.npy", probe_y, np.int64)
probe_y_binary = save("probe_y_binary.npy", probe_y_binary, np.int64)
folds = save("folds.npy", folds, np.int64)
folds_binary = save("folds_binary.npy", folds_binary, np.int64)
strat_y2 = save("strat_y2.npy", strat_y2, np.int64)

expected = {}

# ----------------------------------------------------------------------------
# 1. CKA
# ----------------------------------------------------------------------------
def centering_matrix(n):
    # H = I - 11^T / n
    return np.eye(n) - np.ones((n, n)) / n


def linear_gram(A):
    # K = A A^T  (A NOT centred; centring happens through H)
    return A @ A.T


def sq_dists(A):
    # D_ij = ||a_i - a_j||^2 (exact zero diagonal)
    g = A @ A.T
    d = np.diag(g)
    D = d[:, None] + d[None, :] - 2.0 * g
    np.fill_diagonal(D, 0.0)
    return np.maximum(D, 0.0)


def rbf_gram(A, threshold):
    # K_ij = exp(-D_ij / (2 sigma^2)), sigma^2 = t^2 * median(D) with D the FULL
    # n x n squared-distance matrix, zero diagonal included (np.median of n^2 values)
    D = sq_dists(A)
    sigma2 = threshold ** 2 * np.median(D)
    return np.exp(-D / (2.0 * sigma2))


def hsic_biased_gram(K, L):
    # <HKH, HLH>_F / (n-1)^2
    n = K.shape[0]
    H = centering_matrix(n)
    return np.sum((H @ K @ H) * (H @ L @ H)) / (n - 1) ** 2


def cka_biased(K, L):
    # <HKH, HLH>_F / (||HKH||_F ||HLH||_F)
    n = K.shape[0]
    H = centering_matrix(n)
    Kc, Lc = H @ K @ H, H @ L @ H
    return np.sum(Kc * Lc) / (np.linalg.norm(Kc) * np.linalg.norm(Lc))


def hsic_unbiased(K, L):
    # Song et al. 2012, with Kt, Lt = K, L with zero diagonal:
    # HSIC_1 = [tr(Kt Lt) + (1'Kt1)(1'Lt1)/((n-1)(n-2)) - 2/(n-2) 1'Kt Lt 1] / (n(n-3))
    n = K.shape[0]
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0.0)
    np.fill_diagonal(Lt, 0.0)
    term1 = np.trace(Kt @ Lt)
    term2 = Kt.sum() * Lt.sum() / ((n - 1) * (n - 2))
    term3 = 2.0 / (n - 2) * (Kt.sum(axis=0) @ Lt.sum(axis=1))
    return (term1 + term2 - term3) / (n * (n - 3))


def cka_unbiased(K, L):
    # HSIC_1(K,L) / sqrt(HSIC_1(K,K) HSIC_1(L,L))
    return hsic_unbiased(K, L) / np.sqrt(hsic_unbiased(K, K) * hsic_unbiased(L, L))


def cka_linear_feature_space(A, B):
    # independent check: ||Bc^T Ac||_F^2 / (||Ac^T Ac||_F ||Bc^T Bc||_F)
    Ac, Bc = centre(A), centre(B)
    return (np.linalg.norm(Bc.T @ Ac) ** 2
            / (np.linalg.norm(Ac.T @ Ac) * np.linalg.norm(Bc.T @ Bc)))


def cka_block(A, B):
    KA, KB = linear_gram(A), linear_gram(B)
    out = {
        "linear": cka_biased(KA, KB),
        "rbf_0.5": cka_biased(rbf_gram(A, 0.5), rbf_gram(B, 0.5)),
        "rbf_1.0": cka_biased(rbf_gram(A, 1.0), rbf_gram(B, 1.0)),
        "unbiased_linear": cka_unbiased(KA, KB),
        "unbiased_rbf_0.5": cka_unbiased(rbf_gram(A, 0.5), rbf_gram(B, 0.5)),
    }
    assert abs(out["linear"] - cka_linear_feature_space(A, B)) < 1e-12
    # the unbiased linear estimator does not depend on centring the features first
    assert abs(out["unbiased_linear"]
               - cka_unbiased(linear_gram(centre(A)), linear_gram(centre(B)))) < 1e-12
    return {k: float(v) for k, v in out.items()}


cka = {"X_Y": cka_block(X, Y), "X_Z": cka_block(X, Z)}
KX, KY = linear_gram(X), linear_gram(Y)
cka["X_Y"]["hsic_biased"] = float(hsic_biased_gram(KX, KY))
cka["X_Y"]["hsic_unbiased_linear"] = float(hsic_unbiased(KX, KY))  # UNcentred X, Y

# Mini-batch CKA (Nguyen et al. 2021): 3 consecutive batches of 20;
# CKA = mean_b HSIC_1(K_b,L_b) / sqrt(mean_b HSIC_1(K_b,K_b) * mean_b HSIC_1(L_b,L_b))
def minibatch(A, B, batch=20):
    kl, kk, ll, per = [], [], [], []
    for s in range(0, A.shape[0], batch):
        Kb, Lb = linear_gram(A[s:s + batch]), linear_gram(B[s:s + batch])
        kl.append(hsic_unbiased(Kb, Lb))
        kk.append(hsic_unbiased(Kb, Kb))
        ll.append(hsic_unbiased(Lb, Lb))
        per.append(kl[-1] / np.sqrt(kk[-1] * ll[-1]))
    return (np.mean(kl) / np.sqrt(np.mean(kk) * np.mean(ll)), np.mean(per), per)

mb, mb_wrong, mb_per = minibatch(X, Y)
cka["X_Y"]["minibatch_linear"] = float(mb)
cka["X_Y"]["minibatch_mean_of_batch_ckas"] = float(mb_wrong)
cka["X_Y"]["minibatch_per_batch_ckas"] = fl(mb_per)
assert abs(mb - mb_wrong) > 1e-4, "regression value should differ from the right one"

# All pairs of layers [X, Y, Z, X @ R].
layers = [X, Y, Z, X @ R_orth]
M_lin = np.array([[cka_biased(linear_gram(a), linear_gram(b)) for b in layers] for a in layers])
M_unb = np.array([[cka_unbiased(linear_gram(a), linear_gram(b)) for b in layers] for a in layers])
assert abs(M_lin[0, 3] - 1.0) < 1e-12 and abs(M_unb[0, 3] - 1.0) < 1e-12  # rotation invariance
cka["layers"] = ["X", "Y", "Z", "X@R"]
cka["R_orthogonal_12x12"] = fl(R_orth)
cka["matrix_linear"] = fl(M_lin)
cka["matrix_unbiased_linear"] = fl(M_unb)
expected["cka"] = cka

# ----------------------------------------------------------------------------
# 2. CCA
# ----------------------------------------------------------------------------
def cca_rho(A, B):
    # centre; Q_a, Q_b = thin-QR bases; rho = singular values of Q_a^T Q_b,
    # min(p, q) values, descending
    Qa, _ = np.linalg.qr(centre(A))
    Qb, _ = np.linalg.qr(centre(B))
    return np.linalg.svd(Qa.T @ Qb, compute_uv=False)[: min(A.shape[1], B.shape[1])]


rho = cca_rho(cca_X, cca_Y)
# cross-check: rho^2 = eigenvalues of Sxx^-1 Sxy Syy^-1 Syx, solved as the
# symmetric-definite generalized problem (Sxy Syy^-1 Syx) v = rho^2 Sxx v.
# Done on unit-variance columns (CCA is invariant to column scaling; this only
# keeps Sxx, Syy well conditioned for the check).
Xs, Ys = centre(cca_X), centre(cca_Y)
Xs, Ys = Xs / Xs.std(axis=0), Ys / Ys.std(axis=0)
Sxx, Syy, Sxy = Xs.T @ Xs, Ys.T @ Ys, Xs.T @ Ys
ev = scipy.linalg.eigh(Sxy @ np.linalg.solve(Syy, Sxy.T), Sxx, eigvals_only=True)[::-1]
assert np.max(np.abs(np.sqrt(np.clip(ev, 0, None)) - rho)) < 1e-8
# also unscaled columns through QR of each factor via SVD bases instead of QR
Ua = np.linalg.svd(centre(cca_X), full_matrices=False)[0]
Ub = np.linalg.svd(centre(cca_Y), full_matrices=False)[0]
assert np.max(np.abs(np.linalg.svd(Ua.T @ Ub, compute_uv=False) - rho)) < 1e-10
expected["cca"] = {"rho": fl(rho), "mean_rho": float(rho.mean()), "r2_cca": float(np.mean(rho ** 2))}

# ----------------------------------------------------------------------------
# 3. SVCCA (threshold 0.99)
# ----------------------------------------------------------------------------
def svd_reduce(A, threshold=0.99):
    # centre; SVD; smallest k with cumsum(s^2)/sum(s^2) >= threshold;
    # return U_k diag(s_k) (n x k)
    U, s, _ = np.linalg.svd(centre(A), full_matrices=False)
    ratio = np.cumsum(s ** 2) / np.sum(s ** 2)
    k = int(np.argmax(ratio >= threshold)) + 1
    # the cut must not be borderline
    assert ratio[k - 1] - threshold > 5e-4 and threshold - ratio[k - 2] > 5e-4
    return U[:, :k] * s[:k], k, ratio


red_x, kept_x, ratio_x = svd_reduce(svcca_X)
red_y, kept_y, ratio_y = svd_reduce(svcca_Y)
rho_sv = cca_rho(red_x, red_y)
expected["svcca"] = {
    "threshold": 0.99,
    "kept_x": kept_x,
    "kept_y": kept_y,
    "cumulative_ratio_x_at_kept_minus_1_and_kept": fl(ratio_x[kept_x - 2:kept_x]),
    "cumulative_ratio_y_at_kept_minus_1_and_kept": fl(ratio_y[kept_y - 2:kept_y]),
    "rho": fl(rho_sv),
    "mean_rho": float(rho_sv.mean()),
}

# ----------------------------------------------------------------------------
# 4. PWCCA (Morcos et al. 2018), weights from the first argument
# ----------------------------------------------------------------------------
def pwcca(A, B):
    # Q_a = orthonormal basis of centred A; Q_a^T Q_b = U diag(rho) V^T;
    # H = Q_a U[:, :c], c = min(p, q); alpha_i = sum_j |<h_i, a_j>| over the
    # columns a_j of centred A; alpha /= sum(alpha); PWCCA = sum_i alpha_i rho_i
    Ac = centre(A)
    Qa, _ = np.linalg.qr(Ac)
    Qb, _ = np.linalg.qr(centre(B))
    U, r, _ = np.linalg.svd(Qa.T @ Qb)
    c = min(A.shape[1], B.shape[1])
    Hv = Qa @ U[:, :c]
    alpha = np.abs(Hv.T @ Ac).sum(axis=1)
    alpha = alpha / alpha.sum()
    return float(alpha @ r[:c]), alpha


pw_xy, w_xy = pwcca(cca_X, cca_Y)
pw_yx, w_yx = pwcca(cca_Y, cca_X)
expected["pwcca"] = {"value": pw_xy, "weights": fl(w_xy), "value_yx": pw_yx, "weights_yx": fl(w_yx)}

# ----------------------------------------------------------------------------
# 5. Orthogonal Procrustes
# ----------------------------------------------------------------------------
def procrustes(A, B):
    # centre columns, divide by Frobenius norm; nuc = ||A^T B||_* ;
    # distance^2 = 2 - 2 nuc ; angular = arccos(min(nuc, 1))
    A = centre(A); A = A / np.linalg.norm(A)
    B = centre(B); B = B / np.linalg.norm(B)
    nuc = np.linalg.svd(A.T @ B, compute_uv=False).sum()
    return nuc, A, B


nuc, _, _ = procrustes(X, Y)
# check against scipy on a same-width pair (X, X R + noise)
XRn = X @ R_orth + 0.5 * np.random.default_rng(1).standard_normal(X.shape)
nuc2, A2, B2 = procrustes(X, XRn)
Rp, scale = scipy.linalg.orthogonal_procrustes(A2, B2)
assert abs(scale - nuc2) < 1e-12
assert abs(np.linalg.norm(A2 @ Rp - B2) ** 2 - (2 - 2 * nuc2)) < 1e-12
expected["procrustes"] = {
    "nuclear": float(nuc),
    "distance_squared": float(2 - 2 * nuc),
    "angular": float(np.arccos(min(nuc, 1.0))),
}

# ----------------------------------------------------------------------------
# 6. RSA
# ----------------------------------------------------------------------------
# RDM = condensed upper triangle from pdist; compare RDMs with Spearman / Pearson
rdm_xc, rdm_yc = pdist(X, "correlation"), pdist(Y, "correlation")
rdm_xe, rdm_ye = pdist(X, "euclidean"), pdist(Y, "euclidean")
assert len(np.unique(rdm_xe)) == len(rdm_xe) and len(np.unique(rdm_xc)) == len(rdm_xc)  # no ties
expected["rsa"] = {
    "rsa_correlation_spearman": float(scipy.stats.spearmanr(rdm_xc, rdm_yc).statistic),
    "rsa_euclidean_spearman": float(scipy.stats.spearmanr(rdm_xe, rdm_ye).statistic),
    "rsa_correlation_pearson": float(scipy.stats.pearsonr(rdm_xc, rdm_yc).statistic),
    "rdm_X_correlation_first5": fl(rdm_xc[:5]),
    "rdm_X_euclidean_first5": fl(rdm_xe[:5]),
}

# ----------------------------------------------------------------------------
# 7. Mutual k-NN alignment (Huh et al. 2024), k = 5
# ----------------------------------------------------------------------------
def knn_sets(A, k):
    # L2-normalise rows, S = A A^T, exclude self, N(i) = k largest similarities
    A = A / np.linalg.norm(A, axis=1, keepdims=True)
    S = A @ A.T
    np.fill_diagonal(S, -np.inf)
    order = np.argsort(-S, axis=1, kind="stable")
    srt = np.take_along_axis(S, order, axis=1)
    assert np.min(srt[:, k - 1] - srt[:, k]) > 1e-9, "tie at the k-th neighbour"
    return [set(r[:k]) for r in order]


k = 5
nx, ny = knn_sets(X, k), knn_sets(Y, k)
expected["mutual_knn"] = {
    "knn_k5": float(np.mean([len(a & b) / k for a, b in zip(nx, ny)])),
}

# ----------------------------------------------------------------------------
# 8. PCA
# ----------------------------------------------------------------------------
def pca_block(A, n_components_stored=None):
    p = PCA(svd_solver="full").fit(A)
    ev = p.explained_variance_
    comps = p.components_ if n_components_stored is None else p.components_[:n_components_stored]
    return {
        "explained_variance": fl(ev),
        "explained_variance_ratio": fl(p.explained_variance_ratio_),
        "singular_values": fl(p.singular_values_),
        "components": fl(comps),
        # participation ratio (sum lambda)^2 / sum lambda^2 over ALL explained variances
        "participation_ratio": float(ev.sum() ** 2 / np.sum(ev ** 2)),
        "mean": fl(p.mean_),
        "n_components_returned": int(p.n_components_),
    }


pca = {"X": pca_block(X), "Z": pca_block(Z, n_components_stored=10)}
pca["Z"]["components_rows_stored"] = 10
prand = PCA(n_components=3, svd_solver="randomized", random_state=0).fit(Z)
pca["Z_randomized_3"] = {"explained_variance": fl(prand.explained_variance_)}
expected["pca"] = pca

# ----------------------------------------------------------------------------
# 9. Ridge probe
# ----------------------------------------------------------------------------
def ridge_closed_form(Xtr, ytr, alpha):
    # independent check of RidgeClassifier: targets in {-1,+1} (LabelBinarizer,
    # one column if binary, classes in sorted order); centre X and T; W solves
    # (Xc^T Xc + alpha I) W = Xc^T Tc; intercept = mean(T) - mean(X) W
    classes = np.unique(ytr)
    T = np.where(ytr[:, None] == classes[None, :], 1.0, -1.0)
    if len(classes) == 2:
        T = T[:, 1:]
    xm, tm = Xtr.mean(0), T.mean(0)
    Wr = np.linalg.solve((Xtr - xm).T @ (Xtr - xm) + alpha * np.eye(Xtr.shape[1]),
                         (Xtr - xm).T @ (T - tm))
    return Wr.T, tm - xm @ Wr


def ridge_probe(Xd, y, fold_idx, alphas):
    out = {}
    for alpha in alphas:
        accs = []
        for f in range(5):
            tr, te = fold_idx != f, fold_idx == f
            m = RidgeClassifier(alpha=alpha, solver="svd").fit(Xd[tr], y[tr])
            accs.append(float(np.mean(m.predict(Xd[te]) == y[te])))
            cw, cb = ridge_closed_form(Xd[tr], y[tr], alpha)
            assert np.max(np.abs(cw - m.coef_)) < 1e-10 and np.max(np.abs(cb - m.intercept_)) < 1e-10
            if alpha == 1.0 and f == 0:
                fold0 = {
                    "classes": il(m.classes_),
                    "coef": fl(np.atleast_2d(m.coef_)),
                    "intercept": fl(np.atleast_1d(m.intercept_)),
                    "decision_function": fl(m.decision_function(Xd[te])),
                    "predict": il(m.predict(Xd[te])),
                }
        entry = {"fold_accuracies": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs))}
        if alpha == 1.0:
            entry["fold0"] = fold0
        out[repr(alpha)] = entry
    return out


# More features than samples, as hidden layers usually are (the probe then works on
# the n x n Gram matrix): 80 samples x 300 features, 3 classes; a generator of its
# own so that the draws above stay as they were.
wide_rng = np.random.default_rng(SEED + 1)
wide_y = np.array([6] * 30 + [1] * 28 + [3] * 22)[wide_rng.permutation(80)]
wide_means = {lab: 0.12 * wide_rng.standard_normal(300) for lab in (6, 1, 3)}
wide_X = np.stack([wide_means[c] for c in wide_y]) + wide_rng.standard_normal((80, 300))
wide_folds = test_fold_index(wide_y, 5)
wide_X = save("probe_wide_X.npy", wide_X, np.float64)
wide_y = save("probe_wide_y.npy", wide_y, np.int64)
wide_folds = save("folds_wide.npy", wide_folds, np.int64)

alphas = [0.01, 1.0, 100.0]
expected["ridge_probe"] = {
    "multiclass": ridge_probe(probe_X, probe_y, folds, alphas),
    "binary": ridge_probe(probe_X, probe_y_binary, folds_binary, alphas),
    "wide": ridge_probe(wide_X, wide_y, wide_folds, alphas),
}

# ----------------------------------------------------------------------------
# 10. Logistic probe
# ----------------------------------------------------------------------------
# Objective minimised by sklearn (lbfgs, L2, fit_intercept=True), checked below:
#   binary (2 classes, one weight vector w, intercept b, t_i = [y_i == classes_[1]]):
#     C * sum_i [log(1 + exp(z_i)) - t_i z_i] + 1/2 ||w||^2,   z_i = x_i.w + b
#   multinomial (K >= 3 classes, W K x p, b in R^K, full over-parametrised softmax):
#     C * sum_i [logsumexp_k(z_ik) - z_{i,y_i}] + 1/2 ||W||_F^2,  z_i = W x_i + b
#   (sklearn internally minimises the same divided by C*n: mean loss + ||W||^2/(2 C n)).
def logistic_objective(theta, Xd, yidx, C, K):
    """Objective + gradient in sklearn's parametrisation; theta = [W.ravel(), b]."""
    p = Xd.shape[1]
    if K == 2:
        w, b = theta[:p], theta[p]
        z = Xd @ w + b
        t = (yidx == 1).astype(float)
        f = C * np.sum(np.logaddexp(0.0, z) - t * z) + 0.5 * w @ w
        r = C * (scipy.special.expit(z) - t)
        return f, np.concatenate([Xd.T @ r + w, [r.sum()]])
    Wm, b = theta[: K * p].reshape(K, p), theta[K * p:]
    Zs = Xd @ Wm.T + b
    lse = scipy.special.logsumexp(Zs, axis=1)
    f = C * np.sum(lse - Zs[np.arange(len(yidx)), yidx]) + 0.5 * np.sum(Wm ** 2)
    P = np.exp(Zs - lse[:, None])
    P[np.arange(len(yidx)), yidx] -= 1.0
    G = C * P
    return f, np.concatenate([(G.T @ Xd + Wm).ravel(), G.sum(0)])


def newton_polish(theta, Xd, yidx, C, K, steps=20):
    """A few Newton steps (numerical Hessian of the analytic gradient) to reach
    the exact optimum; used only to report how far sklearn's solution is."""
    for _ in range(steps):
        f, g = logistic_objective(theta, Xd, yidx, C, K)
        h = 1e-6
        Hm = np.array([(logistic_objective(theta + h * e, Xd, yidx, C, K)[1]
                        - logistic_objective(theta - h * e, Xd, yidx, C, K)[1]) / (2 * h)
                       for e in np.eye(len(theta))])
        Hm = 0.5 * (Hm + Hm.T)
        step = np.linalg.lstsq(Hm, g, rcond=None)[0]  # singular for the over-param. intercepts
        theta = theta - step
        if np.max(np.abs(step)) < 1e-14:
            break
    return theta


logistic_diag = {}


def logistic_probe(Xd, y, fold_idx, Cs, tag):
    out = {}
    for C in Cs:
        accs = []
        for f in range(5):
            tr, te = fold_idx != f, fold_idx == f
            m = LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=100000).fit(Xd[tr], y[tr])
            accs.append(float(np.mean(m.predict(Xd[te]) == y[te])))
            K = len(m.classes_)
            yidx = np.searchsorted(m.classes_, y[tr])
            theta = np.concatenate([m.coef_.ravel(), m.intercept_])
            _, g = logistic_objective(theta, Xd[tr], yidx, C, K)
            # stationarity of the stated objective at sklearn's solution
            assert np.max(np.abs(g)) < 1e-5, (tag, C, f, np.max(np.abs(g)))
            if C == 1.0 and f == 0:
                th_star = newton_polish(theta, Xd[tr], yidx, C, K)
                _, g_star = logistic_objective(th_star, Xd[tr], yidx, C, K)
                if K > 2:  # fix the free common shift of the intercepts: sklearn's sum to 0
                    th_star[-K:] -= th_star[-K:].mean()
                logistic_diag[tag] = {
                    "max_abs_gradient_at_sklearn_solution": float(np.max(np.abs(g))),
                    "max_abs_gradient_at_newton_optimum": float(np.max(np.abs(g_star))),
                    "max_abs_param_diff_sklearn_vs_newton": float(np.max(np.abs(th_star - theta))),
                    "n_iter": int(np.max(m.n_iter_)),
                }
                if K > 2:
                    logistic_diag[tag]["sum_of_intercepts"] = float(m.intercept_.sum())
                    logistic_diag[tag]["max_abs_column_sum_of_coef"] = float(np.max(np.abs(m.coef_.sum(0))))
                fold0 = {
                    "classes": il(m.classes_),
                    "coef": fl(m.coef_),
                    "intercept": fl(m.intercept_),
                    "predict_proba": fl(m.predict_proba(Xd[te])),
                    "predict": il(m.predict(Xd[te])),
                }
                # the exact optimum of the same objective (sklearn stops at its
                # ftol/gtol, ~1e-7 away), for tight tests of a Newton-type solver
                p = Xd.shape[1]
                if K == 2:
                    Wx, bx = th_star[:p][None, :], th_star[p:]
                    pr1 = scipy.special.expit(Xd[te] @ Wx[0] + bx[0])
                    proba = np.column_stack([1.0 - pr1, pr1])
                else:
                    Wx, bx = th_star[:K * p].reshape(K, p), th_star[K * p:]
                    proba = scipy.special.softmax(Xd[te] @ Wx.T + bx, axis=1)
                assert np.max(np.abs(proba - m.predict_proba(Xd[te]))) < 1e-5
                fold0["coef_exact_optimum"] = fl(Wx)
                fold0["intercept_exact_optimum"] = fl(bx)
                fold0["predict_proba_exact_optimum"] = fl(proba)
        entry = {"fold_accuracies": accs, "mean": float(np.mean(accs)), "std": float(np.std(accs))}
        if C == 1.0:
            entry["fold0"] = fold0
        out[repr(C)] = entry
    return out


Cs = [0.1, 1.0]
expected["logistic_probe"] = {
    "multiclass": logistic_probe(probe_X, probe_y, folds, Cs, "multiclass"),
    "binary": logistic_probe(probe_X, probe_y_binary, folds_binary, Cs, "binary"),
    "diagnostics_C1_fold0": logistic_diag,
}

# ----------------------------------------------------------------------------
# 11. Stratified folds
# ----------------------------------------------------------------------------
expected["stratified"] = {
    "stratified_folds_3class": il(folds),
    "stratified_folds_binary": il(folds_binary),
    "strat_y2": il(strat_y2),
    "stratified_folds_y2": il(folds_y2),
    "n_splits_y2": 4,
}

# ----------------------------------------------------------------------------
# metadata
# ----------------------------------------------------------------------------
expected["inputs"] = {
    "seed": SEED,
    "generator": "np.random.default_rng(seed), draws in the order of make_analysis_fixtures.py",
    "layout": "samples x features, float64 C order; labels and folds int64",
    "files": {n: list(np.load(os.path.join(OUT, n)).shape) for n in [
        "X.npy", "Y.npy", "Z.npy", "cca_X.npy", "cca_Y.npy", "svcca_X.npy", "svcca_Y.npy",
        "probe_X.npy", "probe_y.npy", "probe_y_binary.npy", "folds.npy", "folds_binary.npy",
        "strat_y2.npy"]},
}
expected["versions"] = {
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "sklearn": sklearn.__version__,
    "python": platform.python_version(),
}
expected["notes"] = " ".join([
    "LOGISTIC (sklearn %s, solver=lbfgs, L2, fit_intercept=True):" % sklearn.__version__,
    "BINARY uses ONE weight vector w (coef_ shape 1 x p) and one intercept b with the binomial",
    "log-loss (HalfBinomialLoss), t_i = 1 if y_i == classes_[1] (the larger label) else 0:",
    "minimise C * sum_i [log(1+exp(z_i)) - t_i z_i] + 0.5*||w||^2, z_i = x_i.w + b;",
    "predict_proba = [1-sigmoid(z), sigmoid(z)]. It is NOT a 2-class softmax.",
    "MULTINOMIAL (>= 3 classes) uses the full, over-parametrised softmax (HalfMultinomialLoss),",
    "one weight row and one intercept per class (coef_ K x p, rows in sorted-label order):",
    "minimise C * sum_i [logsumexp_k(z_ik) - z_{i,y_i}] + 0.5*||W||_F^2, z_i = W x_i + b.",
    "Intercepts are NOT penalised in either case. Internally sklearn minimises the same",
    "objective divided by C*n (mean loss + ||W||^2/(2*C*n)), L-BFGS-B with gtol=tol on that scaled",
    "objective, ftol=64*eps, maxls=50, started from zeros. The multinomial intercepts are",
    "identified only up to a common shift; starting from zero, L-BFGS keeps sum_k b_k = 0",
    "(the intercept gradient sums to zero over classes), and the penalty forces sum_k W_k = 0.",
    "RIDGE: RidgeClassifier maps labels to {-1,+1} (LabelBinarizer, sorted classes; a single",
    "column for classes_[1] in the binary case), centres X and targets, solves",
    "(Xc'Xc + alpha I) W = Xc'Tc, intercept = mean(T) - mean(X) W; prediction = argmax of the",
    "decision function (binary: classes_[1] if decision > 0).",
    "STRATIFIED K-FOLD (shuffle=False): classes are encoded in FIRST-APPEARANCE order; the",
    "encoded labels are sorted and dealt round-robin over the folds to get per-fold per-class",
    "counts (allocation[f,k] = count of class k in sorted_y[f::n_splits]); then, for each class,",
    "its samples in original order get fold indices 0,0,..,1,1,..(repeat(arange(n_splits),",
    "allocation[:,k])). strat_y2 has a class with 3 < 4 members (sklearn warns; fine).",
    "PCA: sign convention of sklearn (svd_flip, u_based_decision=False): in each component row",
    "the entry of largest absolute value is positive. explained_variance = s^2/(n-1). For Z",
    "(60 x 80) sklearn returns 60 components; the 60th has ~0 variance and an arbitrary",
    "direction, and only the first 10 component rows are stored.",
    "CKA: hsic_unbiased_linear is computed from UNcentred X, Y (the unbiased estimator is",
    "invariant to centring the features anyway, checked). RBF sigma^2 = t^2 * median of the",
    "full n x n squared distance matrix including its zero diagonal (n^2 = 3600 entries, an",
    "even count, so np.median averages the two middle values).",
    "CCA: the script's generalized-eigenproblem cross-check uses unit-variance columns (CCA is",
    "invariant to column scaling).",
    "LOGISTIC fold0 blocks hold sklearn's solution (coef, intercept, predict_proba; sklearn stops",
    "~1e-7 from the optimum, see diagnostics_C1_fold0) and the exact optimum of the stated",
    "objective (*_exact_optimum, Newton-polished, gradient ~1e-15; multinomial intercepts",
    "shifted to sum to zero).",
])

# json.dumps writes Python floats with repr(), which round-trips doubles exactly.
# Indent the objects, but keep each innermost list of numbers on one line.
text = json.dumps(expected, indent=1)
text = re.sub(r"\[\s*([-+0-9.eE]+(?:,\s*[-+0-9.eE]+)*)\s*\]",
              lambda mt: "[" + ", ".join(v.strip() for v in mt.group(1).split(",")) + "]", text)
with open(os.path.join(OUT, "expected.json"), "w") as fh:
    fh.write(text + "\n")

# round-trip check: the file parses back to exactly the same values
with open(os.path.join(OUT, "expected.json")) as fh:
    assert json.load(fh) == json.loads(json.dumps(expected))

# ----------------------------------------------------------------------------
# summary
# ----------------------------------------------------------------------------
total = 0
for n in sorted(os.listdir(OUT)):
    if n.endswith((".npy", ".json")):
        sz = os.path.getsize(os.path.join(OUT, n))
        total += sz
        print(f"{n:24s} {sz:8d} bytes")
print(f"{'total':24s} {total:8d} bytes")
print("versions", expected["versions"])
print("CKA X,Y", {k: round(v, 6) for k, v in cka["X_Y"].items() if isinstance(v, float)})
print("CKA X,Z", {k: round(v, 6) for k, v in cka["X_Z"].items() if isinstance(v, float)})
print("CCA rho", np.round(rho, 4))
print("SVCCA kept", kept_x, kept_y, "mean rho", round(rho_sv.mean(), 6))
print("PWCCA", pw_xy, pw_yx)
print("Procrustes nuc", nuc, "kNN", expected["mutual_knn"]["knn_k5"])
print("RSA", expected["rsa"]["rsa_correlation_spearman"], expected["rsa"]["rsa_euclidean_spearman"])
print("class counts", dict(zip(*np.unique(probe_y, return_counts=True))),
      dict(zip(*np.unique(probe_y_binary, return_counts=True))))
for kind in ("ridge_probe", "logistic_probe"):
    for task in ("multiclass", "binary", "wide") if kind == "ridge_probe" else ("multiclass", "binary"):
        for hp, e in expected[kind][task].items():
            print(kind, task, hp, np.round(e["fold_accuracies"], 3), round(e["mean"], 4))
print("logistic diagnostics", logistic_diag)

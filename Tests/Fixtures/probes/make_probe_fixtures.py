"""Writes the reference for the digits probe set's resize: the first 10 held-out digits as
PyTorch turns them into network inputs (values / 16, then bilinear interpolation to 16×16
with align_corners=False), the exact transform the shipped models were trained with.

    python3 Tests/Fixtures/probes/make_probe_fixtures.py

Reads probes/data/digits.npz (written by models/make_models.py); writes digits_inputs.npy
beside this script.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

images = np.load(os.path.join(ROOT, "probes", "data", "digits.npz"))["images_test"][:10]
x = torch.from_numpy(images.astype(np.float32) / 16).unsqueeze(1)
y = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False)
np.save(os.path.join(HERE, "digits_inputs.npy"), y.numpy().astype(np.float32))

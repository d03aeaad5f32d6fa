"""Makes the hostile files of Tests/Fixtures/hostile/: small files, each wrong in one way
that an attacker or a damaged disk could produce. HostileFileTests (CLITests) runs repprobe
on each and expects a non-zero exit, a message naming the file and the problem, no crash,
bounded memory, and no file created or deleted outside the output folder.

The bombs (a deflated member that expands to a gigabyte, an archive of ten thousand
members) are made at test time, never stored.

Needs numpy and onnx:  python3 make_hostile.py  (writes beside itself)
"""
import os
import struct
import zipfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def model(nodes, initializers=(), opset=17, name="hostile"):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_hostile")
    m.ir_version = 8
    return m


# A Tile whose output would take 4 TB, from a 1×1 input.
onnx.save(model([helper.make_node("Tile", ["x", "repeats"], ["y"], name="/huge/Tile")],
                [numpy_helper.from_array(np.array([1 << 20, 1 << 20], dtype=np.int64), "repeats")]),
          path("tile.onnx"))

# Two nodes writing one tensor: not single static assignment.
onnx.save(model([helper.make_node("Relu", ["x"], ["y"], name="/first"),
                 helper.make_node("Sigmoid", ["x"], ["y"], name="/second")]),
          path("two-writers.onnx"))

# An operator set far beyond any ONNX release.
onnx.save(model([helper.make_node("Relu", ["x"], ["y"], name="/relu")], opset=999), path("opset-999.onnx"))

# A PyTorch checkpoint whose pickle nests 100 000 lists.
depth = 100_000
pickle = b"\x80\x02" + b"](" * depth + b"e" * depth + b"."
with zipfile.ZipFile(path("deep.pt"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", pickle)
    z.writestr("archive/version", "3\n")


def npy_bytes(array):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (array.dtype.str, array.shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + array.tobytes()


# An .npz whose stored member has one flipped byte: the CRC-32 no longer matches.
rng = np.random.default_rng(0)
member = bytearray(npy_bytes(rng.standard_normal((20, 4)).astype("<f8")))
with zipfile.ZipFile(path("flipped-byte.npz"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("layer.npy", bytes(member))
data = bytearray(open(path("flipped-byte.npz"), "rb").read())
offset = data.index(bytes(member)) + len(member) - 5
data[offset] ^= 0x40
open(path("flipped-byte.npz"), "wb").write(bytes(data))

# An .npy (version 2) whose header claims 2 GB.
open(path("huge-header.npy"), "wb").write(b"\x93NUMPY\x02\x00" + struct.pack("<I", 2_000_000_000) + b"{'descr': '<f4'")

# An .npy whose shape needs far more bytes than follow.
open(path("short.npy"), "wb").write(npy_bytes(np.zeros((4, 4), "<f4"))[:-40])

# Activations that are the same for every sample, and activations holding NaN.
np.save(path("constant.npy"), np.ones((30, 5)))
nan = rng.standard_normal((30, 5))
nan[7, 2] = np.nan
np.save(path("nan.npy"), nan)

# A probe set whose data path leads out of its folder.
with open(path("escape.yaml"), "w") as f:
    f.write("stimuli: {kind: file, path: ../../../../../../etc/hostname, array: images}\n")

# A safetensors file whose header length is larger than the file.
open(path("lying-header.safetensors"), "wb").write(struct.pack("<Q", 1 << 40) + b"{}")

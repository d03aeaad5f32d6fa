#!/usr/bin/env python3
"""Small reference files for the Formats tests, written by NumPy and Python `safetensors`.

Usage:
    python3 make_format_fixtures.py            # (re)write the fixtures beside this script
    python3 make_format_fixtures.py --check D  # check files the Swift writers put in D

Needs `numpy` and `safetensors` (pip install numpy safetensors). The tests only read the
committed outputs; they never run Python. The values are repeated in the Swift tests, so
change both together.

For --check, run the Swift tests with REPPROBE_INTEROP_DIR=D set first: the interop test
then writes swift_*.npy, swift_*.npz and swift*.safetensors there.
"""
import os
import sys
import zipfile

import numpy as np
from safetensors.numpy import load_file, save_file
from safetensors import safe_open
from safetensors import TensorSpec, deserialize, serialize_file

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def interop_arrays():
    """The arrays both sides write and check."""
    return {
        "a": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
        "b": np.array([1e-300, -0.0, 3.5], dtype=np.float64),
        "c": np.array([[1, -2], [3, -4]], dtype=np.int64),
        "h": np.array([0.5, -65504, 2.0**-14, 2.0**-24], dtype=np.float16),
        "i": np.array([7, -8], dtype=np.int32),
    }


def make():
    # .npy, one file per case.
    np.save(out("f32_c.npy"), (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3))
    np.save(out("f64_fortran.npy"), np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4) * 1.5))
    np.save(out("i32_fortran_3d.npy"), np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
    np.save(out("i64_vector.npy"), np.array([3, -1, 7, 0, 2], dtype=np.int64))
    np.save(out("f16_edges.npy"), np.array(
        [0.0, -0.0, 1.0, -2.0, 65504.0, 2.0**-14, 2.0**-24, np.inf, -np.inf, np.nan], dtype=np.float16))
    np.save(out("f8_big_endian.npy"), np.array([1.5, -2.25, 1e300], dtype=">f8"))
    np.save(out("u1.npy"), np.array([0, 200, 255], dtype=np.uint8))
    np.save(out("i1.npy"), np.array([-128, 0, 127], dtype=np.int8))
    np.save(out("b1.npy"), np.array([True, False, True]))
    np.save(out("scalar.npy"), np.float64(3.25))
    for version in [(2, 0), (3, 0)]:
        with open(out("v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype=np.float32), version=version)

    # .npz, stored and deflated, three members in a known order.
    members = dict(
        first=np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=np.float32),
        second=np.arange(3, dtype=np.int64),
        third=np.array([0.25], dtype=np.float64),
    )
    np.savez(out("stored.npz"), **members)
    np.savez_compressed(out("deflated.npz"), **members)

    # A zip that is not an .npz, laid out like a PyTorch checkpoint.
    with zipfile.ZipFile(out("torch_like.zip"), "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/version", b"3\n")

    # safetensors from the reference implementation.
    save_file({
        "weight": np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
        "double": np.array([1e-300, 2.0], dtype=np.float64),
        "half": np.array([1.0, -0.5, 65504.0], dtype=np.float16),
        "index": np.array([-(2**40), 5], dtype=np.int64),
        "count": np.array([[1, 2, 3]], dtype=np.int32),
        "bytes": np.array([0, 255], dtype=np.uint8),
        "mask": np.array([True, False]),
    }, out("tensors.safetensors"), metadata={"format": "np", "note": "fixture"})

    # BF16 has no NumPy dtype: give the serializer raw bytes (exact values, so truncating
    # float32 to its upper 16 bits is exact rounding).
    bf = (np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
    spec = TensorSpec(dtype="bfloat16", shape=[4], data_ptr=bf.ctypes.data, data_len=bf.nbytes)
    serialize_file({"bf": spec}, out("bf16.safetensors"), None)


def check(folder):
    expected = interop_arrays()
    failures = 0

    def same(name, got, want):
        nonlocal failures
        ok = got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)
        if ok and want.dtype.kind == "f":
            ok = np.array_equal(np.signbit(got), np.signbit(want))  # -0.0 must stay -0.0
        print(("ok   " if ok else "FAIL ") + name, got.dtype, got.shape)
        failures += 0 if ok else 1

    for key, want in expected.items():
        same("swift_%s.npy" % key, np.load(os.path.join(folder, "swift_%s.npy" % key)), want)
    for kind in ["stored", "deflated"]:
        path = os.path.join(folder, "swift_%s.npz" % kind)
        with np.load(path) as z:
            if list(z.keys()) != list(expected):
                print("FAIL %s member order %s" % (path, list(z.keys())))
                failures += 1
            for key, want in expected.items():
                same("swift_%s.npz:%s" % (kind, key), z[key], want)
        with zipfile.ZipFile(path) as z:
            methods = {i.compress_type for i in z.infolist()}
            want_method = zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
            if methods != {want_method}:
                print("FAIL %s compression %s" % (path, methods))
                failures += 1
    path = os.path.join(folder, "swift.safetensors")
    tensors = load_file(path)
    for key, want in expected.items():
        same("swift.safetensors:%s" % key, tensors[key], want)
    with safe_open(path, framework="numpy") as f:
        if f.metadata() != {"origin": "repprobe", "note": "interop"}:
            print("FAIL metadata", f.metadata())
            failures += 1
    path = os.path.join(folder, "swift_all_types.safetensors")
    with open(path, "rb") as f:
        parsed = dict(deserialize(f.read()))
    dtypes = sorted(info["dtype"] for info in parsed.values())
    want_dtypes = sorted(["BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "F16", "BF16", "F32", "F64"])
    if dtypes != want_dtypes:
        print("FAIL %s dtypes %s" % (path, dtypes))
        failures += 1
    else:
        print("ok   swift_all_types.safetensors parsed by the reference implementation")
    # NumPy cannot build a 30000-d array, but its header reader must accept the file.
    with open(os.path.join(folder, "swift_v2.npy"), "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=200000)
        ok = version == (2, 0) and shape == (1,) * 30000 and not fortran and dtype == np.float32 \
            and np.frombuffer(f.read(), dtype="<f4").tolist() == [7.0]
        print(("ok   " if ok else "FAIL ") + "swift_v2.npy header version", version)
        failures += 0 if ok else 1
    print("%d failures" % failures)
    return failures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(1 if check(sys.argv[2]) else 0)
    make()

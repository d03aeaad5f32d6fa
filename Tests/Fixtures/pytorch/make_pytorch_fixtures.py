#!/usr/bin/env python3
"""Small PyTorch checkpoints for the PyTorchCheckpoint tests, written by torch and Lightning.

Usage:
    python3 make_pytorch_fixtures.py    # (re)write the fixtures beside this script

Needs `torch` and `lightning` (pip install torch lightning). The tests only read the
committed outputs; they never run Python.

It writes, next to this file:
  * good checkpoints saved by `torch.save` and by a Lightning `Trainer`;
  * hostile or damaged checkpoints, made by editing the bytes of good ones or by writing
    pickles by hand (none of them is ever unpickled here: the os.system ones would run a
    command if they were);
  * expected.json: for each good file, every tensor's dtype, shape and elements in
    row-major order (as float64, exact for every dtype used), computed by torch, plus
    facts about the state dict the reader should find.
"""
import collections
import io
import json
import os
import pickle
import pickletools
import shutil
import struct
import tempfile
import warnings
import zipfile

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(20261126)


def out(name):
    return os.path.join(HERE, name)


def describe(tensors, state_dict_key=None, common_prefix=""):
    """The names in order and each tensor's dtype, shape and row-major elements, as torch
    sees them, with what the reader should report about the state dict."""
    return {
        "names": list(tensors),
        "tensors": {
            name: {
                "dtype": str(t.dtype).replace("torch.", ""),
                "shape": list(t.shape),
                "values": t.detach().to(torch.float64).flatten().tolist(),
            }
            for name, t in tensors.items()
        },
        "stateDictKey": state_dict_key,
        "commonPrefix": common_prefix,
    }


def saved_bytes(obj, **options):
    buffer = io.BytesIO()
    torch.save(obj, buffer, **options)
    return buffer.getvalue()


def members(data):
    """The members of a zip, in order, as (name, bytes)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info.filename, z.read(info.filename)) for info in z.infolist()]


def write_zip(name, entries):
    """A stored (uncompressed) zip like torch's, with fixed timestamps."""
    with zipfile.ZipFile(out(name), "w", zipfile.ZIP_STORED) as z:
        for member, data in entries:
            info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)


def edited(data, edit):
    """`data` (a torch zip) with `edit(member, bytes)` applied to every member."""
    return [(member, edit(member, content)) for member, content in members(data)]


def pickle_ops(data):
    return list(pickletools.genops(data))


# ----------------------------------------------------------------------------
# good files
# ----------------------------------------------------------------------------
def tiny_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model.train()
    for _ in range(2):  # gives BatchNorm running statistics and num_batches_tracked = 2
        model(torch.randn(5, 3))
    return model


def make_good(expected):
    """Writes the readable files and records what each holds in `expected`."""
    # A model's state dict: float32 parameters, BatchNorm buffers, an int64 counter.
    model = tiny_model()
    state = model.state_dict()
    torch.save(state, out("state_dict.pt"))
    expected["state_dict.pt"] = describe(state)

    # Every dtype the reader converts, a scalar and an empty tensor.
    dtypes = {
        "f16": torch.tensor([0.5, -65504.0, 2.0**-24, 1.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -2.5, 3.140625, 2.0**-100], dtype=torch.bfloat16),
        "f64": torch.tensor([[1e-300, -0.0], [3.5, 2.0**60]], dtype=torch.float64),
        "i64": torch.tensor([-(2**40), 5, 0], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 2**31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.25),
        "empty": torch.zeros(0, 3),
    }
    torch.save(dtypes, out("dtypes.pt"))
    expected["dtypes.pt"] = describe(dtypes)

    # Views of one storage: transposed, sliced with an offset, a row, expanded (stride 0).
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    views = {
        "base": base,
        "transposed": base.t(),
        "sliced": base[1:, 1:3],
        "row": base[2],
        "expanded": base[0, :2].expand(3, 2),
    }
    assert not views["transposed"].is_contiguous() and views["sliced"].storage_offset() == 5
    torch.save(views, out("views.pt"))
    expected["views.pt"] = describe(views)

    # A training script's checkpoint: the model under "model", an optimizer beside it.
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, out("nested.pt"))
    expected["nested.pt"] = describe(model.state_dict(), state_dict_key="model")

    # The other allowed globals as torch writes them: a Parameter, torch.Size, a dtype and
    # Lightning's AttributeDict; only the parameter is a tensor.
    from lightning.fabric.utilities.data import AttributeDict

    parameter = nn.Parameter(torch.tensor([0.25, -4.0]))
    torch.save({"p": parameter, "size": torch.Size([2, 3]), "dtype": torch.float16,
                "hparams": AttributeDict(lr=0.5, layers=[1, 2])}, out("globals.pt"))
    expected["globals.pt"] = describe({"p": parameter})

    # A single tensor: named after the file.
    single = torch.tensor([[1.5, -2.0]])
    torch.save(single, out("tensor.pt"))
    expected["tensor.pt"] = describe({"tensor": single})

    # As a big-endian machine would write it: byteorder "big", every storage byte-swapped.
    swapped = {"w": torch.tensor([1.5, -2.0, 3.25]), "n": torch.tensor([7, -8], dtype=torch.int64),
               "h": torch.tensor([0.5, -1.0], dtype=torch.float16)}
    data = saved_bytes(swapped)
    # torch numbers storages in order of first use: w, n, h.
    widths = {"0": 4, "1": 8, "2": 2}
    assert [len(c) for m, c in members(data) if "/data/" in m] == [12, 16, 4]

    def big_endian(member, content):
        if member.endswith("/byteorder"):
            return b"big"
        key = member.split("/data/")[-1] if "/data/" in member else None
        if key in widths:
            width = widths[key]
            return b"".join(content[i:i + width][::-1] for i in range(0, len(content), width))
        return content

    write_zip("big_endian.pt", edited(data, big_endian))
    expected["big_endian.pt"] = describe(swapped)


def make_lightning(expected):
    """A real Lightning checkpoint: the weights under state_dict, prefixed by the attribute name."""
    import lightning as L

    class Regressor(L.LightningModule):
        def __init__(self, hidden=4, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.model = nn.Sequential(nn.Linear(3, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def training_step(self, batch, _):
            x, y = batch
            return nn.functional.mse_loss(self.model(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)

    scratch = tempfile.mkdtemp()
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)
    trainer = L.Trainer(
        max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=scratch)
    module = Regressor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(module, loader)
    trainer.save_checkpoint(out("lightning.ckpt"))
    shutil.rmtree(scratch)
    expected["lightning.ckpt"] = describe(module.state_dict(), state_dict_key="state_dict", common_prefix="model.")
    expected["lightning.ckpt"]["lightningVersion"] = L.__version__


# ----------------------------------------------------------------------------
# plain pickles
# ----------------------------------------------------------------------------
def make_pickles():
    """The same plain values pickled by Python's own pickler at protocols 2 to 5; the
    value is repeated in the Swift tests, so change both together."""
    shared = [1]
    plain = {
        "none": None, "true": True, "false": False,
        "ints": [0, 1, 255, 256, 65535, 65536, -1, -5, 2**31 - 1, -2**31, 2**40, -2**63, 2**63 - 1, 2**70, -2**70],
        "float": -1.5, "text": "é ☃", "bytes": b"\x00\xff", "empty": b"", "array": bytearray(b"ab"),
        "tuple": (1, (2,), ()), "nested": {"k": [[]]}, "shared": [shared, shared],
        "set": {3, 1}, "frozen": frozenset([2]),
        "keys": {7: "seven", (1, "a"): "tuple"},
        "ordered": collections.OrderedDict([("y", 2), ("x", 1)]),
    }
    for protocol in (2, 3, 4, 5):
        with open(out("plain_p%d.pkl" % protocol), "wb") as f:
            f.write(pickle.dumps(plain, protocol=protocol))


# ----------------------------------------------------------------------------
# hostile and damaged files
# ----------------------------------------------------------------------------
def make_hostile():
    version = ("archive/version", b"3\n")

    # Pickles that would run `echo pwned` through os.system, written by hand.
    command = b"echo pwned"
    unicode_command = b"X" + struct.pack("<I", len(command)) + command
    by_global = b"\x80\x02" + b"cos\nsystem\n" + unicode_command + b"\x85R."
    by_stack_global = (b"\x80\x04" + b"\x8c\x02os" + b"\x8c\x06system" + b"\x93"
                       + unicode_command + b"\x85R.")
    write_zip("hostile_global.pt", [("archive/data.pkl", by_global), version])
    write_zip("hostile_stack_global.pt", [("archive/data.pkl", by_stack_global), version])

    # The victim for the edits below: one 2 × 3 float tensor (24 bytes), one int64 vector.
    victim = {"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "steps": torch.tensor([1, 2])}
    data = saved_bytes(victim)
    folder = members(data)[0][0].split("/")[0]
    pickled = dict(members(data))[folder + "/data.pkl"]

    # data.pkl cut in half.
    write_zip("hostile_truncated.pt", edited(data, lambda m, c: c[: len(c) // 2] if m.endswith("data.pkl") else c))

    # A memo reference (BINGET) to an entry that was never stored.
    binget = next(pos for op, _, pos in pickle_ops(pickled) if op.name == "BINGET")
    bad_memo = pickled[: binget + 1] + b"\xfa" + pickled[binget + 2:]
    write_zip("hostile_memo.pt", edited(data, lambda m, c: bad_memo if m.endswith("data.pkl") else c))

    # The weight's storage declared as 3 elements (and holding 3) while the view needs 6.
    ops = pickle_ops(pickled)
    numel = next(pos for i, (op, arg, pos) in enumerate(ops)
                 if op.name == "BININT1" and arg == 6 and ops[i + 1][0].name == "TUPLE")
    short_pickle = pickled[: numel + 1] + b"\x03" + pickled[numel + 2:]

    def short_storage(member, content):
        if member.endswith("data.pkl"):
            return short_pickle
        if member.endswith("/data/0"):
            return content[:12]
        return content

    write_zip("hostile_short_storage.pt", edited(data, short_storage))

    # The weight's storage record holds 12 bytes where 6 float32 elements need 24.
    write_zip("hostile_short_record.pt", edited(data, lambda m, c: c[:12] if m.endswith("/data/0") else c))

    # A zip whose entry for data/0 claims 4000 bytes in both headers but stores 24.
    write_zip("hostile_size.pt", members(data))
    raw = bytearray(open(out("hostile_size.pt"), "rb").read())
    name = (folder + "/data/0").encode()
    patched = 0
    start = 0
    while True:
        local = raw.find(b"PK\x03\x04", start)
        if local < 0:
            break
        length = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30: local + 30 + length] == name:
            struct.pack_into("<I", raw, local + 22, 4000)  # uncompressed size
            patched += 1
        start = local + 4
    start = 0
    while True:
        central = raw.find(b"PK\x01\x02", start)
        if central < 0:
            break
        length = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46: central + 46 + length] == name:
            struct.pack_into("<I", raw, central + 24, 4000)  # uncompressed size
            patched += 1
        start = central + 4
    assert patched == 2
    open(out("hostile_size.pt"), "wb").write(bytes(raw))

    # The legacy (pre-1.6) format, which the reader refuses.
    torch.save({"w": torch.ones(2)}, out("legacy.pt"), _use_new_zipfile_serialization=False)


def main():
    files = {}
    make_good(files)
    make_lightning(files)
    make_pickles()
    make_hostile()
    with open(out("expected.json"), "w") as f:
        json.dump({"torch": torch.__version__, "files": files}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

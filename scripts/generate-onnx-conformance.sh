#!/usr/bin/env bash
# Writes the ONNX backend node test cases into DIR, one folder per case:
#   DIR/node/CASE/model.onnx
#   DIR/node/CASE/test_data_set_N/input_K.pb, output_K.pb   (TensorProto, or
#                                                             Sequence/Optional/MapProto)
#   DIR/node/CASE/tolerance.json   (only when the case sets its own rtol/atol)
# plus DIR/index.json (every case: its op_types, opsets, input/output names and types)
# and DIR/summary.txt (cases per operator).
#
# The cases come from the generators that the `onnx` wheel carries in
# onnx.backend.test.case.node. In onnx 1.23.2, `python -m onnx.backend.test.cmd_tools
# generate-data` writes only the model cases (data/real and data/simple), not the node
# cases, so this script collects the node cases itself.
#
# Usage: scripts/generate-onnx-conformance.sh DIR
# Needs python3 with numpy; installs onnx==1.23.2 with pip when no onnx is importable,
# and into DIR/.python-onnx (used only by this script) when another onnx version is.
# The generated data is not committed.
set -euo pipefail

ONNX_VERSION=1.23.2
PYTHON="${PYTHON:-python3}"
if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
out="$1"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

installed="$("$PYTHON" -c 'import onnx; print(onnx.__version__)' 2>/dev/null || true)"
if [ -z "$installed" ]; then
    "$PYTHON" -m pip install --quiet "onnx==$ONNX_VERSION"
elif [ "$installed" != "$ONNX_VERSION" ]; then
    private="$out/.python-onnx"
    if ! PYTHONPATH="$private" "$PYTHON" -c "import onnx, sys; sys.exit(onnx.__version__ != '$ONNX_VERSION')" 2>/dev/null; then
        "$PYTHON" -m pip install --quiet --no-deps --target "$private" "onnx==$ONNX_VERSION"
    fi
    export PYTHONPATH="$private${PYTHONPATH:+:$PYTHONPATH}"
fi

"$PYTHON" - "$out" "$ONNX_VERSION" <<'PY'
import collections
import json
import os
import shutil
import sys
import time
import warnings

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases

out, pinned = sys.argv[1], sys.argv[2]
assert onnx.__version__ == pinned, f"onnx {onnx.__version__} imported, {pinned} expected"
start = time.time()
warnings.simplefilter("ignore", RuntimeWarning)  # the generators divide by zero on purpose (inf cases)


def proto_for(value, value_info):
    """The protobuf message for one input or output, after the graph's declared type."""
    if isinstance(value, (onnx.TensorProto, onnx.SequenceProto, onnx.OptionalProto, onnx.MapProto)):
        return value
    kind = value_info.type.WhichOneof("value")
    if kind == "sequence_type":
        return numpy_helper.from_list(value, value_info.name)
    if kind == "optional_type":
        return numpy_helper.from_optional(value, value_info.name)
    if kind == "map_type":
        return numpy_helper.from_dict(value, value_info.name)
    return numpy_helper.from_array(value, value_info.name)


def describe(value_info):
    t = value_info.type
    kind = t.WhichOneof("value")
    if kind == "tensor_type":
        return onnx.TensorProto.DataType.Name(t.tensor_type.elem_type)
    return kind or "unknown"


node_root = os.path.join(out, "node")
if os.path.exists(node_root):
    shutil.rmtree(node_root)
os.makedirs(node_root)

index = []
for case in sorted(node_cases.collect_testcases(), key=lambda c: c.name):
    assert case.model is not None and case.data_sets, case.name
    folder = os.path.join(node_root, case.name)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    if (case.rtol, case.atol) != (1e-3, 1e-7):
        # The tolerance ONNX's runner uses for this case, when it is not the default.
        with open(os.path.join(folder, "tolerance.json"), "w") as f:
            json.dump({"rtol": case.rtol, "atol": case.atol}, f)
    graph = case.model.graph
    for n, (inputs, outputs) in enumerate(case.data_sets):
        data_dir = os.path.join(folder, f"test_data_set_{n}")
        os.makedirs(data_dir)
        for prefix, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
            for k, value in enumerate(values):
                with open(os.path.join(data_dir, f"{prefix}_{k}.pb"), "wb") as f:
                    f.write(proto_for(value, infos[k]).SerializeToString())
    index.append({
        "name": case.name,
        "op_types": sorted({node.op_type for node in graph.node}),
        "node_count": len(graph.node),
        "expanded": case.name.endswith("_expanded") or "_expanded_" in case.name,
        "opset_imports": {(o.domain or "ai.onnx"): o.version for o in case.model.opset_import},
        "inputs": [[i.name, describe(i)] for i in graph.input],
        "outputs": [[o.name, describe(o)] for o in graph.output],
        "data_sets": len(case.data_sets),
        "rtol": case.rtol,
        "atol": case.atol,
    })

with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"onnx_version": onnx.__version__, "cases": index}, f, indent=1)

# A case tests the operator of its single node; cases of one node per op are counted per
# op_type, cases with several nodes (function bodies expanded, or a node plus nodes that feed it)
# count for every op_type they contain under "appears in".
single = collections.Counter(c["op_types"][0] for c in index if c["node_count"] == 1)
appears = collections.Counter(op for c in index for op in c["op_types"])
size = 0
files = 0
for root, _, names in os.walk(node_root):
    for name in names:
        files += 1
        size += os.path.getsize(os.path.join(root, name))
with open(os.path.join(out, "summary.txt"), "w") as f:
    f.write(f"onnx {onnx.__version__}: {len(index)} node cases, {files} files, {size} bytes, "
            f"{time.time() - start:.1f} s\n")
    f.write("op_type\tsingle-node cases\tcases it appears in\n")
    for op in sorted(appears):
        f.write(f"{op}\t{single.get(op, 0)}\t{appears[op]}\n")
print(f"wrote {len(index)} node cases ({files} files, {size / 1e6:.1f} MB) to {node_root} "
      f"in {time.time() - start:.1f} s; index.json and summary.txt beside it")
PY

"""Writes tiny ONNX models for the schema-decoding tests, with the `onnx` package's helpers.

Run from anywhere: python3 Tests/Fixtures/onnx/make_onnx_fixtures.py
The outputs are a few hundred bytes and are committed.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(3)

# x[1, 3] -> Gemm(W[4, 3], b[4], transB=1) -> Relu -> y[1, 4]
w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), name="fc.weight")
b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), name="fc.bias")
graph = helper.make_graph(
    [
        helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["/fc/Gemm_output_0"], name="/fc/Gemm", transB=1),
        helper.make_node("Relu", ["/fc/Gemm_output_0"], ["y"], name="/act/Relu"),
    ],
    "tiny_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    initializer=[w, b],
)
model = helper.make_model(graph, producer_name="repprobe-fixtures", opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "tiny_mlp.onnx"))

# The expected values the Swift test checks, written beside the model.
with open(os.path.join(here, "tiny_mlp.expected.txt"), "w") as f:
    f.write("fc.weight " + " ".join(repr(float(v)) for v in numpy_helper.to_array(w).ravel()) + "\n")
    f.write("fc.bias " + " ".join(repr(float(v)) for v in numpy_helper.to_array(b).ravel()) + "\n")
print("wrote tiny_mlp.onnx, tiny_mlp.expected.txt")

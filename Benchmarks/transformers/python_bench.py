"""Times onnxruntime and PyTorch on the transformer benchmark's models (make_models.py),
with the protocol of repprobe-bench --transformers: warm-up runs, then timed runs of the
whole batch; writes ort_NAME.npy (the first output) for the agreement check and prints one
JSON report.

Usage: python3 python_bench.py DATA ort|torch
"""
import json
import os
import sys
import time

import numpy as np


def timed(run, warmup, runs):
    for _ in range(warmup):
        out = run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return out, times


def main():
    data, tool = sys.argv[1], sys.argv[2]
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    results = []
    for model in manifest["models"]:
        inputs = {k: np.load(os.path.join(data, v)) for k, v in model["inputs"].items()}
        if tool == "ort":
            import onnxruntime as ort
            options = ort.SessionOptions()
            options.intra_op_num_threads = manifest["threads"]
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            session = ort.InferenceSession(os.path.join(data, model["onnx"]), options, providers=["CPUExecutionProvider"])
            out, times = timed(lambda: session.run(None, inputs)[0], manifest["warmup"], manifest["runs"])
            np.save(os.path.join(data, f"ort_{model['folder']}.npy"), out)
        else:
            import torch
            import transformers
            torch.set_num_threads(manifest["threads"])
            cls = transformers.BertModel if model["folder"] == "bert" else transformers.ViTModel
            net = cls.from_pretrained(os.path.join(data, model["folder"])).eval()
            tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
            with torch.inference_mode():
                out, times = timed(lambda: net(**tensors).last_hidden_state, manifest["warmup"], manifest["runs"])
        best, median = min(times), float(np.median(times))
        results.append({"model": model["name"], "batch": model["batch"], "runs": times, "best": best, "median": median,
                        "samples_per_second": model["batch"] / best, "samples_per_second_median": model["batch"] / median})
    print(json.dumps({"tool": tool, "measurements": results}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times onnxruntime on the networks that make_models.py wrote, and prints the timings
as JSON on stdout (progress goes to stderr).

    python3 ort_bench.py DATA_DIR

The InferenceSession is what a user gets with the thread count fixed: the CPU provider, default
graph optimisations, sequential execution, 2 intra-op threads and 1 inter-op thread.
For each model and batch size: the manifest's untimed warm-up runs, then its timed
runs; throughput is the batch size over the best (and over the median) wall-clock time.
The outputs of each batch go to DATA_DIR/ort_<model>_b<batch>.npy, the reference that
repprobe-bench compares its own outputs with.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def log(message):
    print(message, file=sys.stderr, flush=True)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="folder written by make_models.py")
    args = parser.parse_args()
    with open(os.path.join(args.data, "manifest.json")) as f:
        manifest = json.load(f)
    threads = manifest["threads"]
    measurements = []
    for model in manifest["models"]:
        sess = session(os.path.join(args.data, model["file"]), threads)
        input_name = sess.get_inputs()[0].name
        images = np.load(os.path.join(args.data, model["input"]))
        stem = os.path.splitext(model["file"])[0]
        log(f"onnxruntime: {model['name']}")
        for batch in model["batches"]:
            feed = {input_name: np.ascontiguousarray(images[:batch])}
            for _ in range(manifest["warmup"]):
                outputs = sess.run(None, feed)
            runs = []
            for _ in range(manifest["runs"][str(batch)]):
                start = time.perf_counter()
                outputs = sess.run(None, feed)
                runs.append(time.perf_counter() - start)
            np.save(os.path.join(args.data, f"ort_{stem}_b{batch}.npy"), outputs[0])
            best, median = min(runs), statistics.median(runs)
            log(f"  batch {batch:<3} {batch / best:8.1f} img/s best, {batch / median:8.1f} median ({len(runs)} runs)")
            measurements.append(
                {
                    "model": model["name"],
                    "file": model["file"],
                    "batch": batch,
                    "runs": runs,
                    "best": best,
                    "median": median,
                    "images_per_second": batch / best,
                    "images_per_second_median": batch / median,
                }
            )
    report = {
        "tool": "onnxruntime",
        "version": ort.__version__,
        "cpu": cpu_name(),
        "threads": threads,
        "session": "CPUExecutionProvider, ORT_ENABLE_ALL, sequential, intra_op 2, inter_op 1",
        "measurements": measurements,
    }
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

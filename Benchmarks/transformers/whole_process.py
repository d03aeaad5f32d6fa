"""The whole command as a user times it: a BERT-base-shaped folder run on 32 sentences ×
128 tokens, from process start to the output file, by repprobe (`repprobe run FOLDER`),
onnxruntime (a script loading the export) and PyTorch (a script loading the folder with
transformers), alternating, ROUNDS times each, under /usr/bin/time -v. Prints the medians of
wall time, system time and peak resident memory as a Markdown table.

Usage: python3 whole_process.py DATA REPPROBE [ROUNDS]   (DATA written by make_models.py)
"""
import os
import re
import statistics
import subprocess
import sys

ORT = """
import sys, numpy as np, onnxruntime as ort
d = sys.argv[1]
o = ort.SessionOptions(); o.intra_op_num_threads = 2; o.inter_op_num_threads = 1
s = ort.InferenceSession(d + "/bert.onnx", o, providers=["CPUExecutionProvider"])
x = {k: np.load(f"{d}/bert_{k}.npy") for k in ["input_ids", "attention_mask", "token_type_ids"]}
np.savez(d + "/out_ort.npz", last_hidden_state=s.run(None, x)[0])
"""
TORCH = """
import sys, numpy as np, torch, transformers
d = sys.argv[1]
torch.set_num_threads(2)
m = transformers.BertModel.from_pretrained(d + "/bert").eval()
x = {k: torch.from_numpy(np.load(f"{d}/bert_{k}.npy")) for k in ["input_ids", "attention_mask", "token_type_ids"]}
with torch.inference_mode():
    y = m(**x).last_hidden_state
np.savez(d + "/out_torch.npz", last_hidden_state=y.numpy())
"""


def timed(command):
    result = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{result.stderr[-2000:]}")
    def field(name):
        return re.search(rf"{name}: (.*)", result.stderr).group(1).strip()
    wall = field(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    return seconds, float(field("System time \\(seconds\\)")), int(field("Maximum resident set size \\(kbytes\\)")) / 1024


def main():
    data, repprobe = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    inputs = [arg for k in ["input_ids", "attention_mask", "token_type_ids"] for arg in ["--input", f"{k}={data}/bert_{k}.npy"]]
    tools = {
        "repprobe run": [repprobe, "run", f"{data}/bert"] + inputs + ["-o", f"{data}/out_repprobe.npz"],
        "onnxruntime script": [sys.executable, "-c", ORT, data],
        "PyTorch script": [sys.executable, "-c", TORCH, data],
    }
    runs = {name: [] for name in tools}
    for _ in range(rounds):
        for name, command in tools.items():
            runs[name].append(timed(command))
    print(f"Whole process, median of {rounds} alternating runs (/usr/bin/time -v):\n")
    print("| command | wall s | system s | peak MiB | wall ÷ repprobe's |")
    print("| --- | ---: | ---: | ---: | ---: |")
    base = statistics.median(r[0] for r in runs["repprobe run"])
    for name, values in runs.items():
        wall, system, peak = (statistics.median(v[k] for v in values) for k in range(3))
        print(f"| {name} | {wall:.2f} | {system:.2f} | {peak:.0f} | {wall / base:.2f} |")


if __name__ == "__main__":
    main()

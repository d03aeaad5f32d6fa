import Foundation
import Formats
import Testing

@Suite("NPY")
struct NPYTests {
    // MARK: Round trips

    /// One small array per element type, with values at the edges of each type.
    static func sample(_ type: ElementType) -> NumericArray {
        let shape = [2, 3]
        switch type.storageKind {
        case .float32:
            return NumericArray(shape: shape, elementType: type, storage: .float32([0, -0.5, 1.25, -3, 96, 0.001953125]))
        case .float64:
            return NumericArray(shape: shape, float64: [1e-300, -0.0, .pi, -1e300, 42, .leastNonzeroMagnitude])
        case .int32, .int64:
            let range = type == .int64 ? Int64.min...Int64.max : Self.range(type)
            let values = [range.lowerBound, range.upperBound, 0, 1, range.lowerBound / 2, range.upperBound / 3]
            return type.storageKind == .int64
                ? NumericArray(shape: shape, elementType: type, storage: .int64(values))
                : NumericArray(shape: shape, elementType: type, storage: .int32(values.map { Int32($0) }))
        }
    }

    static func range(_ type: ElementType) -> ClosedRange<Int64> {
        switch type {
        case .uint8: return 0...255
        case .int8: return -128...127
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        case .uint32: return 0...Int64(UInt32.max)
        default: return 0...1
        }
    }

    @Test("round-trips every NumPy element type", arguments: ElementType.allCases.filter { $0 != .bfloat16 })
    func roundTrip(type: ElementType) throws {
        let array = Self.sample(type)
        let decoded = try NPY.decode(NPY.encode(array), file: "memory.npy")
        #expect(decoded == array)
        #expect(decoded.elementType == type)
    }

    @Test("writes version 1.0 with the data aligned to 64 bytes")
    func headerIsAligned() throws {
        let data = try NPY.encode(NumericArray(shape: [3], float64: [1, 2, 3]))
        let bytes = [UInt8](data)
        #expect(bytes[6] == 1 && bytes[7] == 0)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(bytes[10 + headerLength - 1] == 0x0A)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"))
    }

    @Test("switches to version 2.0 when the header passes 65535 bytes")
    func largeHeaderUsesVersion2() throws {
        let array = NumericArray(shape: [Int](repeating: 1, count: 30_000), float32: [7])
        let data = try NPY.encode(array)
        #expect(data[6] == 2)
        let headerLength = data.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
        #expect((12 + headerLength) % 64 == 0)
        #expect(try NPY.decode(data, file: "big-header.npy") == array)
    }

    @Test("round-trips a scalar and an empty array")
    func scalarAndEmpty() throws {
        let scalar = NumericArray(shape: [], float64: [2.5])
        let empty = NumericArray(shape: [0, 3], float32: [])
        #expect(try NPY.decode(NPY.encode(scalar), file: "s.npy") == scalar)
        #expect(try NPY.decode(NPY.encode(empty), file: "e.npy") == empty)
    }

    @Test("writes a file and reads it back")
    func fileRoundTrip() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("weights.npy")
            let array = NumericArray(shape: [2, 2], int64: [1, -2, 3, -4])
            try NPY.write(array, to: url)
            #expect(try NPY.read(url) == array)
            #expect(try contents(of: folder) == ["weights.npy"])
        }
    }

    @Test("refuses to write bfloat16, which NumPy lacks")
    func bfloat16IsRefused() {
        let array = NumericArray(shape: [1], elementType: .bfloat16, storage: .float32([1]))
        let error = formatError { try NPY.encode(array, file: "out.npy") }
        #expect(error == .unsupportedElementType(file: "out.npy", type: "bfloat16 (NumPy has no such dtype; convert to float32 first)"))
    }

    @Test("refuses a value that does not fit the element type")
    func valueOutOfRange() {
        let array = NumericArray(shape: [2], elementType: .uint8, storage: .int32([3, 300]))
        let error = formatError { try NPY.encode(array, name: "x", file: "out.npy") }
        #expect(error == .valueOutOfRange(file: "out.npy", name: "x", value: "300", elementType: .uint8))
        #expect(error?.description.contains("out.npy") == true)
    }

    // MARK: Files written by NumPy

    @Test("reads C-order float32 written by NumPy")
    func numpyFloat32() throws {
        let array = try NPY.read(Fixtures.formats("f32_c.npy"))
        #expect(array == NumericArray(shape: [2, 3], float32: [-1, -0.5, 0, 0.5, 1, 1.5]))
    }

    @Test("converts Fortran order to C order (2-D float64)")
    func numpyFortran2D() throws {
        let array = try NPY.read(Fixtures.formats("f64_fortran.npy"))
        #expect(array == NumericArray(shape: [3, 4], float64: (0..<12).map { Double($0) * 1.5 }))
    }

    @Test("converts Fortran order to C order (3-D int32)")
    func numpyFortran3D() throws {
        let array = try NPY.read(Fixtures.formats("i32_fortran_3d.npy"))
        #expect(array == NumericArray(shape: [2, 3, 4], int32: Array(0..<24)))
    }

    @Test("reads an int64 vector")
    func numpyInt64() throws {
        #expect(try NPY.read(Fixtures.formats("i64_vector.npy")) == NumericArray(shape: [5], int64: [3, -1, 7, 0, 2]))
    }

    @Test("reads float16 edge values")
    func numpyFloat16() throws {
        let array = try NPY.read(Fixtures.formats("f16_edges.npy"))
        #expect(array.elementType == .float16)
        let values = array.floats()
        #expect(Array(values.prefix(9)) == [0, -0.0, 1, -2, 65504, 0x1p-14, 0x1p-24, .infinity, -.infinity])
        #expect(values[1].sign == .minus)
        #expect(values[9].isNaN)
    }

    @Test("byte-swaps big-endian float64")
    func numpyBigEndian() throws {
        let array = try NPY.read(Fixtures.formats("f8_big_endian.npy"))
        #expect(array == NumericArray(shape: [3], float64: [1.5, -2.25, 1e300]))
    }

    @Test("reads uint8, int8 and bool")
    func numpyBytes() throws {
        let u1 = try NPY.read(Fixtures.formats("u1.npy"))
        let i1 = try NPY.read(Fixtures.formats("i1.npy"))
        let b1 = try NPY.read(Fixtures.formats("b1.npy"))
        #expect(u1 == NumericArray(shape: [3], elementType: .uint8, storage: .int32([0, 200, 255])))
        #expect(i1 == NumericArray(shape: [3], elementType: .int8, storage: .int32([-128, 0, 127])))
        #expect(b1 == NumericArray(shape: [3], elementType: .bool, storage: .int32([1, 0, 1])))
    }

    @Test("reads a 0-d array")
    func numpyScalar() throws {
        #expect(try NPY.read(Fixtures.formats("scalar.npy")) == NumericArray(shape: [], float64: [3.25]))
    }

    @Test("reads format versions 2.0 and 3.0", arguments: ["v2.npy", "v3.npy"])
    func numpyVersions(file: String) throws {
        #expect(try NPY.read(Fixtures.formats(file)) == NumericArray(shape: [2, 2], float32: [1, 2, 3, 4]))
    }

    @Test("reads big-endian int32 and Python 2 long shapes")
    func handMadeVariants() throws {
        let data = Data(npyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2L,), }\n", data: [0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE]))
        #expect(try NPY.decode(data, file: "be.npy") == NumericArray(shape: [2], int32: [256, -2]))
    }

    // MARK: Bad files

    @Test("rejects a wrong magic string")
    func wrongMagic() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(Array("not a numpy file at all".utf8), "bad-magic.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .badMagic(file: url.path))
            #expect(error?.description.contains("bad-magic.npy") == true)
        }
    }

    @Test("rejects a file that ends inside the fixed preamble")
    func truncatedPreamble() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(Array(npyBytes("").prefix(8)), "short.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .truncated(file: url.path, expected: 10, actual: 8))
            #expect(error?.description.contains("short.npy") == true)
        }
    }

    @Test("rejects a header length larger than the file")
    func headerLengthLies() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n"
            let url = try writeFile(npyBytes(header, declaredLength: 60_000), "lying-header.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .headerSizeMismatch(file: url.path, declared: 60_000, available: header.utf8.count))
            #expect(error?.description.contains("lying-header.npy") == true)
        }
    }

    @Test("rejects truncated data")
    func truncatedData() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n"
            let url = try writeFile(npyBytes(header, data: float32Bytes([1, 2, 3])), "cut.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .truncated(file: url.path, expected: 24, actual: 12))
            #expect(error?.description.contains("cut.npy") == true)
        }
    }

    @Test("rejects data longer than the shape says")
    func trailingData() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
            let url = try writeFile(npyBytes(header, data: float32Bytes([1, 2, 3])), "long.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .trailingData(file: url.path, expected: 8, actual: 12))
            #expect(error?.description.contains("long.npy") == true)
        }
    }

    @Test("rejects an unknown format version")
    func unknownVersion() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(npyBytes("{}", version: 4), "future.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .unsupportedVersion(file: url.path, version: "4.0"))
            #expect(error?.description.contains("future.npy") == true)
        }
    }

    @Test(
        "rejects malformed header dicts",
        arguments: [
            "not a dict",
            "['descr', 'fortran_order', 'shape']",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
            "{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': 3}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'x')}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} trailing",
            "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (1,)}",
            String(repeating: "(", count: 1000),
        ])
    func malformedHeader(header: String) throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(npyBytes(header), "malformed.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            guard case let .malformedHeader(file, reason)? = error else {
                Issue.record("expected malformedHeader, got \(String(describing: error))")
                return
            }
            #expect(file == url.path)
            #expect(!reason.isEmpty)
            #expect(error?.description.contains("malformed.npy") == true)
        }
    }

    @Test("rejects a shape whose element count overflows")
    func shapeOverflow() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n"
            let url = try writeFile(npyBytes(header), "overflow.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .shapeOverflow(file: url.path, shape: [4_294_967_296, 4_294_967_296]))
            #expect(error?.description.contains("overflow.npy") == true)
        }
    }

    @Test("rejects a huge shape in a small file before allocating")
    func hugeShapeSmallFile() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000,), }\n"
            let url = try writeFile(npyBytes(header, data: [0, 0, 0, 0]), "huge.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .truncated(file: url.path, expected: 4_000_000_000_000_000, actual: 4))
            #expect(error?.description.contains("huge.npy") == true)
        }
    }

    @Test("rejects unsupported dtypes", arguments: ["<c16", "<U5", "|O", "<M8[ns]", "<u8", "|f4", "<f16"])
    func unsupportedDescr(descr: String) throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (1,), }\n"
            let url = try writeFile(npyBytes(header, data: [UInt8](repeating: 0, count: 16)), "dtype.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            #expect(error == .unsupportedElementType(file: url.path, type: "'\(descr)'"))
            #expect(error?.description.contains("dtype.npy") == true)
        }
    }

    @Test("rejects structured dtypes")
    func structuredDescr() throws {
        try withTemporaryDirectory { folder in
            let header = "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }\n"
            let url = try writeFile(npyBytes(header, data: [UInt8](repeating: 0, count: 8)), "structured.npy", in: folder)
            let error = formatError { try NPY.read(url) }
            guard case .unsupportedElementType(url.path, _)? = error else {
                Issue.record("expected unsupportedElementType, got \(String(describing: error))")
                return
            }
            #expect(error?.description.contains("structured.npy") == true)
        }
    }

    @Test("reports a missing file with its path")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent-folder/missing.npy")
        let error = formatError { try NPY.read(url) }
        guard case .unreadable(url.path, _)? = error else {
            Issue.record("expected unreadable, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("missing.npy") == true)
    }
}

import Foundation
import Formats
import Testing

@Suite("safetensors")
struct SafetensorsTests {
    static let tensors: [(name: String, array: NumericArray)] = [
        ("small", NumericArray(shape: [3], elementType: .uint8, storage: .int32([0, 7, 255]))),
        ("weight", NumericArray(shape: [2, 3], float32: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])),
        ("bias", NumericArray(shape: [2], float64: [1e-300, -0.0])),
        ("half", NumericArray(shape: [2], elementType: .float16, storage: .float32([65504, 0x1p-24]))),
        ("brain", NumericArray(shape: [2], elementType: .bfloat16, storage: .float32([1, -3.140625]))),
        ("ids", NumericArray(shape: [2, 1], int64: [Int64.min, Int64.max])),
        ("counts", NumericArray(shape: [], int32: [42])),
        ("mask", NumericArray(shape: [2], elementType: .bool, storage: .int32([1, 0]))),
        ("empty", NumericArray(shape: [0, 4], float32: [])),
    ]

    /// The JSON header of safetensors bytes.
    static func header(_ data: Data) -> String {
        let length = data.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        return String(decoding: data[8..<(8 + length)], as: UTF8.self)
    }

    @Test("round-trips every element type, metadata and the tensor order")
    func roundTrip() throws {
        let data = try Safetensors.encode(Self.tensors, metadata: ["format": "pt", "note": "ünïcode \"quoted\""])
        let contents = try Safetensors.decode(data, file: "memory.safetensors")
        #expect(contents.tensors.map(\.name) == Self.tensors.map(\.name))
        #expect(contents.tensors.map(\.array) == Self.tensors.map(\.array))
        #expect(contents.metadata == ["format": "pt", "note": "ünïcode \"quoted\""])
    }

    @Test("pads the header with spaces to a multiple of 8 and lays out wide types first")
    func layout() throws {
        let data = try Safetensors.encode([
            ("a", NumericArray(shape: [1], elementType: .uint8, storage: .int32([1]))),
            ("b", NumericArray(shape: [1], float64: [2])),
            ("c", NumericArray(shape: [1], float32: [3])),
        ])
        let header = Self.header(data)
        #expect(header.utf8.count % 8 == 0)
        #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        // float64 first, then float32, then uint8; the header keeps the given order.
        #expect(header.hasPrefix(#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[12,13]},"b":{"dtype":"F64""#))
        #expect(header.contains(#""data_offsets":[0,8]"#))
        #expect(header.contains(#""c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}"#))
    }

    @Test("reads a file written by Python safetensors, in header order")
    func pythonFile() throws {
        let contents = try Safetensors.read(Fixtures.formats("tensors.safetensors"))
        #expect(contents.metadata == ["format": "np", "note": "fixture"])
        #expect(contents.tensors.map(\.name) == ["index", "double", "weight", "count", "half", "bytes", "mask"])
        let arrays = Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.array) })
        #expect(arrays["weight"] == NumericArray(shape: [2, 3], float32: [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]))
        #expect(arrays["double"] == NumericArray(shape: [2], float64: [1e-300, 2]))
        #expect(arrays["half"] == NumericArray(shape: [3], elementType: .float16, storage: .float32([1, -0.5, 65504])))
        #expect(arrays["index"] == NumericArray(shape: [2], int64: [-(1 << 40), 5]))
        #expect(arrays["count"] == NumericArray(shape: [1, 3], int32: [1, 2, 3]))
        #expect(arrays["bytes"] == NumericArray(shape: [2], elementType: .uint8, storage: .int32([0, 255])))
        #expect(arrays["mask"] == NumericArray(shape: [2], elementType: .bool, storage: .int32([1, 0])))
    }

    @Test("reads bfloat16 written by the reference serializer")
    func pythonBFloat16() throws {
        let contents = try Safetensors.read(Fixtures.formats("bf16.safetensors"))
        #expect(contents.tensors.map(\.name) == ["bf"])
        #expect(contents.tensors[0].array == NumericArray(shape: [4], elementType: .bfloat16, storage: .float32([1, -2.5, 3.140625, 0])))
    }

    @Test("decodes only the requested tensors")
    func nameFilter() throws {
        let contents = try Safetensors.read(Fixtures.formats("tensors.safetensors"), names: ["half", "weight"])
        #expect(contents.tensors.map(\.name) == ["weight", "half"])
        #expect(try Safetensors.names(Fixtures.formats("tensors.safetensors")).count == 7)
    }

    @Test("refuses reserved and duplicate names")
    func invalidNames() {
        let array = NumericArray(shape: [1], float32: [1])
        #expect(formatError { try Safetensors.encode([("__metadata__", array)], file: "x.safetensors") }
            == .invalidName(file: "x.safetensors", name: "__metadata__", reason: "the name is reserved for metadata"))
        #expect(formatError { try Safetensors.encode([("w", array), ("w", array)], file: "x.safetensors") }
            == .invalidName(file: "x.safetensors", name: "w", reason: "the name is used twice"))
    }

    // MARK: Bad files

    /// Writes `bytes` as `name` and returns the error reading it throws.
    static func readError(_ bytes: [UInt8], _ name: String) throws -> (FormatError?, URL) {
        try withTemporaryDirectory { folder in
            let url = try writeFile(bytes, name, in: folder)
            return (formatError { try Safetensors.read(url) }, url)
        }
    }

    static let goodTensor = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    @Test("reads the hand-made good file the bad ones are made from")
    func handMadeGoodFile() throws {
        let contents = try Safetensors.decode(Data(safetensorsBytes(Self.goodTensor, data: float32Bytes([1, 2]))), file: "good")
        #expect(contents.tensors[0].array == NumericArray(shape: [2], float32: [1, 2]))
    }

    @Test("rejects a file shorter than the length field")
    func truncatedLength() throws {
        let (error, url) = try Self.readError([1, 0, 0], "tiny.safetensors")
        #expect(error == .truncated(file: url.path, expected: 8, actual: 3))
        #expect(error?.description.contains("tiny.safetensors") == true)
    }

    @Test("rejects a header length beyond the end of the file")
    func headerBeyondFile() throws {
        let bytes = safetensorsBytes(Self.goodTensor, data: float32Bytes([1, 2]), declaredLength: 5000)
        let (error, url) = try Self.readError(bytes, "long-header.safetensors")
        #expect(error == .headerSizeMismatch(file: url.path, declared: 5000, available: bytes.count - 8))
        #expect(error?.description.contains("long-header.safetensors") == true)
    }

    @Test("rejects an absurd header length without allocating it")
    func absurdHeaderLength() throws {
        let bytes = safetensorsBytes(Self.goodTensor, declaredLength: 1 << 62)
        let (error, url) = try Self.readError(bytes, "absurd.safetensors")
        #expect(error == .headerSizeMismatch(file: url.path, declared: 1 << 62, available: bytes.count - 8))
        #expect(error?.description.contains("absurd.safetensors") == true)
    }

    @Test("rejects data cut short (offsets past the buffer)")
    func truncatedData() throws {
        let (error, url) = try Self.readError(safetensorsBytes(Self.goodTensor, data: float32Bytes([1])), "cut.safetensors")
        #expect(error == .offsetOutOfRange(file: url.path, tensor: "w", begin: 0, end: 8, bufferSize: 4))
        #expect(error?.description.contains("cut.safetensors") == true)
    }

    @Test("rejects reversed offsets")
    func reversedOffsets() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#
        let (error, url) = try Self.readError(safetensorsBytes(header, data: float32Bytes([1, 2])), "reversed.safetensors")
        #expect(error == .offsetOutOfRange(file: url.path, tensor: "w", begin: 8, end: 0, bufferSize: 8))
        #expect(error?.description.contains("reversed.safetensors") == true)
    }

    @Test("rejects offsets whose span does not match shape × dtype size")
    func wrongByteCount() throws {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        let (error, url) = try Self.readError(safetensorsBytes(header, data: float32Bytes([1, 2])), "count.safetensors")
        #expect(error == .tensorSizeMismatch(file: url.path, tensor: "w", expected: 12, actual: 8))
        #expect(error?.description.contains("count.safetensors") == true)
    }

    @Test("rejects a shape whose byte count overflows")
    func shapeOverflow() throws {
        let header = #"{"w":{"dtype":"F64","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#
        let (error, url) = try Self.readError(safetensorsBytes(header, data: float32Bytes([1, 2])), "overflow.safetensors")
        #expect(error == .shapeOverflow(file: url.path, shape: [4_611_686_018_427_387_904, 4]))
        #expect(error?.description.contains("overflow.safetensors") == true)
    }

    @Test("rejects an unsupported dtype")
    func unsupportedDType() throws {
        let header = #"{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#
        let (error, url) = try Self.readError(safetensorsBytes(header, data: [0, 0]), "fp8.safetensors")
        #expect(error == .unsupportedElementType(file: url.path, type: "F8_E4M3 (tensor 'w')"))
        #expect(error?.description.contains("fp8.safetensors") == true)
    }

    @Test(
        "rejects malformed headers",
        arguments: [
            #"not json"#,
            #"[1, 2]"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#,
            #"{"w":{"dtype":"F32","shape":[2]}}"#,
            #"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,99999999999999999999]}}"#,
            #"{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            #"{"__metadata__":{"n":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            #"{"__metadata__":"text","w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            String(repeating: "[", count: 10_000),
        ])
    func malformedHeader(header: String) throws {
        let (error, url) = try Self.readError(safetensorsBytes(header, data: float32Bytes([1, 2])), "malformed.safetensors")
        guard case let .malformedHeader(file, reason)? = error else {
            Issue.record("expected malformedHeader, got \(String(describing: error))")
            return
        }
        #expect(file == url.path)
        #expect(!reason.isEmpty)
        #expect(error?.description.contains("malformed.safetensors") == true)
    }
}

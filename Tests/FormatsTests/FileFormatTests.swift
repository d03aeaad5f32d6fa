import Foundation
import Formats
import Testing

@Suite("Format detection and ArrayFile")
struct FileFormatTests {
    @Test(
        "recognises formats by content",
        arguments: [
            ("f32_c.npy", FileFormat.npy), ("stored.npz", .npz), ("deflated.npz", .npz),
            ("tensors.safetensors", .safetensors), ("bf16.safetensors", .safetensors), ("torch_like.zip", .pytorch),
            ("make_format_fixtures.py", .unknown),
        ])
    func detectFixtures(file: String, format: FileFormat) throws {
        #expect(try FileFormat.detect(Fixtures.formats(file)) == format)
    }

    @Test("ignores the extension")
    func extensionIgnored() throws {
        try withTemporaryDirectory { folder in
            let misnamed = folder.appendingPathComponent("really-npy.safetensors")
            try FileManager.default.copyItem(at: Fixtures.formats("f32_c.npy"), to: misnamed)
            #expect(try FileFormat.detect(misnamed) == .npy)
            let arrays = try ArrayFile.read(misnamed)
            #expect(arrays.map(\.name) == ["really-npy"])
        }
    }

    @Test("recognises an ONNX model's opening bytes and an empty file as unknown")
    func onnxAndEmpty() throws {
        try withTemporaryDirectory { folder in
            // ir_version 8, then producer_name "pytorch".
            let onnx = try writeFile([0x08, 0x08, 0x12, 0x07] + Array("pytorch".utf8), "model.bin", in: folder)
            let empty = try writeFile([], "empty.bin", in: folder)
            #expect(try FileFormat.detect(onnx) == .onnx)
            #expect(try FileFormat.detect(empty) == .unknown)
        }
    }

    @Test("a length prefix that does not fit the file is not safetensors")
    func notSafetensors() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(safetensorsBytes("{}", declaredLength: 1000), "fake.safetensors", in: folder)
            #expect(try FileFormat.detect(url) == .unknown)
        }
    }

    @Test("reads a .npy as one array named after the file")
    func readNPY() throws {
        let arrays = try ArrayFile.read(Fixtures.formats("i64_vector.npy"))
        #expect(arrays.map(\.name) == ["i64_vector"])
        #expect(arrays[0].array == NumericArray(shape: [5], int64: [3, -1, 7, 0, 2]))
    }

    @Test("reads .npz and .safetensors in file order")
    func readArchives() throws {
        #expect(try ArrayFile.read(Fixtures.formats("deflated.npz")).map(\.name) == ["first", "second", "third"])
        #expect(try ArrayFile.names(Fixtures.formats("stored.npz")) == ["first", "second", "third"])
        #expect(try ArrayFile.read(Fixtures.formats("tensors.safetensors")).count == 7)
    }

    @Test("writes each format and reads it back", arguments: [ArrayFile.WriteFormat.npz, .npzCompressed, .safetensors])
    func writeAndRead(format: ArrayFile.WriteFormat) throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("arrays.out")
            let arrays: [(name: String, array: NumericArray)] = [
                ("z", NumericArray(shape: [2], float64: [1, 2])), ("a", NumericArray(shape: [1, 1], int32: [3])),
            ]
            try ArrayFile.write(arrays, to: url, format: format)
            let back = try ArrayFile.read(url)
            #expect(back.map(\.name) == ["z", "a"])
            #expect(back.map(\.array) == arrays.map(\.array))
        }
    }

    @Test("refuses a zip that is neither an .npz nor a PyTorch checkpoint, naming a member")
    func zipIsRefused() throws {
        try withTemporaryDirectory { folder in
            let url = try PyTorchCheckpointTests.zip(["notes.txt": Array("hi".utf8)], "notes.zip", in: folder)
            let error = formatError { try ArrayFile.read(url) }
            #expect(error == .notNPZ(file: url.path, member: "notes.txt"))
            #expect(error?.description.contains("notes.zip") == true)
        }
    }

    @Test("refuses an ONNX model as an array file")
    func onnxIsRefused() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile([0x08, 0x07, 0x3A, 0x00], "model.onnx", in: folder)
            let error = formatError { try ArrayFile.read(url) }
            #expect(error == .unsupportedFormat(file: url.path, format: .onnx))
            #expect(error?.description.contains("model.onnx") == true)
        }
    }

    @Test("refuses unknown content")
    func unknownIsRefused() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(Array("hello".utf8), "notes.npy", in: folder)
            let error = formatError { try ArrayFile.read(url) }
            #expect(error == .unknownFormat(file: url.path))
            #expect(error?.description.contains("notes.npy") == true)
        }
    }

    @Test("reports a missing file with its path")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent-folder/gone.npz")
        let error = formatError { try ArrayFile.read(url) }
        guard case .unreadable(url.path, _)? = error else {
            Issue.record("expected unreadable, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("gone.npz") == true)
    }

    @Test("member errors read well")
    func memberErrorMessage() {
        let error = FormatError.member(
            file: "/data/acts.npz", member: "fc.npy", error: .truncated(file: "fc.npy", expected: 16, actual: 4))
        #expect(error.description == "/data/acts.npz: member 'fc.npy': truncated: expected 16 bytes, found 4")
        #expect(error.localizedDescription == error.description)
    }
}

@Suite("Atomic writes")
struct AtomicWriteTests {
    static let good = NumericArray(shape: [2], float32: [1, 2])
    /// 300 does not fit uint8, so encoding this fails part-way through a write.
    static let bad = NumericArray(shape: [2], elementType: .uint8, storage: .int32([1, 300]))

    @Test("a failed write leaves nothing behind", arguments: [ArrayFile.WriteFormat.npz, .npzCompressed, .safetensors])
    func failureLeavesNothing(format: ArrayFile.WriteFormat) throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("out.bin")
            let error = formatError { try ArrayFile.write([("good", Self.good), ("bad", Self.bad)], to: url, format: format) }
            #expect(error == .valueOutOfRange(file: url.path, name: "bad", value: "300", elementType: .uint8))
            #expect(error?.description.contains("out.bin") == true)
            let left = try contents(of: folder)
            #expect(left.isEmpty)
        }
    }

    @Test("a failed write keeps the existing file unchanged")
    func failureKeepsOldFile() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("keep.npy")
            try NPY.write(Self.good, to: url)
            let before = try Data(contentsOf: url)
            #expect(formatError { try NPY.write(Self.bad, to: url) } != nil)
            #expect(try Data(contentsOf: url) == before)
            #expect(try contents(of: folder) == ["keep.npy"])
        }
    }

    @Test("a successful write replaces the file and leaves no temporary file")
    func successReplaces() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("data.safetensors")
            try Safetensors.write([("a", Self.good)], to: url)
            try Safetensors.write([("b", Self.good)], to: url)
            #expect(try Safetensors.names(url) == ["b"])
            #expect(try contents(of: folder) == ["data.safetensors"])
        }
    }

    @Test("writing into a missing folder fails with the path")
    func missingFolder() {
        let url = URL(fileURLWithPath: "/nonexistent-folder/out.npy")
        let error = formatError { try NPY.write(Self.good, to: url) }
        guard case .unwritable(url.path, _)? = error else {
            Issue.record("expected unwritable, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("out.npy") == true)
    }
}

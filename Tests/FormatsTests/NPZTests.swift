import Foundation
import Formats
import Testing
import ZIPFoundation

@Suite("NPZ")
struct NPZTests {
    static let members: [(name: String, array: NumericArray)] = [
        ("first", NumericArray(shape: [3, 2], float32: [1, 2, 3, 4, 5, 6])),
        ("second", NumericArray(shape: [3], int64: [0, 1, 2])),
        ("third", NumericArray(shape: [1], float64: [0.25])),
    ]

    static func expectMembers(_ arrays: [(name: String, array: NumericArray)]) {
        #expect(arrays.map(\.name) == members.map(\.name))
        #expect(arrays.map(\.array) == members.map(\.array))
    }

    /// The compression method of the first local file header (0 stored, 8 deflated).
    static func firstCompressionMethod(_ url: URL) throws -> UInt16 {
        let bytes = [UInt8](try Data(contentsOf: url))
        return UInt16(bytes[8]) | UInt16(bytes[9]) << 8
    }

    @Test("reads np.savez (stored) in archive order")
    func numpyStored() throws {
        let url = Fixtures.formats("stored.npz")
        #expect(try Self.firstCompressionMethod(url) == 0)
        Self.expectMembers(try NPZ.read(url))
    }

    @Test("reads np.savez_compressed (deflated)")
    func numpyDeflated() throws {
        let url = Fixtures.formats("deflated.npz")
        #expect(try Self.firstCompressionMethod(url) == 8)
        Self.expectMembers(try NPZ.read(url))
    }

    @Test("round-trips stored and deflated archives", arguments: [NPZ.Compression.stored, .deflated])
    func roundTrip(compression: NPZ.Compression) throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("out.npz")
            try NPZ.write(Self.members, to: url, compression: compression)
            #expect(try Self.firstCompressionMethod(url) == (compression == .stored ? 0 : 8))
            Self.expectMembers(try NPZ.read(url))
            #expect(try NPZ.names(url) == ["first", "second", "third"])
        }
    }

    @Test("writes the same bytes for the same arrays")
    func deterministic() throws {
        try withTemporaryDirectory { folder in
            let a = folder.appendingPathComponent("a.npz")
            let b = folder.appendingPathComponent("b.npz")
            try NPZ.write(Self.members, to: a, compression: .deflated)
            try NPZ.write(Self.members, to: b, compression: .deflated)
            #expect(try Data(contentsOf: a) == Data(contentsOf: b))
        }
    }

    @Test("decodes only the requested members")
    func nameFilter() throws {
        let arrays = try NPZ.read(Fixtures.formats("stored.npz"), names: ["third"])
        #expect(arrays.map(\.name) == ["third"])
    }

    @Test("refuses duplicate and empty names")
    func invalidNames() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("dup.npz")
            let array = NumericArray(shape: [1], float32: [1])
            #expect(formatError { try NPZ.write([("x", array), ("x", array)], to: url) }
                == .invalidName(file: url.path, name: "x", reason: "the name is used twice"))
            #expect(formatError { try NPZ.write([("", array)], to: url) }
                == .invalidName(file: url.path, name: "", reason: "names must not be empty"))
            let left = try contents(of: folder)
            #expect(left.isEmpty)
        }
    }

    @Test("rejects a zip whose members are not .npy files")
    func zipThatIsNotNPZ() {
        let url = Fixtures.formats("torch_like.zip")
        let error = formatError { try NPZ.read(url) }
        #expect(error == .notNPZ(file: url.path, member: "archive/data.pkl"))
        #expect(error?.description.contains("torch_like.zip") == true)
    }

    @Test("reports a bad member with the archive path and the member name")
    func badMember() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("bad-member.npz")
            let archive = try Archive(url: url, accessMode: .create)
            let member = Data(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n", data: float32Bytes([1])))
            try archive.addEntry(with: "layer1.npy", type: .file, uncompressedSize: Int64(member.count)) { position, size in
                member.subdata(in: Int(position)..<(Int(position) + size))
            }
            let error = formatError { try NPZ.read(url) }
            #expect(error == .member(file: url.path, member: "layer1.npy", error: .truncated(file: "layer1.npy", expected: 16, actual: 4)))
            #expect(error?.description.contains("bad-member.npz") == true)
            #expect(error?.description.contains("layer1.npy") == true)
        }
    }

    @Test("rejects a truncated archive")
    func truncatedArchive() throws {
        try withTemporaryDirectory { folder in
            let whole = folder.appendingPathComponent("whole.npz")
            try NPZ.write(Self.members, to: whole)
            let bytes = [UInt8](try Data(contentsOf: whole))
            let url = try writeFile(Array(bytes.prefix(bytes.count / 2)), "cut.npz", in: folder)
            let error = formatError { try NPZ.read(url) }
            guard case .archive(url.path, _)? = error else {
                Issue.record("expected an archive error, got \(String(describing: error))")
                return
            }
            #expect(error?.description.contains("cut.npz") == true)
        }
    }
}

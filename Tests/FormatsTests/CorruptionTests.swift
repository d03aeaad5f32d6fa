import Foundation
import Formats
import Testing
import ZIPFoundation

/// Damaged copies of good files must fail with a `FormatError` (or still decode), never crash.
@Suite("Corrupted files")
struct CorruptionTests {
    /// Every truncation, and each byte replaced by a few values that matter to parsers.
    static func corruptions(of bytes: [UInt8]) -> [[UInt8]] {
        var variants = (0..<bytes.count).map { Array(bytes.prefix($0)) }
        for index in bytes.indices {
            for replacement: UInt8 in [0x00, 0xFF, 0x7F, 0x39, UInt8(ascii: "("), UInt8(ascii: "[")] where bytes[index] != replacement {
                var copy = bytes
                copy[index] = replacement
                variants.append(copy)
            }
        }
        return variants
    }

    /// Runs `decode` on every corruption and returns those that threw something other than a `FormatError`.
    static func unexpectedErrors(_ bytes: [UInt8], _ decode: (Data) throws -> Void) -> [String] {
        var unexpected: [String] = []
        for variant in corruptions(of: bytes) {
            do {
                try decode(Data(variant))
            } catch is FormatError {
                continue
            } catch {
                unexpected.append("\(error)")
            }
        }
        return unexpected
    }

    @Test("corrupted .npy files", arguments: ["f32_c.npy", "f64_fortran.npy", "i32_fortran_3d.npy", "v3.npy"])
    func npy(file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.formats(file)))
        #expect(Self.unexpectedErrors(bytes) { _ = try NPY.decode($0, file: file) } == [])
    }

    @Test("corrupted .safetensors files", arguments: ["tensors.safetensors", "bf16.safetensors"])
    func safetensors(file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.formats(file)))
        #expect(Self.unexpectedErrors(bytes) { _ = try Safetensors.decode($0, file: file) } == [])
    }

    @Test("corrupted pickles", arguments: ["plain_p2.pkl", "plain_p5.pkl"])
    func pickle(file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.pytorch(file)))
        #expect(Self.unexpectedErrors(bytes) { _ = try PyTorchPickle.decode($0, file: file) } == [])
    }

    @Test("corrupted pickles of PyTorch tensors", arguments: ["views.pt", "state_dict.pt"])
    func tensorPickle(file: String) throws {
        let checkpoint = try PyTorchCheckpoint(contentsOf: Fixtures.pytorch(file))
        let archive = try Archive(url: checkpoint.url, accessMode: .read)
        let entry = try #require(archive[checkpoint.folder + "/data.pkl"])
        var pickle = Data()
        _ = try archive.extract(entry) { pickle.append($0) }
        #expect(Self.unexpectedErrors([UInt8](pickle)) { _ = try PyTorchPickle.decode($0, file: file) } == [])
    }

    @Test("corrupted .npz files and PyTorch checkpoints", arguments: [
        Fixtures.formats("stored.npz"), Fixtures.formats("deflated.npz"), Fixtures.pytorch("tensor.pt"),
    ])
    func npz(url: URL) throws {
        let file = url.lastPathComponent
        let bytes = [UInt8](try Data(contentsOf: url))
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent(file)
            // Every fourth variant keeps the file-based run short while still touching every region.
            let variants = Self.corruptions(of: bytes).enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
            var unexpected: [String] = []
            for variant in variants {
                try Data(variant).write(to: url)
                do {
                    _ = try ArrayFile.read(url)
                } catch is FormatError {
                    continue
                } catch {
                    unexpected.append("\(error)")
                }
            }
            #expect(unexpected == [])
        }
    }

    /// One flipped bit in the elements of a stored member still parses; only the member's
    /// CRC-32 tells that it is damaged, so every read checks it.
    @Test("a flipped bit in a member's bytes is caught by its CRC-32", arguments: [
        Fixtures.formats("stored.npz"), Fixtures.pytorch("tensor.pt"),
    ])
    func checksums(url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        let archive = try Archive(url: url, accessMode: .read)
        let members = archive.filter { $0.type == .file && ($0.path.hasSuffix(".npy") || $0.path.contains("/data/")) }
        #expect(!members.isEmpty)
        try withTemporaryDirectory { folder in
            for entry in members {
                var payload = Data()
                _ = try archive.extract(entry) { payload.append($0) }
                guard let start = bytes.firstRange(of: [UInt8](payload))?.lowerBound else {
                    Issue.record("\(entry.path): stored bytes not found")
                    continue
                }
                var damaged = bytes
                damaged[start + payload.count - 1] ^= 0x01
                let copy = folder.appendingPathComponent(url.lastPathComponent)
                try Data(damaged).write(to: copy)
                let error = formatError { try ArrayFile.read(copy) }
                #expect(error?.description.contains("CRC-32") == true, "\(entry.path): \(String(describing: error))")
                #expect(error?.description.contains(entry.path) == true)
            }
        }
    }

    @Test("a ZIP64 end record with an impossible directory offset is an error, not a trap")
    func zip64Offset() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.pytorch("tensor.pt")))
        let signature: [UInt8] = [0x50, 0x4B, 0x06, 0x06]
        let record = try #require(bytes.indices.last { Array(bytes[$0...].prefix(4)) == signature })
        for index in (record + 48)..<(record + 56) { bytes[index] = 0xFF }
        try withTemporaryDirectory { folder in
            let url = try writeFile(bytes, "zip64.pt", in: folder)
            let error = formatError { try FileFormat.detect(url) }
            guard case .archive(url.path, let reason)? = error else {
                Issue.record("expected an archive error, got \(String(describing: error))")
                return
            }
            #expect(reason.contains("ZIP64"))
        }
    }
}

import Foundation
import Testing
@testable import Formats

/// Files that cannot be read or written get a reason in plain words, never the system's
/// "The operation could not be completed. (NSCocoaErrorDomain error 256.)".
struct PlainIOErrorTests {
    private static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("inner.npy"), withIntermediateDirectories: true)
        return folder
    }

    @Test func readingAFolderOrAMissingFileSaysSo() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let inner = folder.appendingPathComponent("inner.npy"), missing = folder.appendingPathComponent("missing.npy")
        let reads: [(String, (URL) throws -> Void)] = [
            ("NPY", { _ = try NPY.read($0) }), ("NPZ", { _ = try NPZ.read($0) }), ("safetensors", { _ = try Safetensors.read($0) }),
            ("rows", { _ = try NPYRowReader($0) }), ("format", { _ = try FileFormat.detect($0) }),
            ("small file", { _ = try SmallFile.data($0, within: .config) }),
        ]
        for (name, read) in reads {
            #expect(formatError { try read(inner) } == .unreadable(file: inner.path, reason: "it is a folder, not a file"), "\(name)")
            #expect(formatError { try read(missing) } == .unreadable(file: missing.path, reason: "no such file"), "\(name)")
        }
    }

    @Test func writingIntoAMissingFolderOrOntoAFolderSaysSo() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let array = NumericArray(shape: [2], elementType: .float32, storage: .float32([1, 2]))
        let nowhere = folder.appendingPathComponent("absent/out.npy")
        #expect(formatError { try NPY.write(array, to: nowhere) }?.description.contains("its folder \(folder.path)/absent does not exist") == true)
        let inner = folder.appendingPathComponent("inner.npy")
        #expect(formatError { try NPY.write(array, to: inner) }?.description.contains("it is a folder") == true)
    }
}

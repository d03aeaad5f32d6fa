import Foundation
import ZIPFoundation

/// Writes an `.npz` archive whose arrays arrive in row blocks, so that memory stays bounded
/// by one block whatever the arrays' sizes.
///
/// Each array streams into its own temporary `.npy` file beside the destination; ``finish()``
/// packs them into the archive (stored, uncompressed) and moves it into place atomically.
/// Until then nothing exists at the destination, and ``cancel()`` (or an error) leaves
/// nothing behind.
public final class NPZStreamWriter {
    /// The archive being written.
    public let url: URL
    private let folder: URL
    private struct Member {
        var name: String
        var file: URL
        var handle: FileHandle
        var expected: Int
        var written: Int
    }
    private var members: [Member] = []
    private var indexOfName: [String: Int] = [:]

    /// Prepares to write `url`.
    public init(_ url: URL) throws {
        self.url = url
        StagingName.removeStale(beside: url, kinds: ["parts", "tmp"])
        folder = StagingName.url(beside: url, kind: "parts")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FormatError.unwritable(file: url.path, reason: FormatError.reason(writing: url, after: error))
        }
    }

    deinit { cancel() }

    /// Starts array `name` of the given shape; its elements follow through `append`.
    public func begin(_ name: String, shape: [Int], elementType: ElementType) throws {
        guard !name.isEmpty, indexOfName[name] == nil else {
            throw FormatError.invalidName(file: url.path, name: name, reason: "names must be unique and non-empty")
        }
        guard let descr = elementType.numpyDescr, let count = NumericArray.elementCount(shape) else {
            throw FormatError.unsupportedElementType(file: url.path, type: "\(elementType)")
        }
        let file = folder.appendingPathComponent("\(members.count).npy")
        guard FileManager.default.createFile(atPath: file.path, contents: NPY.header(descr: descr, shape: shape)),
              let handle = try? FileHandle(forWritingTo: file) else {
            throw FormatError.unwritable(file: url.path, reason: "cannot create a temporary file for '\(name)'")
        }
        _ = try? handle.seekToEnd()
        indexOfName[name] = members.count
        members.append(Member(name: name, file: file, handle: handle, expected: count, written: 0))
    }

    /// Appends elements of array `name` in row-major order.
    public func append(_ name: String, _ array: NumericArray) throws {
        guard let index = indexOfName[name] else {
            throw FormatError.invalidName(file: url.path, name: name, reason: "append before begin")
        }
        let count = array.storage.count
        guard members[index].written + count <= members[index].expected else {
            throw FormatError.invalidName(file: url.path, name: name, reason: "more elements than its shape holds")
        }
        let bytes = try ElementCoding.encode(array, name: name, file: url.path)
        do {
            try members[index].handle.write(contentsOf: bytes)
        } catch {
            throw FormatError.unwritable(file: url.path, reason: FormatError.reason(writing: url, after: error))
        }
        members[index].written += count
    }

    /// Checks every array is complete, packs the archive and moves it into place.
    public func finish() throws {
        for member in members {
            try? member.handle.close()
            guard member.written == member.expected else {
                throw FormatError.invalidName(
                    file: url.path, name: member.name,
                    reason: "received \(member.written) of its \(member.expected) elements")
            }
        }
        try AtomicFile.write(to: url) { temporary in
            do {
                let archive = try Archive(url: temporary, accessMode: .create)
                for member in members {
                    let handle = try FileHandle(forReadingFrom: member.file)
                    defer { try? handle.close() }
                    let size = try handle.seekToEnd()
                    try archive.addEntry(
                        with: member.name + ".npy", type: .file, uncompressedSize: Int64(size),
                        modificationDate: NPZ.zipEpoch, compressionMethod: .none
                    ) { position, length in
                        try handle.seek(toOffset: UInt64(position))
                        return try handle.read(upToCount: length) ?? Data()
                    }
                }
            } catch let error as FormatError {
                throw error
            } catch {
                throw FormatError.unwritable(file: url.path, reason: "\(error)")
            }
        }
        cancel()
    }

    /// Removes the temporary files; the destination is not touched.
    public func cancel() {
        for member in members { try? member.handle.close() }
        members.removeAll()
        indexOfName.removeAll()
        try? FileManager.default.removeItem(at: folder)
    }
}

import Foundation
import ZIPFoundation

/// NumPy's `.npz` format: a zip archive with one `NAME.npy` member per array.
///
/// `np.savez` stores members uncompressed and `np.savez_compressed` deflates them; both are
/// read. Zip handling is ZIPFoundation's; each member is parsed by ``NPY``.
public enum NPZ {
    /// How members are stored when writing.
    public enum Compression: Sendable {
        /// Stored as is, like `np.savez`.
        case stored
        /// Deflated, like `np.savez_compressed`.
        case deflated
    }

    /// Reads every array of the `.npz` file at `url`, in archive order, named after their
    /// members without the `.npy` suffix.
    ///
    /// - Parameter names: if given, only these arrays are decoded (others are skipped unread).
    /// - Throws: ``FormatError``; problems inside a member come as
    ///   ``FormatError/member(file:member:error:)``.
    public static func read(_ url: URL, names: Set<String>? = nil) throws -> [(name: String, array: NumericArray)] {
        // All of them are held at once, so together they must fit before any is inflated; each
        // member's own size is checked first, so that a damaged one is named.
        let fileSize = try sizeOfFile(url)
        let selected = try members(of: openArchive(url), file: url.path).filter { names?.contains(String($0.path.dropLast(4))) ?? true }
        try requireTotal(selected.map { UInt64(try declaredSize(of: $0, file: url.path, fileSize: fileSize)) }, file: url.path)
        var result: [(name: String, array: NumericArray)] = []
        try forEachArray(url, names: names) { result.append(($0, $1)) }
        return result
    }

    /// Refuses members that are to be held at once when their declared sizes add up to
    /// more than `limit`, before any of them is inflated.
    static func requireTotal(_ sizes: [UInt64], file: String, limit: ResourceLimit = .archive) throws {
        var total: UInt64 = 0, overflow = false
        for size in sizes {
            let sum = total.addingReportingOverflow(size)
            total = sum.partialValue
            overflow = overflow || sum.overflow
        }
        guard overflow || total > UInt64(limit.value) else { return }
        throw FormatError.invalidContent(
            file: file, reason: "its \(sizes.count) members inflate to \(overflow ? "more than 2⁶⁴ bytes" : ByteSize.binary(Int(clamping: total))) "
                + "in all, more than \(limit.meaning) may be \(limit.exceeded(needing: overflow ? nil : Int(clamping: total)))")
    }

    /// Hands `body` each array (or those in `names`) in file order, one member extracted
    /// and decoded at a time: what `body` does not keep is freed before the next.
    ///
    /// - Throws: as ``read(_:names:)``, and what `body` throws.
    public static func forEachArray(_ url: URL, names: Set<String>? = nil, _ body: (String, NumericArray) throws -> Void) throws {
        let archive = try openArchive(url)
        let fileSize = try sizeOfFile(url)
        for entry in try members(of: archive, file: url.path) {
            let name = String(entry.path.dropLast(4))
            if let names, !names.contains(name) { continue }
            try body(name, try decodeMember(entry, from: archive, file: url.path, fileSize: fileSize))
        }
    }

    /// The array names in the `.npz` file at `url`, in archive order, without decoding them.
    public static func names(_ url: URL) throws -> [String] {
        try members(of: openArchive(url), file: url.path).map { String($0.path.dropLast(4)) }
    }

    /// Writes `arrays` to `url` atomically as members `NAME.npy`, in the given order.
    ///
    /// Member timestamps are fixed (1980-01-01, the zip epoch) so that the same arrays
    /// always give the same bytes.
    ///
    /// - Throws: ``FormatError``; on failure no file is left behind and an existing file at
    ///   `url` is untouched.
    public static func write(
        _ arrays: [(name: String, array: NumericArray)], to url: URL, compression: Compression = .stored
    ) throws {
        var seen = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw FormatError.invalidName(file: url.path, name: name, reason: "names must not be empty") }
            guard seen.insert(name).inserted else {
                throw FormatError.invalidName(file: url.path, name: name, reason: "the name is used twice")
            }
        }
        try AtomicFile.write(to: url) { temporary in
            let archive: Archive
            do {
                archive = try Archive(url: temporary, accessMode: .create)
            } catch {
                throw FormatError.unwritable(file: url.path, reason: "\(error)")
            }
            for (name, array) in arrays {
                let data = try NPY.encode(array, name: name, file: url.path)
                do {
                    try archive.addEntry(
                        with: name + ".npy", type: .file, uncompressedSize: Int64(data.count),
                        modificationDate: zipEpoch,
                        compressionMethod: compression == .deflated ? .deflate : .none
                    ) { position, size in
                        data.subdata(in: Int(position)..<(Int(position) + size))
                    }
                } catch {
                    throw FormatError.member(
                        file: url.path, member: name + ".npy", error: .archive(file: url.path, reason: "\(error)"))
                }
            }
        }
    }

    // MARK: - Internals

    static let zipEpoch = Date(timeIntervalSince1970: 315_532_800)

    static func openArchive(_ url: URL) throws -> Archive {
        try SmallFile.requireFile(url)
        try ZipDirectoryCheck.validate(url)
        do {
            return try Archive(url: url, accessMode: .read)
        } catch {
            throw FormatError.archive(file: url.path, reason: "\(error)")
        }
    }

    static func sizeOfFile(_ url: URL) throws -> UInt64 {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
    }

    /// The file members, each checked to be a `.npy`; directories are skipped.
    static func members(of archive: Archive, file: String) throws -> [Entry] {
        var entries: [Entry] = []
        for entry in archive where entry.type == .file {
            guard entry.path.hasSuffix(".npy"), entry.path.count > 4 else {
                throw FormatError.notNPZ(file: file, member: entry.path)
            }
            entries.append(entry)
        }
        return entries
    }

    /// Deflate cannot expand data by more than about 1032 : 1, which bounds what a member
    /// can legitimately decompress to.
    static let maximumDeflateRatio: UInt64 = 1032

    /// The size a member declares, refused before anything is inflated when its compressed
    /// bytes do not fit in the file, when deflate could not have produced it from them, or
    /// when it is more than `limit`.
    static func declaredSize(of entry: Entry, file: String, fileSize: UInt64, limit: ResourceLimit = .member) throws -> Int {
        let declared = entry.uncompressedSize
        guard entry.compressedSize <= fileSize else {
            throw FormatError.member(
                file: file, member: entry.path,
                error: .headerSizeMismatch(file: file, declared: Int(clamping: entry.compressedSize), available: Int(fileSize)))
        }
        let ceiling = entry.isCompressed
            ? entry.compressedSize.multipliedReportingOverflow(by: maximumDeflateRatio).partialValue + 1024
            : entry.compressedSize
        guard declared <= ceiling, declared <= UInt64(Int.max) else {
            throw FormatError.member(
                file: file, member: entry.path,
                error: .headerSizeMismatch(file: file, declared: Int(clamping: declared), available: Int(clamping: ceiling)))
        }
        guard declared <= UInt64(limit.value) else {
            throw FormatError.member(file: file, member: entry.path, error: .invalidContent(
                file: entry.path, reason: "it inflates to \(ByteSize.binary(Int(clamping: declared))), more than "
                    + "\(limit.meaning) may be \(limit.exceeded(needing: Int(clamping: declared)))"))
        }
        return Int(declared)
    }

    /// The member's bytes, refusing members that decompress past their declared size or
    /// past `limit`, and members whose CRC-32 differs from the archive's.
    static func extract(_ entry: Entry, from archive: Archive, file: String, fileSize: UInt64,
                        limit: ResourceLimit = .member) throws -> Data {
        let declared = try declaredSize(of: entry, file: file, fileSize: fileSize, limit: limit)
        var data = Data()
        data.reserveCapacity(min(declared, 64 << 20))  // grows past this only as bytes arrive
        let checksum: CRC32
        do {
            // The archive computes the CRC-32 of what it hands over but leaves comparing it to
            // the caller.
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                guard data.count + chunk.count <= declared else {
                    throw FormatError.member(
                        file: file, member: entry.path,
                        error: .trailingData(file: file, expected: declared, actual: data.count + chunk.count))
                }
                data.append(chunk)
            }
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.member(file: file, member: entry.path, error: .archive(file: file, reason: "\(error)"))
        }
        guard data.count == declared else {
            throw FormatError.member(
                file: file, member: entry.path, error: .truncated(file: file, expected: declared, actual: data.count))
        }
        try requireChecksum(checksum, of: entry, file: file)
        return data
    }

    static func requireChecksum(_ checksum: CRC32, of entry: Entry, file: String) throws {
        guard checksum != entry.checksum else { return }
        let hex = { (value: CRC32) in "0x" + String(value, radix: 16, uppercase: true) }
        throw FormatError.member(file: file, member: entry.path, error: .archive(
            file: file, reason: "its bytes have the CRC-32 \(hex(checksum)) where the archive records \(hex(entry.checksum)): the member is damaged"))
    }

    /// Stops an extraction once the bytes it was started for have arrived.
    private struct EnoughBytes: Error {}

    /// A `.npy` member decoded as it is inflated: its header first, from the first bytes
    /// alone; then, once the header's shape and type account for exactly the bytes the
    /// member declares, and they fit in `limit`, the elements straight into the array. A
    /// member whose header and size disagree is refused before its body is inflated, so a
    /// small archive cannot make the reader inflate gigabytes to find out.
    static func decodeMember(_ entry: Entry, from archive: Archive, file: String, fileSize: UInt64,
                             limit: ResourceLimit = .member) throws -> NumericArray {
        let declared = try declaredSize(of: entry, file: file, fileSize: fileSize, limit: limit)
        func inMember(_ error: FormatError) -> FormatError { .member(file: file, member: entry.path, error: error) }
        func extracting(_ consumer: (Data) throws -> Void) throws -> CRC32 {
            do {
                return try archive.extract(entry, skipCRC32: false, consumer: consumer)
            } catch let error as FormatError {
                throw error
            } catch is EnoughBytes {
                return 0
            } catch {
                throw inMember(.archive(file: file, reason: "\(error)"))
            }
        }
        // The header, from as few of the first bytes as hold it.
        var prefix = Data()
        _ = try extracting { chunk in
            prefix.append(chunk)
            do {
                if let (start, length) = try NPY.headerExtent(prefix, file: entry.path, complete: false),
                   prefix.count >= start + length { throw EnoughBytes() }
            } catch let error as FormatError {
                throw inMember(error)
            }
            guard prefix.count <= declared else {
                throw inMember(.trailingData(file: entry.path, expected: declared, actual: prefix.count))
            }
        }
        let header: NPY.Header
        let count: Int
        do {
            header = try NPY.parseHeader(prefix, file: entry.path)
            guard let elements = NumericArray.elementCount(header.shape),
                  let bytes = NumericArray.byteCount(header.shape, header.elementType)
            else {
                throw FormatError.shapeOverflow(file: entry.path, shape: header.shape)
            }
            // In the words of NPY.decode: the data bytes the header needs and those that follow it.
            let present = declared - min(header.dataOffset, declared)
            guard bytes <= present else { throw FormatError.truncated(file: entry.path, expected: bytes, actual: present) }
            guard bytes == present else { throw FormatError.trailingData(file: entry.path, expected: bytes, actual: present) }
            count = elements
        } catch let error as FormatError {
            throw inMember(error)
        }
        // The elements, inflated into the array's own memory.
        var storage = try ElementCoding.reading(header.elementType, count: count, bigEndian: header.bigEndian) { buffer in
            var position = 0  // bytes of the member seen so far
            let checksum = try extracting { chunk in
                guard position + chunk.count <= declared else {
                    throw inMember(.trailingData(file: entry.path, expected: declared, actual: position + chunk.count))
                }
                chunk.withUnsafeBytes { chunk in
                    let skip = max(0, header.dataOffset - position)
                    if skip < chunk.count {
                        let target = position + skip - header.dataOffset
                        UnsafeMutableRawBufferPointer(rebasing: buffer[target..<(target + chunk.count - skip)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk[skip...]))
                    }
                }
                position += chunk.count
            }
            guard position == declared else {
                throw inMember(.truncated(file: entry.path, expected: declared, actual: position))
            }
            try requireChecksum(checksum, of: entry, file: file)
        }
        if header.fortranOrder && header.shape.count > 1 {
            storage = NPY.fortranToC(storage, shape: header.shape)
        }
        return NumericArray(shape: header.shape, elementType: header.elementType, storage: storage)
    }
}

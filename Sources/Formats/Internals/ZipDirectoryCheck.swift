import Foundation

/// A look at a zip archive's directory before ZIPFoundation opens it.
///
/// ZIPFoundation (0.9.20) converts 64-bit offsets from the file to `off_t` and adds sizes
/// to them without checks, so a damaged ZIP64 record — and `torch.save` always writes
/// one — can stop the process instead of raising an error. This finds the records the
/// same way ZIPFoundation does (the last end-of-central-directory signature, the ZIP64
/// locator and record right before it) and walks the central directory, refusing any
/// 64-bit offset or size of 2⁶² or more. No real archive comes near that, and sums of such
/// values with header lengths stay within `off_t`.
enum ZipDirectoryCheck {
    static let limit: UInt64 = 1 << 62
    static let endRecordSize = 22
    static let zip64LocatorSize = 20
    static let zip64RecordSize = 56
    static let directoryEntrySize = 46

    static func validate(_ url: URL) throws {
        let handle = try openForReading(url)
        defer { try? handle.close() }
        func read(_ count: Int, at offset: UInt64) throws -> [UInt8] {
            do {
                try handle.seek(toOffset: offset)
                return [UInt8](try handle.read(upToCount: count) ?? Data())
            } catch {
                throw FormatError.unreadable(url, after: error)
            }
        }
        func refuse(_ reason: String) -> FormatError {
            .archive(file: url.path, reason: reason)
        }

        let size: UInt64
        do {
            size = try handle.seekToEnd()
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
        // The end record sits within the last 22 + 65535 (the longest comment) bytes.
        let tailLength = min(size, UInt64(endRecordSize + 0xFFFF))
        let tail = try read(Int(tailLength), at: size - tailLength)
        guard tail.count >= endRecordSize,
            let end = stride(from: tail.count - endRecordSize, through: 0, by: -1).first(where: {
                Array(tail[$0..<($0 + 4)]) == [0x50, 0x4B, 0x05, 0x06]
            })
        else {
            throw refuse("no end of central directory record")
        }
        let endOffset = size - tailLength + UInt64(end)

        var entryCount = UInt64(integer(tail, at: end + 10, width: 2))
        var directoryOffset = UInt64(integer(tail, at: end + 16, width: 4))
        if endOffset > UInt64(zip64LocatorSize + zip64RecordSize) {
            let locator = try read(zip64LocatorSize, at: endOffset - UInt64(zip64LocatorSize))
            let record = try read(zip64RecordSize, at: endOffset - UInt64(zip64LocatorSize + zip64RecordSize))
            if locator.starts(with: [0x50, 0x4B, 0x06, 0x07]), record.count == zip64RecordSize,
                record.starts(with: [0x50, 0x4B, 0x06, 0x06])
            {
                entryCount = integer(record, at: 32, width: 8)
                directoryOffset = integer(record, at: 48, width: 8)
                guard directoryOffset < limit, integer(record, at: 40, width: 8) < limit else {
                    throw refuse("the ZIP64 end record gives an impossible central directory offset or size")
                }
            }
        }

        var position = directoryOffset
        var index: UInt64 = 0
        while index < entryCount, position < size {
            let header = try read(directoryEntrySize, at: position)
            guard header.count == directoryEntrySize, header.starts(with: [0x50, 0x4B, 0x01, 0x02]) else { break }
            let nameLength = Int(integer(header, at: 28, width: 2))
            let extraLength = Int(integer(header, at: 30, width: 2))
            let commentLength = Int(integer(header, at: 32, width: 2))
            let extra = try read(extraLength, at: position + UInt64(directoryEntrySize + nameLength))
            var field = 0
            while field + 4 <= extra.count {
                let id = integer(extra, at: field, width: 2)
                let length = Int(integer(extra, at: field + 2, width: 2))
                let body = min(field + 4 + length, extra.count)
                if id == 0x0001 {
                    for value in stride(from: field + 4, to: body - 7, by: 8) where integer(extra, at: value, width: 8) >= limit {
                        throw refuse("a ZIP64 entry gives an impossible size or offset")
                    }
                }
                field = body
            }
            position += UInt64(directoryEntrySize + nameLength + extraLength + commentLength)
            index += 1
        }
    }

    /// The little-endian unsigned integer of `width` bytes at `offset`.
    static func integer(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
        bytes[offset..<(offset + width)].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

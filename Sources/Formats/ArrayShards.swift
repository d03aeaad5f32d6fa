import Foundation

/// Named arrays split by rows over several safetensors files, read as one: what `capture`
/// writes when its activations would make one file larger than a shard.
///
/// Hugging Face shards a checkpoint's weights by tensor (`model-00001-of-00004.safetensors`
/// with `model.safetensors.index.json`); activations are split by *rows* instead, so that an
/// analysis can stream samples a shard at a time, and every shard holds every array.
///
/// ## Index (version 1)
///
/// `NAME.safetensors.index.json`, beside its shards `NAME-00001-of-0000N.safetensors` …:
///
///     {"format": "repprobe-array-shards", "version": 1, "rows": 100000,
///      "arrays": [{"name": "sample_ids", "dtype": "I64", "row_shape": []},
///                 {"name": "layer1", "dtype": "F32", "row_shape": [512]}],
///      "shards": [{"file": "NAME-00001-of-00008.safetensors", "rows": 12500}, …]}
///
/// Shard `k` holds rows `r_k ..< r_k + rows_k` of every array (`r_k` the rows of the shards
/// before it), each a tensor of its name with shape `[rows_k] + row_shape`. A single
/// safetensors file reads as a set of one shard.
public struct ArrayShards: Sendable {
    public static let format = "repprobe-array-shards"
    public static let version = 1

    /// One array: its name, element type and the shape of each row.
    public struct Entry: Sendable, Codable, Equatable {
        public var name: String
        public var elementType: ElementType
        public var rowShape: [Int]

        public init(name: String, elementType: ElementType, rowShape: [Int]) {
            self.name = name
            self.elementType = elementType
            self.rowShape = rowShape
        }

        enum CodingKeys: String, CodingKey { case name, dtype, rowShape = "row_shape" }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            let dtype = try container.decode(String.self, forKey: .dtype)
            guard let type = ElementType(safetensorsName: dtype) else {
                throw DecodingError.dataCorruptedError(forKey: .dtype, in: container, debugDescription: "unknown dtype '\(dtype)'")
            }
            elementType = type
            rowShape = try container.decode([Int].self, forKey: .rowShape)
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(elementType.safetensorsName, forKey: .dtype)
            try container.encode(rowShape, forKey: .rowShape)
        }

        /// Elements in one row.
        var rowCount: Int { rowShape.reduce(1, *) }
        /// Bytes of one row.
        var rowBytes: Int { rowCount * elementType.byteCount }
    }

    fileprivate struct Index: Codable {
        struct File: Codable { var file: String; var rows: Int }
        var format: String
        var version: Int
        var rows: Int
        var arrays: [Entry]
        var shards: [File]
    }

    /// One file of the set: where it lies, which rows it holds and where each array's data
    /// starts in it. Rows are read from the file when asked for (not mapped, so that what
    /// was read does not stay in the process's memory).
    private struct Part: Sendable {
        var url: URL
        var rows: Range<Int>
        var starts: [Int]
        /// Only a `.npy` file may store big-endian values.
        var bigEndian = false
    }

    /// Where the set was read from: the index, or the single file.
    public let url: URL
    /// The arrays, in the index's order.
    public let entries: [Entry]
    private let parts: [Part]

    /// Rows of every array.
    public var rowCount: Int { parts.last?.rows.upperBound ?? 0 }
    /// The files that hold the rows, in order.
    public var files: [URL] { parts.map(\.url) }
    public var names: [String] { entries.map(\.name) }

    /// The index of the shard set that `url` names: `url` itself when it is one (by
    /// content), or `url` + `.index.json` when `url` does not exist and that file does.
    public static func index(for url: URL) -> URL? {
        let manager = FileManager.default
        if !manager.fileExists(atPath: url.path) {
            let index = URL(fileURLWithPath: url.path + ".index.json")
            return manager.fileExists(atPath: index.path) ? index : nil
        }
        // An index is a small JSON object naming the format.
        guard let size = (try? manager.attributesOfItem(atPath: url.path))?[.size] as? Int, size < 1 << 26,
              let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        guard let first = try? handle.read(upToCount: 1), first == Data("{".utf8),
              let rest = try? handle.readToEnd(),
              let object = try? JSONSerialization.jsonObject(with: first + rest) as? [String: Any] else { return nil }
        return object["format"] as? String == format ? url : nil
    }

    /// Reads the index at `url` and the headers of its shards (not their data).
    ///
    /// - Throws: ``FormatError`` naming the index or the shard: an index that is not one, a
    ///   missing or unreadable shard, or a shard whose tensors do not hold its rows of every
    ///   array.
    public init(index url: URL) throws {
        let file = url.path
        let index: Index
        do {
            index = try JSONDecoder().decode(Index.self, from: try readFile(url))
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.invalidContent(file: file, reason: "not an index of array shards (\((error as? DecodingError)?.summary ?? "\(error)"))")
        }
        guard index.format == Self.format else { throw FormatError.invalidContent(file: file, reason: "format '\(index.format)', not '\(Self.format)'") }
        guard index.version == Self.version else { throw FormatError.unsupportedVersion(file: file, version: String(index.version)) }
        var sum: Int? = 0
        for shard in index.shards {
            guard let total = sum, shard.rows >= 0 else { sum = nil; break }
            let (next, overflow) = total.addingReportingOverflow(shard.rows)
            sum = overflow ? nil : next
        }
        guard !index.shards.isEmpty, sum == index.rows else {
            throw FormatError.invalidContent(file: file, reason: "its shards' rows (\(index.shards.map(\.rows))) do not add up to its \(index.rows) rows")
        }
        var parts: [Part] = []
        var start = 0
        let folder = url.deletingLastPathComponent()
        for shard in index.shards {
            guard !shard.file.contains("/"), !shard.file.hasPrefix(".") else {
                throw FormatError.invalidContent(file: file, reason: "shard '\(shard.file)' is not a file beside the index")
            }
            let shardURL = folder.appendingPathComponent(shard.file)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw FormatError.unreadable(file: shardURL.path, reason: "shard \(parts.count + 1) of \(index.shards.count) named by \(url.lastPathComponent) is missing")
            }
            parts.append(try Self.part(shardURL, rows: start..<(start + shard.rows), entries: index.arrays))
            start += shard.rows
        }
        self.url = url
        entries = index.arrays
        self.parts = parts
    }

    /// A single safetensors file as a set of one shard: every tensor an array whose rows
    /// are its first axis.
    ///
    /// - Throws: ``FormatError`` for a file that is not safetensors, or tensors with other
    ///   first dimensions.
    public init(file url: URL) throws {
        let header = try Safetensors.readHeader(url)
        let entries = try header.tensors.map { tensor -> Entry in
            guard let rows = tensor.shape.first else {
                throw FormatError.malformedTensor(file: url.path, tensor: tensor.name, reason: "a scalar has no rows")
            }
            guard rows == header.tensors.first?.shape.first else {
                throw FormatError.malformedTensor(file: url.path, tensor: tensor.name,
                                                  reason: "has \(rows) rows where '\(header.tensors[0].name)' has \(header.tensors[0].shape.first ?? 0)")
            }
            return Entry(name: tensor.name, elementType: tensor.elementType, rowShape: Array(tensor.shape.dropFirst()))
        }
        self.url = url
        self.entries = entries
        parts = [try Self.part(url, rows: 0..<(header.tensors.first?.shape.first ?? 0), entries: entries, header: header)]
    }

    /// A `.npy` file in C order as a set of one shard holding one array, named after the
    /// file as ``ArrayFile`` names it, whose rows are its first axis.
    ///
    /// - Throws: ``FormatError`` for a file that is not a readable `.npy`, is shorter or
    ///   longer than its shape, holds a scalar, or is in Fortran order.
    public init(npy url: URL) throws {
        let reader = try NPYRowReader(url)
        self.url = url
        entries = [Entry(name: ArrayFile.baseName(url), elementType: reader.elementType, rowShape: Array(reader.shape.dropFirst()))]
        parts = [Part(url: url, rows: 0..<reader.rowCount, starts: [reader.dataOffset], bigEndian: reader.bigEndian)]
    }

    /// A shard checked against the arrays it must hold.
    private static func part(_ url: URL, rows: Range<Int>, entries: [Entry], header: Safetensors.Header? = nil) throws -> Part {
        let header = try header ?? Safetensors.readHeader(url)
        let tensors = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let starts = try entries.map { entry -> Int in
            let shape = [rows.count] + entry.rowShape
            guard let tensor = tensors[entry.name] else {
                throw FormatError.malformedTensor(file: url.path, tensor: entry.name, reason: "is missing from this shard")
            }
            guard tensor.elementType == entry.elementType, tensor.shape == shape else {
                throw FormatError.malformedTensor(file: url.path, tensor: entry.name,
                                                  reason: "is \(tensor.elementType.safetensorsName) \(tensor.shape), where the index has \(entry.elementType.safetensorsName) \(shape)")
            }
            return header.bufferStart + tensor.begin
        }
        return Part(url: url, rows: rows, starts: starts)
    }

    /// Rows `range` of the array called `name`, across shards.
    ///
    /// - Throws: ``FormatError/invalidName(file:name:reason:)`` for an array the set does
    ///   not hold.
    public func rows(_ range: Range<Int>, of name: String) throws -> NumericArray {
        guard let k = entries.firstIndex(where: { $0.name == name }) else {
            throw FormatError.invalidName(file: url.path, name: name, reason: "no such array (there are \(names.joined(separator: ", ")))")
        }
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "rows \(range) of \(rowCount)")
        let entry = entries[k]
        let storage = try ElementCoding.reading(entry.elementType, count: range.count * entry.rowCount,
                                                bigEndian: parts.first?.bigEndian ?? false) { out in
            var filled = 0
            for part in parts {
                let overlap = part.rows.clamped(to: range)
                guard !overlap.isEmpty else { continue }
                let begin = part.starts[k] + (overlap.lowerBound - part.rows.lowerBound) * entry.rowBytes
                let count = overlap.count * entry.rowBytes
                try readBytes(part.url, offset: begin, into: UnsafeMutableRawBufferPointer(rebasing: out[filled..<(filled + count)]))
                filled += count
            }
        }
        return NumericArray(shape: [range.count] + entry.rowShape, elementType: entry.elementType, storage: storage)
    }

    /// Every array (or those in `names`), all rows, in the index's order.
    public func read(names: Set<String>? = nil) throws -> [(name: String, array: NumericArray)] {
        try entries.filter { names?.contains($0.name) ?? true }.map { ($0.name, try rows(0..<rowCount, of: $0.name)) }
    }
}

/// Writes named arrays row block by row block into one safetensors file, or into shards of
/// at most a given size with an index (``ArrayShards``), in place: memory holds no more
/// than the block being written. Nothing appears at the destination until ``finish()``,
/// and a writer that is not finished leaves nothing behind.
public final class ArrayShardWriter {
    public let url: URL
    public let entries: [ArrayShards.Entry]
    public let rowCount: Int
    /// The files being written: the destination, its temporary file (opened for each write,
    /// so that any number of shards is open at most once at a time), its rows and where each
    /// array starts in it.
    private var shards: [(url: URL, temporary: URL, rows: Range<Int>, starts: [Int])] = []
    /// Rows of each array written so far, to check that all were.
    private var written: [Int]
    private var finished = false
    /// Every shard of the set, for its index (`nil`: one file, no index).
    private let index: [(file: String, rows: Int)]?
    /// Whether this writer makes one shard of a set that others write too.
    private let alone: Bool

    /// Opens the files for `rowCount` rows of `entries`: one file at `url` when they take
    /// at most `maxShardBytes`, else the fewest shards of about equal rows that keep each
    /// within it, `NAME-0000K-of-0000N.safetensors` beside `url`, and `NAME.safetensors.index.json`.
    ///
    /// - Throws: ``FormatError/unwritable(file:reason:)`` when a file cannot be made.
    public convenience init(_ url: URL, entries: [ArrayShards.Entry], rows rowCount: Int, maxShardBytes: Int) throws {
        let rowBytes = max(1, entries.map(\.rowBytes).reduce(0, +))
        let rowsPerShard = max(1, maxShardBytes / rowBytes)
        let count = max(1, (rowCount + rowsPerShard - 1) / rowsPerShard)
        let rows = (0..<count).map { k in (k + 1) * rowCount / count - k * rowCount / count }
        try self.init(url, entries: entries, shardRows: rows, writing: 0..<count)
    }

    /// Opens shard `index` (1 … `shardRows.count`) of a set whose shards hold `shardRows`
    /// rows: the file `NAME-0000K-of-0000N.safetensors` beside `url`. ``finish()`` writes it
    /// and the set's index, the same bytes from every shard, so that shards written by
    /// separate processes (a job array) make up the set. Other shards' files are left alone.
    public convenience init(_ url: URL, entries: [ArrayShards.Entry], shard index: Int, of shardRows: [Int]) throws {
        precondition((1...shardRows.count).contains(index), "shard \(index) of \(shardRows.count)")
        try self.init(url, entries: entries, shardRows: shardRows, writing: (index - 1)..<index, alone: true)
    }

    private init(_ url: URL, entries: [ArrayShards.Entry], shardRows: [Int], writing: Range<Int>, alone: Bool = false) throws {
        self.url = url
        self.entries = entries
        rowCount = writing.map { shardRows[$0] }.reduce(0, +)
        written = Array(repeating: 0, count: entries.count)
        let count = shardRows.count
        let stem = url.deletingPathExtension().lastPathComponent, folder = url.deletingLastPathComponent()
        let digits = max(5, String(count).count)
        func padded(_ k: Int) -> String { String(repeating: "0", count: max(0, digits - String(k).count)) + String(k) }
        let names = (0..<count).map { count == 1 && !alone ? url.lastPathComponent : "\(stem)-\(padded($0 + 1))-of-\(padded(count)).safetensors" }
        index = count > 1 || alone ? zip(names, shardRows).map { ($0, $1) } : nil
        self.alone = alone
        do {
            var start = 0
            for k in writing {
                let rows = start..<(start + shardRows[k])
                start = rows.upperBound
                let destination = folder.appendingPathComponent(names[k])
                let temporary = folder.appendingPathComponent(".\(names[k]).\(UUID().uuidString).partial")
                let (header, ranges) = try Safetensors.layout(entries.map { ($0.name, $0.elementType, [rows.count] + $0.rowShape) }, file: destination.path)
                shards.append((destination, temporary, rows, ranges.map { header.count + $0.lowerBound }))
                let size = header.count + (ranges.map(\.upperBound).max() ?? 0)
                try withDescriptor(shards.count - 1, creating: true) { descriptor in
                    guard ftruncate(descriptor, off_t(size)) == 0 else { throw FormatError.unwritable(file: destination.path, reason: String(cString: strerror(errno))) }
                }
                try header.withUnsafeBytes { try put($0, at: 0, shard: shards.count - 1) }
            }
        } catch {
            cancel()
            throw error
        }
    }

    deinit { if !finished { cancel() } }

    /// The files the set will have once finished: the shards, and the index if there are
    /// several.
    public var destinations: [URL] { shards.map(\.url) + (index == nil ? [] : [indexURL]) }

    private var indexURL: URL { URL(fileURLWithPath: url.path + ".index.json") }

    /// Runs `body` with shard `k`'s temporary file open for writing.
    private func withDescriptor(_ k: Int, creating: Bool = false, _ body: (Int32) throws -> Void) throws {
        let descriptor = open(shards[k].temporary.path, creating ? O_WRONLY | O_CREAT | O_TRUNC : O_WRONLY, 0o644)
        guard descriptor >= 0 else { throw FormatError.unwritable(file: shards[k].url.path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        try body(descriptor)
    }

    private func put(_ bytes: UnsafeRawBufferPointer, at offset: Int, shard k: Int) throws {
        try withDescriptor(k) { descriptor in
            var done = 0
            while done < bytes.count {
                let n = pwrite(descriptor, bytes.baseAddress!.advanced(by: done), bytes.count - done, off_t(offset + done))
                guard n > 0 else { throw FormatError.unwritable(file: shards[k].url.path, reason: n < 0 ? String(cString: strerror(errno)) : "nothing written") }
                done += n
            }
        }
    }

    /// Writes rows `rows` of array `k` from `bytes` (little-endian, row-major), which may
    /// span shards.
    ///
    /// - Throws: ``FormatError/unwritable(file:reason:)`` for rows outside the arrays or
    ///   bytes of another row size (a layer whose width changed between batches).
    public func write(array k: Int, rows: Range<Int>, bytes: UnsafeRawBufferPointer) throws {
        let rowBytes = entries[k].rowBytes
        guard !finished, rows.lowerBound >= 0, rows.upperBound <= rowCount, bytes.count == rows.count * rowBytes else {
            throw FormatError.unwritable(file: url.path, reason: "array '\(entries[k].name)' of rows of \(entries[k].rowShape) got \(bytes.count) bytes "
                                         + "for rows \(rows.lowerBound)..<\(rows.upperBound) of \(rowCount)")
        }
        for (s, shard) in shards.enumerated() {
            let overlap = shard.rows.clamped(to: rows)
            guard !overlap.isEmpty else { continue }
            let source = UnsafeRawBufferPointer(rebasing: bytes[((overlap.lowerBound - rows.lowerBound) * rowBytes)..<((overlap.upperBound - rows.lowerBound) * rowBytes)])
            try put(source, at: shard.starts[k] + (overlap.lowerBound - shard.rows.lowerBound) * rowBytes, shard: s)
        }
        written[k] += rows.count
    }

    /// Moves the shards into place, then writes the index, then removes what an earlier set
    /// of the same name left and this one does not name (a single file, or shards and an
    /// index). Readers go by the index, so until it is written they see the earlier set (or
    /// refuse a shard that no longer matches it, naming the file).
    ///
    /// - Throws: ``FormatError/unwritable(file:reason:)`` when some rows were not written
    ///   (nothing is moved then) or a file cannot be moved.
    public func finish() throws {
        if let k = written.indices.first(where: { written[$0] != rowCount }) {
            cancel()
            throw FormatError.unwritable(file: url.path, reason: "array '\(entries[k].name)' got \(written[k]) of \(rowCount) rows")
        }
        let manager = FileManager.default
        // What an earlier set of this name holds, from its index alone.
        let folder = url.deletingLastPathComponent()
        let earlier = (try? JSONDecoder().decode(ArrayShards.Index.self, from: Data(contentsOf: indexURL)))?.shards
            .map { folder.appendingPathComponent($0.file) } ?? []
        defer { finished = true }
        do {
            for shard in shards where rename(shard.temporary.path, shard.url.path) != 0 {
                throw FormatError.unwritable(file: shard.url.path, reason: String(cString: strerror(errno)))
            }
            if let index {
                let contents = ArrayShards.Index(format: ArrayShards.format, version: ArrayShards.version, rows: index.map(\.rows).reduce(0, +),
                                                 arrays: entries, shards: index.map { .init(file: $0.file, rows: $0.rows) })
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try AtomicFile.write(try encoder.encode(contents), to: indexURL)
            }
        } catch {
            for shard in shards { unlink(shard.temporary.path) }
            throw error as? FormatError ?? FormatError.unwritable(file: url.path, reason: "\(error)")
        }
        // Shards written by other processes of the same set stay.
        guard !alone else {
            try? manager.removeItem(at: url)
            return
        }
        let kept = Set(destinations.map(\.standardizedFileURL.path))
        for file in earlier + [url, indexURL] where !kept.contains(file.standardizedFileURL.path) { try? manager.removeItem(at: file) }
    }

    /// Removes the temporary files; nothing is written.
    public func cancel() {
        guard !finished else { return }
        for shard in shards { unlink(shard.temporary.path) }
        finished = true
    }

}

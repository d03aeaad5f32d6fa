import Foundation

/// Hugging Face's safetensors format: a JSON header, then one contiguous byte buffer.
///
/// Layout: an 8-byte little-endian header length `N`; `N` bytes of JSON mapping each tensor
/// name to `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` (offsets into the
/// buffer) plus an optional `"__metadata__"` object of string values; then the buffer.
///
/// Reading is as strict as the reference implementation: the header length is at most
/// 100 MB and fits the file, every tensor's byte range lies in the buffer and matches its
/// shape and dtype, and the ranges tile the buffer with no overlap or hole. Tensors are
/// returned in header order.
///
/// Writing lays the data out as the reference implementation does — wider element types
/// first, then by name, so every tensor is aligned to its element size — and pads the
/// header with spaces to a multiple of 8 bytes. The header lists the tensors in the order
/// given, so reading the file back returns them in that order.
public enum Safetensors {
    /// The tensors and metadata of one file.
    public struct Contents: Sendable {
        /// The tensors, in header order.
        public var tensors: [(name: String, array: NumericArray)]
        /// The `__metadata__` entries (empty when the header has none).
        public var metadata: [String: String]

        public init(tensors: [(name: String, array: NumericArray)], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    static let metadataKey = "__metadata__"

    /// Reads the `.safetensors` file at `url`: its header, then each tensor's bytes straight
    /// into the tensor's elements, so that the file is never held in memory beside them.
    ///
    /// - Parameter names: if given, only these tensors are read; the whole header is still validated.
    /// - Throws: ``FormatError``.
    public static func read(_ url: URL, names: Set<String>? = nil) throws -> Contents {
        let header = try readHeader(url)
        var tensors: [(name: String, array: NumericArray)] = []
        for tensor in header.tensors {
            if let names, !names.contains(tensor.name) { continue }
            let storage = try ElementCoding.reading(tensor.elementType, count: tensor.count) {
                try Formats.readBytes(url, offset: header.bufferStart + tensor.begin, into: $0)
            }
            tensors.append((tensor.name, NumericArray(shape: tensor.shape, elementType: tensor.elementType, storage: storage)))
        }
        return Contents(tensors: tensors, metadata: header.metadata)
    }

    /// A file's header: its metadata and where each tensor's bytes lie, read without the
    /// tensors' data (which ``readBytes(of:in:into:)`` reads into place).
    public struct Directory: Sendable {
        public struct Entry: Sendable, Equatable {
            public var elementType: ElementType
            public var shape: [Int]
            /// Where the tensor's bytes start in the file, and how many there are.
            public var offset: Int
            public var byteCount: Int
        }

        public var metadata: [String: String]
        public var tensors: [String: Entry]
    }

    /// The header of the file at `url`, checked as ``read(_:names:)`` checks it.
    public static func directory(_ url: URL) throws -> Directory {
        let header = try readHeader(url)
        return Directory(metadata: header.metadata, tensors: Dictionary(header.tensors.map {
            ($0.name, Directory.Entry(elementType: $0.elementType, shape: $0.shape, offset: header.bufferStart + $0.begin, byteCount: $0.end - $0.begin))
        }, uniquingKeysWith: { first, _ in first }))
    }

    /// Reads the bytes of `entry` (little-endian, as stored) from the file at `url` into
    /// `buffer`, which holds exactly that many.
    public static func readBytes(of entry: Directory.Entry, in url: URL, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count == entry.byteCount, "a buffer of \(buffer.count) bytes for a tensor of \(entry.byteCount)")
        try Formats.readBytes(url, offset: entry.offset, into: buffer)
    }

    /// The tensor names in the file at `url`, in header order.
    public static func names(_ url: URL) throws -> [String] {
        try readHeader(url).tensors.map(\.name)
    }

    /// Writes `tensors` and `metadata` to `url` atomically.
    ///
    /// - Throws: ``FormatError``; on failure no file is left behind and an existing file at
    ///   `url` is untouched.
    public static func write(
        _ tensors: [(name: String, array: NumericArray)], metadata: [String: String] = [:], to url: URL
    ) throws {
        let data = try encode(tensors, metadata: metadata, file: url.path)
        try AtomicFile.write(data, to: url)
    }

    /// Decodes safetensors bytes; `file` names the source in errors.
    public static func decode(_ data: Data, file: String, names: Set<String>? = nil) throws -> Contents {
        let header = try parseHeader(data, file: file)
        var tensors: [(name: String, array: NumericArray)] = []
        for tensor in header.tensors {
            if let names, !names.contains(tensor.name) { continue }
            let storage = data.withUnsafeBytes { raw in
                ElementCoding.decode(
                    UnsafeRawBufferPointer(rebasing: raw[(header.bufferStart + tensor.begin)...]),
                    type: tensor.elementType, count: tensor.count)
            }
            tensors.append((tensor.name, NumericArray(shape: tensor.shape, elementType: tensor.elementType, storage: storage)))
        }
        return Contents(tensors: tensors, metadata: header.metadata)
    }

    /// The safetensors bytes of `tensors` and `metadata`; `file` names the destination in errors.
    public static func encode(
        _ tensors: [(name: String, array: NumericArray)], metadata: [String: String] = [:], file: String = "<memory>"
    ) throws -> Data {
        let streamed = tensors.map { tensor in
            StreamedTensor(name: tensor.name, elementType: tensor.array.elementType, shape: tensor.array.shape) { emit in
                try ElementCoding.encode(tensor.array, name: tensor.name, file: file).withUnsafeBytes { try emit($0) }
            }
        }
        var data = Data()
        try write(streamed, metadata: metadata, file: file) { data.append(contentsOf: $0) }
        return data
    }

    /// A tensor whose bytes are produced as the file is written: files of statistics too
    /// large to hold twice in memory.
    public struct StreamedTensor {
        public var name: String
        public var elementType: ElementType
        public var shape: [Int]
        /// Hands the tensor's bytes (little-endian, row-major, `count × elementType.byteCount`
        /// in all) to `emit`, in consecutive pieces of any size.
        public var produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

        public init(name: String, elementType: ElementType, shape: [Int],
                    produce: @escaping (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            self.name = name
            self.elementType = elementType
            self.shape = shape
            self.produce = produce
        }
    }

    /// The safetensors bytes of streamed tensors and `metadata`.
    public static func encode(streaming tensors: [StreamedTensor], metadata: [String: String] = [:]) throws -> Data {
        var data = Data()
        try write(tensors, metadata: metadata, file: "<memory>") { data.append(contentsOf: $0) }
        return data
    }

    /// Writes streamed tensors to `url` at once (a failure leaves no file, and an existing
    /// one untouched), a piece at a time.
    ///
    /// - Throws: ``FormatError``, also when a tensor produces another number of bytes than
    ///   its shape needs.
    public static func write(_ tensors: [StreamedTensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(to: url) { temporary in
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil), let handle = FileHandle(forWritingAtPath: temporary.path) else {
                throw FormatError.unwritable(file: url.path, reason: "cannot create the file")
            }
            defer { try? handle.close() }
            // Small pieces are gathered into blocks of 8 MB so that they do not cost a call
            // each; large ones go straight from where they lie.
            let block = 1 << 23
            var pending = Data()
            func put(_ bytes: Data) throws {
                do { try handle.write(contentsOf: bytes) } catch {
                    throw FormatError.unwritable(file: url.path, reason: FormatError.reason(writing: url, after: error))
                }
            }
            try write(tensors, metadata: metadata, file: url.path) { piece in
                guard piece.count >= block, let base = piece.baseAddress else {
                    pending.append(contentsOf: piece)
                    if pending.count >= block { try put(pending); pending.removeAll(keepingCapacity: true) }
                    return
                }
                try put(pending)
                pending.removeAll(keepingCapacity: true)
                for start in stride(from: 0, to: piece.count, by: block) {
                    let count = min(block, piece.count - start)
                    try put(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base + start), count: count, deallocator: .none))
                }
            }
            try put(pending)
        }
    }

    /// Where each tensor of a file lies: the header's bytes (its length first, padded to 8
    /// bytes) and each tensor's byte range in the data that follows, in the order given.
    /// Wider elements come first, then names in order, so that every tensor is aligned to
    /// its element.
    ///
    /// - Throws: ``FormatError`` for a reserved or repeated name, or a shape whose size
    ///   overflows.
    public static func layout(_ tensors: [(name: String, elementType: ElementType, shape: [Int])], metadata: [String: String] = [:],
                              file: String) throws -> (header: [UInt8], ranges: [Range<Int>]) {
        var seen = Set<String>()
        var sizes: [Int] = []
        for tensor in tensors {
            guard tensor.name != metadataKey else {
                throw FormatError.invalidName(file: file, name: tensor.name, reason: "the name is reserved for metadata")
            }
            guard seen.insert(tensor.name).inserted else {
                throw FormatError.invalidName(file: file, name: tensor.name, reason: "the name is used twice")
            }
            var (size, overflow) = (tensor.elementType.byteCount, false)
            for dimension in tensor.shape {
                guard dimension >= 0, !overflow else { break }
                (size, overflow) = size.multipliedReportingOverflow(by: dimension)
            }
            guard !overflow, tensor.shape.allSatisfy({ $0 >= 0 }) else { throw FormatError.shapeOverflow(file: file, shape: tensor.shape) }
            sizes.append(size)
        }
        let order = tensors.indices.sorted { a, b in
            let (left, right) = (tensors[a], tensors[b])
            if left.elementType.byteCount != right.elementType.byteCount {
                return left.elementType.byteCount > right.elementType.byteCount
            }
            return left.name < right.name
        }
        var ranges = [Range<Int>](repeating: 0..<0, count: tensors.count)
        var position = 0
        for index in order {
            let (end, overflow) = position.addingReportingOverflow(sizes[index])
            guard !overflow else { throw FormatError.shapeOverflow(file: file, shape: tensors[index].shape) }
            ranges[index] = position..<end
            position = end
        }
        var entries: [(key: String, value: JSONValue)] = []
        if !metadata.isEmpty {
            entries.append((metadataKey, .object(metadata.keys.sorted().map { ($0, .string(metadata[$0] ?? "")) })))
        }
        for (index, tensor) in tensors.enumerated() {
            entries.append((tensor.name, .object([
                ("dtype", .string(tensor.elementType.safetensorsName)),
                ("shape", .array(tensor.shape.map { .integer($0) })),
                ("data_offsets", .array([.integer(ranges[index].lowerBound), .integer(ranges[index].upperBound)])),
            ])))
        }
        var json = Array(JSONValue.object(entries).serialized.utf8)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var header: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        return (header + json, ranges)
    }

    /// The file's bytes handed to `output` in order: the header, then each tensor's data.
    static func write(_ tensors: [StreamedTensor], metadata: [String: String], file: String,
                      into output: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (header, ranges) = try layout(tensors.map { ($0.name, $0.elementType, $0.shape) }, metadata: metadata, file: file)
        try header.withUnsafeBytes { try output($0) }
        for index in tensors.indices.sorted(by: { ranges[$0].lowerBound < ranges[$1].lowerBound || (ranges[$0].lowerBound == ranges[$1].lowerBound && $0 < $1) }) {
            let size = ranges[index].count
            var produced = 0
            try tensors[index].produce { piece in
                produced += piece.count
                guard produced <= size else { return }
                try output(piece)
            }
            guard produced == size else {
                throw FormatError.tensorSizeMismatch(file: file, tensor: tensors[index].name, expected: size, actual: produced)
            }
        }
    }

    // MARK: - Header

    struct TensorEntry {
        var name: String
        var elementType: ElementType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    struct Header {
        var tensors: [TensorEntry]
        var metadata: [String: String]
        /// Where the data buffer starts, from the beginning of the file.
        var bufferStart: Int
    }

    /// The header of the file at `url`, reading its bytes alone (not the tensors').
    static func readHeader(_ url: URL) throws -> Header {
        let size: Int
        do {
            size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
        guard size >= 8 else { throw FormatError.truncated(file: url.path, expected: 8, actual: size) }
        var length = Data(count: 8)
        try length.withUnsafeMutableBytes { try Formats.readBytes(url, offset: 0, into: $0) }
        let declared = try checkHeaderLength(length.littleEndianInteger(at: 0, as: UInt64.self), available: size - 8, file: url.path)
        var prefix = Data(count: 8 + Int(declared))
        try prefix.withUnsafeMutableBytes { try Formats.readBytes(url, offset: 0, into: $0) }
        return try parseHeader(prefix, file: url.path, fileSize: size)
    }

    /// The header length a file declares, if the `available` bytes after the length hold it
    /// and it is within ``ResourceLimit/safetensorsHeader``.
    static func checkHeaderLength(_ declared: UInt64, available: Int, file: String) throws -> Int {
        guard declared <= UInt64(available) else {
            throw FormatError.headerSizeMismatch(file: file, declared: Int(clamping: declared), available: available)
        }
        let limit = ResourceLimit.safetensorsHeader
        guard declared <= UInt64(limit.value) else {
            throw FormatError.malformedHeader(file: file, reason: "it declares \(declared) bytes, more than a safetensors header may be \(limit.exceeded(needing: Int(declared)))")
        }
        return Int(declared)
    }

    /// The header of safetensors bytes `data`: the whole file, or its beginning up to the
    /// end of the header when `fileSize` gives the whole file's size.
    static func parseHeader(_ data: Data, file: String, fileSize: Int? = nil) throws -> Header {
        let size = fileSize ?? data.count
        guard data.count >= 8 else { throw FormatError.truncated(file: file, expected: 8, actual: data.count) }
        let headerLength = try checkHeaderLength(data.littleEndianInteger(at: 0, as: UInt64.self), available: size - 8, file: file)
        let headerBytes = data.withUnsafeBytes { raw in Array(raw[8..<(8 + headerLength)]) }
        let json: JSONValue
        do {
            json = try JSONValue.parse(headerBytes)
        } catch {
            throw FormatError.malformedHeader(file: file, reason: error.reason)
        }
        guard case let .object(entries) = json else {
            throw FormatError.malformedHeader(file: file, reason: "the header is not a JSON object")
        }
        let bufferStart = 8 + headerLength
        let bufferSize = size - bufferStart
        var metadata: [String: String] = [:]
        var tensors: [TensorEntry] = []
        for (name, value) in entries {
            if name == metadataKey {
                metadata = try parseMetadata(value, file: file)
            } else {
                tensors.append(try parseTensor(name, value, bufferSize: bufferSize, file: file))
            }
        }
        try checkTiling(tensors, bufferSize: bufferSize, file: file)
        return Header(tensors: tensors, metadata: metadata, bufferStart: bufferStart)
    }

    static func parseMetadata(_ value: JSONValue, file: String) throws -> [String: String] {
        guard case let .object(entries) = value else {
            throw FormatError.malformedHeader(file: file, reason: "\"\(metadataKey)\" is not an object")
        }
        var metadata: [String: String] = [:]
        for (key, value) in entries {
            guard case let .string(text) = value else {
                throw FormatError.malformedHeader(file: file, reason: "metadata value for \"\(key)\" is not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    static func parseTensor(_ name: String, _ value: JSONValue, bufferSize: Int, file: String) throws -> TensorEntry {
        guard case let .object(fields) = value else {
            throw FormatError.malformedHeader(file: file, reason: "tensor '\(name)' is not an object")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let value = fields.first(where: { $0.key == key })?.value else {
                throw FormatError.malformedHeader(file: file, reason: "tensor '\(name)' has no \"\(key)\"")
            }
            return value
        }
        guard case let .string(dtype) = try field("dtype") else {
            throw FormatError.malformedHeader(file: file, reason: "tensor '\(name)': \"dtype\" is not a string")
        }
        guard let elementType = ElementType(safetensorsName: dtype) else {
            throw FormatError.unsupportedElementType(file: file, type: "\(dtype) (tensor '\(name)')")
        }
        let shape = try integers(field("shape"))
        guard let shape, shape.allSatisfy({ $0 >= 0 }) else {
            throw FormatError.malformedHeader(file: file, reason: "tensor '\(name)': \"shape\" is not a list of non-negative integers")
        }
        guard let offsets = try integers(field("data_offsets")), offsets.count == 2 else {
            throw FormatError.malformedHeader(file: file, reason: "tensor '\(name)': \"data_offsets\" is not a pair of integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= bufferSize else {
            throw FormatError.offsetOutOfRange(file: file, tensor: name, begin: begin, end: end, bufferSize: bufferSize)
        }
        guard let count = NumericArray.elementCount(shape), let byteCount = NumericArray.byteCount(shape, elementType) else {
            throw FormatError.shapeOverflow(file: file, shape: shape)
        }
        guard byteCount == end - begin else {
            throw FormatError.tensorSizeMismatch(file: file, tensor: name, expected: byteCount, actual: end - begin)
        }
        return TensorEntry(name: name, elementType: elementType, shape: shape, count: count, begin: begin, end: end)
    }

    static func integers(_ value: JSONValue) -> [Int]? {
        guard case let .array(items) = value else { return nil }
        var result: [Int] = []
        for item in items {
            guard case let .integer(number) = item else { return nil }
            result.append(number)
        }
        return result
    }

    /// The byte ranges, sorted, must cover the buffer exactly once.
    static func checkTiling(_ tensors: [TensorEntry], bufferSize: Int, file: String) throws {
        var position = 0
        var previous: String?
        for tensor in tensors.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            if tensor.begin < position, let previous {
                throw FormatError.malformedHeader(file: file, reason: "tensor '\(tensor.name)' overlaps tensor '\(previous)'")
            }
            if tensor.begin > position {
                throw FormatError.malformedHeader(file: file, reason: "data bytes \(position)..<\(tensor.begin) belong to no tensor")
            }
            position = tensor.end
            previous = tensor.name
        }
        if position != bufferSize {
            throw FormatError.malformedHeader(file: file, reason: "data bytes \(position)..<\(bufferSize) belong to no tensor")
        }
    }
}

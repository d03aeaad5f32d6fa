import Foundation

/// NumPy's `.npy` format: one array with a small text header.
///
/// Layout: the magic `\x93NUMPY`, a major and minor version byte, the header length
/// (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and 3.0), then the header — the
/// `repr` of a dict `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded
/// with spaces and a newline — then the raw elements.
///
/// Reading accepts versions 1.0–3.0, little- and big-endian `descr`s of the types in
/// ``ElementType`` (big-endian data is byte-swapped), and Fortran order (converted to C
/// order). Writing produces little-endian, C-order version 1.0 files whose data starts at
/// a multiple of 64 bytes, as NumPy does, and version 2.0 when the header outgrows 65535
/// bytes.
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    static let alignment = 64

    /// Reads the `.npy` file at `url`.
    ///
    /// - Throws: ``FormatError``.
    public static func read(_ url: URL) throws -> NumericArray {
        try decode(readFile(url), file: url.path)
    }

    /// Writes `array` to `url` atomically.
    ///
    /// - Throws: ``FormatError`` (for example `bfloat16`, which NumPy has no type for).
    public static func write(_ array: NumericArray, to url: URL) throws {
        let data = try encode(array, name: url.deletingPathExtension().lastPathComponent, file: url.path)
        try AtomicFile.write(data, to: url)
    }

    /// Decodes `.npy` bytes; `file` names the source in errors.
    ///
    /// Every length is checked against the bytes present before anything is allocated.
    public static func decode(_ data: Data, file: String) throws -> NumericArray {
        let header = try parseHeader(data, file: file)
        let available = data.count - header.dataOffset
        guard let count = NumericArray.elementCount(header.shape),
            let byteCount = NumericArray.byteCount(header.shape, header.elementType)
        else {
            throw FormatError.shapeOverflow(file: file, shape: header.shape)
        }
        guard available >= byteCount else { throw FormatError.truncated(file: file, expected: byteCount, actual: available) }
        guard available == byteCount else { throw FormatError.trailingData(file: file, expected: byteCount, actual: available) }
        var storage = data.withUnsafeBytes { raw in
            ElementCoding.decode(
                UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...]), type: header.elementType, count: count,
                bigEndian: header.bigEndian)
        }
        if header.fortranOrder && header.shape.count > 1 {
            storage = fortranToC(storage, shape: header.shape)
        }
        return NumericArray(shape: header.shape, elementType: header.elementType, storage: storage)
    }

    /// The `.npy` bytes of `array`; `name` and `file` identify it in errors.
    public static func encode(_ array: NumericArray, name: String = "array", file: String = "<memory>") throws -> Data {
        guard let descr = array.elementType.numpyDescr else {
            throw FormatError.unsupportedElementType(
                file: file, type: "\(array.elementType) (NumPy has no such dtype; convert to float32 first)")
        }
        var data = header(descr: descr, shape: array.shape)
        data.append(try ElementCoding.encode(array, name: name, file: file))
        return data
    }

    /// The magic, version, length and padded header of a C-order `.npy` file of `shape`.
    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that magic + version + length + header (ending in "\n") is a
        // multiple of 64; a header past 65535 bytes needs version 2.0's 4-byte length.
        func paddedLength(prefix: Int) -> Int {
            let unpadded = prefix + dict.utf8.count + 1
            return unpadded + (alignment - unpadded % alignment) % alignment - prefix
        }
        var version: UInt8 = 1
        var headerLength = paddedLength(prefix: magic.count + 2 + 2)
        if headerLength > Int(UInt16.max) {
            version = 2
            headerLength = paddedLength(prefix: magic.count + 2 + 4)
        }
        var data = Data(magic)
        data.append(contentsOf: [version, 0])
        if version == 1 {
            withUnsafeBytes(of: UInt16(headerLength).littleEndian) { data.append(contentsOf: $0) }
        } else {
            withUnsafeBytes(of: UInt32(headerLength).littleEndian) { data.append(contentsOf: $0) }
        }
        data.append(contentsOf: Array(dict.utf8))
        data.append(contentsOf: [UInt8](repeating: 0x20, count: headerLength - dict.utf8.count - 1))
        data.append(0x0A)
        return data
    }

    // MARK: - Header

    struct Header {
        var elementType: ElementType
        var bigEndian: Bool
        var fortranOrder: Bool
        var shape: [Int]
        /// Where the elements start, from the beginning of the file.
        var dataOffset: Int
    }

    /// Where the header text starts and how long it is, from the first bytes of a file, or
    /// `nil` if `data` is too short to say yet (only while `complete` is false).
    static func headerExtent(_ data: Data, file: String, complete: Bool = true) throws -> (start: Int, length: Int)? {
        let bytes = data.withUnsafeBytes { raw in Array(raw.prefix(12)) }
        let magicPresent = min(bytes.count, magic.count)
        guard Array(bytes.prefix(magicPresent)) == Array(magic.prefix(magicPresent)) else {
            throw FormatError.badMagic(file: file)
        }
        func shortOf(_ expected: Int) throws -> (start: Int, length: Int)? {
            if !complete { return nil }
            throw FormatError.truncated(file: file, expected: expected, actual: bytes.count)
        }
        guard bytes.count >= 8 else { return try shortOf(10) }
        let start: Int
        switch (bytes[6], bytes[7]) {
        case (1, 0): start = 10
        case (2, 0), (3, 0): start = 12
        default: throw FormatError.unsupportedVersion(file: file, version: "\(bytes[6]).\(bytes[7])")
        }
        guard bytes.count >= start else { return try shortOf(start) }
        let extent = (start: start, length: start == 10 ? Int(data.littleEndianInteger(at: 8, as: UInt16.self))
                                                        : Int(data.littleEndianInteger(at: 8, as: UInt32.self)))
        // NumPy writes a few hundred bytes, and by default reads at most 10 000.
        let limit = ResourceLimit.npyHeader
        guard extent.length <= limit.value else {
            throw FormatError.malformedHeader(
                file: file, reason: "the header declares \(extent.length) bytes, more than a .npy header may be \(limit.exceeded(needing: extent.length))")
        }
        return extent
    }

    static func parseHeader(_ data: Data, file: String) throws -> Header {
        guard let (headerStart, headerLength) = try headerExtent(data, file: file) else { throw FormatError.badMagic(file: file) }
        let major = data[data.startIndex + 6]
        guard headerLength <= data.count - headerStart else {
            throw FormatError.headerSizeMismatch(file: file, declared: headerLength, available: data.count - headerStart)
        }
        let headerBytes = data.withUnsafeBytes { raw in Array(raw[headerStart..<(headerStart + headerLength)]) }
        // Versions 1 and 2 store the header in Latin-1, version 3 in UTF-8.
        let text = major == 3
            ? String(decoding: headerBytes, as: UTF8.self)
            : String(headerBytes.map { Character(Unicode.Scalar($0)) })

        let literal: PythonLiteral
        do {
            literal = try PythonLiteral.parse(text)
        } catch {
            throw FormatError.malformedHeader(file: file, reason: error.reason)
        }
        guard case let .dict(entries) = literal else {
            throw FormatError.malformedHeader(file: file, reason: "the header is not a dict")
        }
        let keys = entries.map(\.key)
        guard Set(keys) == ["descr", "fortran_order", "shape"] else {
            throw FormatError.malformedHeader(
                file: file, reason: "expected keys 'descr', 'fortran_order' and 'shape', found \(keys.sorted())")
        }
        func entry(_ key: String) -> PythonLiteral {
            entries.first { $0.key == key }?.value ?? .none
        }

        guard case let .string(descr) = entry("descr") else {
            throw FormatError.unsupportedElementType(file: file, type: "structured dtype (descr is not a string)")
        }
        guard let (elementType, bigEndian) = ElementType.parseNumpyDescr(descr) else {
            throw FormatError.unsupportedElementType(file: file, type: "'\(descr)'")
        }
        guard case let .bool(fortranOrder) = entry("fortran_order") else {
            throw FormatError.malformedHeader(file: file, reason: "'fortran_order' is not True or False")
        }
        guard case let .tuple(dimensions) = entry("shape") else {
            throw FormatError.malformedHeader(file: file, reason: "'shape' is not a tuple")
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard case let .integer(size) = dimension, size >= 0 else {
                throw FormatError.malformedHeader(file: file, reason: "'shape' holds something other than a non-negative integer")
            }
            shape.append(size)
        }
        return Header(
            elementType: elementType, bigEndian: bigEndian, fortranOrder: fortranOrder, shape: shape,
            dataOffset: headerStart + headerLength)
    }

    // MARK: - Fortran order

    /// Reorders column-major (Fortran) elements into row-major (C) order.
    static func fortranToC(_ storage: NumericArray.Storage, shape: [Int]) -> NumericArray.Storage {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropFirst() { strides[axis] = strides[axis - 1] * shape[axis - 1] }
        return StridedGather.gather(storage, shape: shape, strides: strides, offset: 0)
    }
}

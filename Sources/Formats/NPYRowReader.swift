import Foundation

/// Reads rows (slices along axis 0) of a `.npy` file without loading the whole file, so
/// that a network can be run over more inputs than fit in memory.
///
/// Only C-order files can be read by rows; a Fortran-order file is refused with a message
/// (NumPy's `np.ascontiguousarray` converts it).
public final class NPYRowReader: @unchecked Sendable {
    /// The file's shape; `shape[0]` is the number of rows.
    public let shape: [Int]
    /// The element type stored in the file.
    public let elementType: ElementType
    /// The file being read.
    public let url: URL
    private let handle: FileHandle
    let dataOffset: Int
    let bigEndian: Bool
    private let rowElements: Int

    /// Opens `url` and checks its header and length.
    ///
    /// - Throws: ``FormatError`` for a file that is not a readable `.npy`, is shorter than
    ///   its shape, is a scalar, or is in Fortran order.
    public init(_ url: URL) throws {
        self.url = url
        handle = try openForReading(url)
        var prefix: Data
        let size: UInt64
        do {
            // The fixed part first, which says how long the header is, then the header.
            prefix = try handle.read(upToCount: 12) ?? Data()
            if let (start, length) = try NPY.headerExtent(prefix, file: url.path, complete: false), start + length > prefix.count {
                prefix += try handle.read(upToCount: start + length - prefix.count) ?? Data()
            }
            size = try handle.seekToEnd()
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
        let header = try NPY.parseHeader(prefix, file: url.path)
        guard !header.shape.isEmpty else {
            throw FormatError.malformedHeader(file: url.path, reason: "a scalar has no rows to read")
        }
        guard !header.fortranOrder || header.shape.count == 1 else {
            throw FormatError.malformedHeader(
                file: url.path, reason: "rows of a Fortran-order array cannot be streamed; save it with np.ascontiguousarray")
        }
        guard let byteCount = NumericArray.byteCount(header.shape, header.elementType),
              let rowElements = NumericArray.elementCount(Array(header.shape.dropFirst())) else {
            throw FormatError.shapeOverflow(file: url.path, shape: header.shape)
        }
        let available = Int(size) - header.dataOffset
        guard available >= byteCount else { throw FormatError.truncated(file: url.path, expected: byteCount, actual: available) }
        guard available == byteCount else { throw FormatError.trailingData(file: url.path, expected: byteCount, actual: available) }
        self.shape = header.shape
        self.elementType = header.elementType
        self.dataOffset = header.dataOffset
        self.bigEndian = header.bigEndian
        self.rowElements = rowElements
    }

    deinit { try? handle.close() }

    /// The number of rows.
    public var rowCount: Int { shape[0] }

    /// Rows `range` as an array of shape `[range.count] + shape[1...]`.
    public func rows(_ range: Range<Int>) throws -> NumericArray {
        precondition(range.lowerBound >= 0 && range.upperBound <= rowCount, "rows \(range) outside 0..<\(rowCount)")
        let width = elementType.byteCount
        let count = range.count * rowElements
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(dataOffset + range.lowerBound * rowElements * width))
            data = try handle.read(upToCount: count * width) ?? Data()
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
        guard data.count == count * width else {
            throw FormatError.truncated(file: url.path, expected: count * width, actual: data.count)
        }
        let storage = data.withUnsafeBytes { raw in
            ElementCoding.decode(raw, type: elementType, count: count, bigEndian: bigEndian)
        }
        return NumericArray(shape: [range.count] + Array(shape.dropFirst()), elementType: elementType, storage: storage)
    }
}

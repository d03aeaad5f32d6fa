import Foundation

/// Conversion between raw element bytes in a file and ``NumericArray/Storage``.
enum ElementCoding {
    /// Decodes `count` elements of `type` from `bytes`, which must hold at least
    /// `count * type.byteCount` bytes (callers check this against the file first).
    static func decode(
        _ bytes: UnsafeRawBufferPointer, type: ElementType, count: Int, bigEndian: Bool = false
    ) -> NumericArray.Storage {
        precondition(bytes.count >= count * type.byteCount, "element buffer too short")
        switch type {
        case .float32:
            return .float32(build(count) { Float(bitPattern: load(bytes, $0, UInt32.self, bigEndian)) })
        case .float64:
            return .float64(build(count) { Double(bitPattern: load(bytes, $0, UInt64.self, bigEndian)) })
        case .float16:
            return .float32(build(count) { HalfPrecision.float(fromFloat16: load(bytes, $0, UInt16.self, bigEndian)) })
        case .bfloat16:
            return .float32(build(count) { HalfPrecision.float(fromBFloat16: load(bytes, $0, UInt16.self, bigEndian)) })
        case .bool:
            return .int32(build(count) { bytes[$0] == 0 ? 0 : 1 })
        case .uint8:
            return .int32(build(count) { Int32(bytes[$0]) })
        case .int8:
            return .int32(build(count) { Int32(Int8(bitPattern: bytes[$0])) })
        case .int16:
            return .int32(build(count) { Int32(Int16(bitPattern: load(bytes, $0, UInt16.self, bigEndian))) })
        case .uint16:
            return .int32(build(count) { Int32(load(bytes, $0, UInt16.self, bigEndian)) })
        case .int32:
            return .int32(build(count) { Int32(bitPattern: load(bytes, $0, UInt32.self, bigEndian)) })
        case .uint32:
            return .int64(build(count) { Int64(load(bytes, $0, UInt32.self, bigEndian)) })
        case .int64:
            return .int64(build(count) { Int64(bitPattern: load(bytes, $0, UInt64.self, bigEndian)) })
        }
    }

    /// Storage for `count` elements of `type` whose stored bytes (`count × type.byteCount`)
    /// `fill` writes into the buffer it is given. Types kept in memory as they are stored
    /// (little-endian `float32`, `float64`, `int32` and `int64` on a little-endian machine)
    /// are read straight into the array, with no buffer between the file and the elements;
    /// the others go through a byte buffer and ``decode(_:type:count:bigEndian:)``.
    static func reading(
        _ type: ElementType, count: Int, bigEndian: Bool = false, fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws -> NumericArray.Storage {
        func direct<T>(_: T.Type) throws -> [T] {
            try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                try fill(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        switch (type, !bigEndian && 1.littleEndian == 1) {
        case (.float32, true): return .float32(try direct(Float.self))
        case (.float64, true): return .float64(try direct(Double.self))
        case (.int32, true): return .int32(try direct(Int32.self))
        case (.int64, true): return .int64(try direct(Int64.self))
        default:
            var bytes = [UInt8](repeating: 0, count: count * type.byteCount)
            try bytes.withUnsafeMutableBytes(fill)
            return bytes.withUnsafeBytes { decode($0, type: type, count: count, bigEndian: bigEndian) }
        }
    }

    /// The array's elements as little-endian bytes of its `elementType`.
    ///
    /// - Throws: ``FormatError/valueOutOfRange(file:name:value:elementType:)`` when an integer
    ///   does not fit a narrow element type.
    static func encode(_ array: NumericArray, name: String, file: String) throws -> Data {
        let type = array.elementType
        let count = array.count
        var data = Data(count: count * type.byteCount)
        if let range = type.integerRange, range != Int64.min...Int64.max {
            let values = array.int64s() ?? []
            if let bad = values.first(where: { !range.contains($0) }) {
                throw FormatError.valueOutOfRange(file: file, name: name, value: "\(bad)", elementType: type)
            }
        }
        data.withUnsafeMutableBytes { out in
            switch (type, array.storage) {
            case let (.float32, .float32(values)):
                for i in 0..<count { store(out, i, values[i].bitPattern) }
            case let (.float64, .float64(values)):
                for i in 0..<count { store(out, i, values[i].bitPattern) }
            case let (.float16, .float32(values)):
                for i in 0..<count { store(out, i, HalfPrecision.float16Bits(from: values[i])) }
            case let (.bfloat16, .float32(values)):
                for i in 0..<count { store(out, i, HalfPrecision.bfloat16Bits(from: values[i])) }
            case let (.bool, .int32(values)), let (.uint8, .int32(values)), let (.int8, .int32(values)):
                for i in 0..<count { out[i] = UInt8(truncatingIfNeeded: values[i]) }
            case let (.int16, .int32(values)), let (.uint16, .int32(values)):
                for i in 0..<count { store(out, i, UInt16(truncatingIfNeeded: values[i])) }
            case let (.int32, .int32(values)):
                for i in 0..<count { store(out, i, UInt32(bitPattern: values[i])) }
            case let (.uint32, .int64(values)):
                for i in 0..<count { store(out, i, UInt32(truncatingIfNeeded: values[i])) }
            case let (.int64, .int64(values)):
                for i in 0..<count { store(out, i, UInt64(bitPattern: values[i])) }
            default:
                preconditionFailure("\(type) elements cannot be stored as \(array.storage.kind)")
            }
        }
        return data
    }

    @inline(__always)
    private static func load<T: FixedWidthInteger>(
        _ bytes: UnsafeRawBufferPointer, _ index: Int, _: T.Type, _ bigEndian: Bool
    ) -> T {
        let raw = bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
        return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
    }

    @inline(__always)
    private static func store<T: FixedWidthInteger>(_ bytes: UnsafeMutableRawBufferPointer, _ index: Int, _ value: T) {
        bytes.storeBytes(of: value.littleEndian, toByteOffset: index * MemoryLayout<T>.size, as: T.self)
    }

    @inline(__always)
    private static func build<T>(_ count: Int, _ element: (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = element(i) }
            initialized = count
        }
    }
}

extension Data {
    /// Little-endian unsigned integer of `T`'s width at `offset`; the caller checks bounds.
    func littleEndianInteger<T: FixedWidthInteger>(at offset: Int, as _: T.Type) -> T {
        withUnsafeBytes { raw in
            T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
    }
}

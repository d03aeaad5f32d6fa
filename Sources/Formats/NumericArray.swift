/// An n-dimensional array of numbers read from (or to be written to) a file.
///
/// Elements are kept in row-major (C) order whatever the file's order was: the last index
/// varies fastest, as in NumPy's default layout. `elementType` records the type the file
/// held; `storage` holds the values in the narrowest Swift type that represents them
/// exactly (half-precision floats as `Float`, narrow integers as `Int32`, `uint32` as
/// `Int64`).
public struct NumericArray: Sendable, Equatable {
    /// The in-memory element storage, in row-major order.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int32([Int32])
        case int64([Int64])

        /// Number of stored elements.
        public var count: Int {
            switch self {
            case let .float32(values): return values.count
            case let .float64(values): return values.count
            case let .int32(values): return values.count
            case let .int64(values): return values.count
            }
        }

        /// Which case this is.
        public var kind: StorageKind {
            switch self {
            case .float32: return .float32
            case .float64: return .float64
            case .int32: return .int32
            case .int64: return .int64
            }
        }
    }

    /// The cases of ``Storage`` without their values.
    public enum StorageKind: Sendable, Equatable {
        case float32, float64, int32, int64
    }

    /// The dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The element type the file held (or will hold once written).
    public let elementType: ElementType
    /// The elements in row-major order.
    public let storage: Storage

    /// An array over existing row-major storage.
    ///
    /// - Precondition: `storage` holds `product(shape)` elements, and its kind is
    ///   `elementType.storageKind`. Narrow integer types are not range-checked here;
    ///   writers refuse values that do not fit.
    public init(shape: [Int], elementType: ElementType, storage: Storage) {
        precondition(
            NumericArray.elementCount(shape) == storage.count,
            "shape \(shape) does not match \(storage.count) elements")
        precondition(
            elementType.storageKind == storage.kind,
            "\(elementType) elements cannot be stored as \(storage.kind)")
        self.shape = shape
        self.elementType = elementType
        self.storage = storage
    }

    /// A `float32` array from row-major elements.
    public init(shape: [Int], float32 values: [Float]) {
        self.init(shape: shape, elementType: .float32, storage: .float32(values))
    }

    /// A `float64` array from row-major elements.
    public init(shape: [Int], float64 values: [Double]) {
        self.init(shape: shape, elementType: .float64, storage: .float64(values))
    }

    /// An `int32` array from row-major elements.
    public init(shape: [Int], int32 values: [Int32]) {
        self.init(shape: shape, elementType: .int32, storage: .int32(values))
    }

    /// An `int64` array from row-major elements.
    public init(shape: [Int], int64 values: [Int64]) {
        self.init(shape: shape, elementType: .int64, storage: .int64(values))
    }

    /// Number of elements (1 for a scalar).
    public var count: Int { storage.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The elements converted to `Double` (exact for every supported type).
    public func doubles() -> [Double] {
        switch storage {
        case let .float32(values): return values.map(Double.init)
        case let .float64(values): return values
        case let .int32(values): return values.map(Double.init)
        case let .int64(values): return values.map(Double.init)
        }
    }

    /// The elements converted to `Float` (rounded for `float64` and large integers).
    public func floats() -> [Float] {
        switch storage {
        case let .float32(values): return values
        case let .float64(values): return values.map(Float.init)
        case let .int32(values): return values.map(Float.init)
        case let .int64(values): return values.map(Float.init)
        }
    }

    private static func exactIntegers<T: BinaryFloatingPoint>(_ values: [T]) -> [Int64]? {
        var result = [Int64]()
        result.reserveCapacity(values.count)
        for value in values {
            guard let exact = Int64(exactly: value) else { return nil }
            result.append(exact)
        }
        return result
    }

    /// The elements as `Int64`, or `nil` if some floating-point element is not an integer
    /// that `Int64` can hold (fractions, NaN, infinities, huge values).
    public func int64s() -> [Int64]? {
        switch storage {
        case let .int32(values): return values.map(Int64.init)
        case let .int64(values): return values
        case let .float32(values): return Self.exactIntegers(values)
        case let .float64(values): return Self.exactIntegers(values)
        }
    }

    /// The first NaN or infinite element in row-major order, if any.
    public func firstNonFinite() -> (index: Int, value: Double)? {
        switch storage {
        case let .float32(values):
            if let index = values.firstIndex(where: { !$0.isFinite }) { return (index, Double(values[index])) }
        case let .float64(values):
            if let index = values.firstIndex(where: { !$0.isFinite }) { return (index, values[index]) }
        case .int32, .int64:
            break
        }
        return nil
    }

    /// The multi-index (one entry per dimension) of the element at row-major position `flatIndex`.
    public func position(ofFlatIndex flatIndex: Int) -> [Int] {
        var remainder = flatIndex
        var position = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            position[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return position
    }

    /// The number of elements of an array of this shape, or `nil` if a dimension is negative
    /// or the product overflows `Int`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }

    /// The number of bytes an array of this shape and type occupies in a file, or `nil` on overflow.
    public static func byteCount(_ shape: [Int], _ elementType: ElementType) -> Int? {
        guard let count = elementCount(shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementType.byteCount)
        return overflow ? nil : bytes
    }
}

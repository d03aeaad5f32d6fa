import Formats
import Synchronization

/// The element types that the runtime computes with.
///
/// Floating-point work is done in `float32` (the type trained networks ship in); `float64`
/// and the integer types exist for the shape arithmetic, indices and masks that exported
/// graphs carry, and for the operators whose ONNX definition covers them.
public enum DataType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, float64, int64, int32, int8, uint8, bool

    public var description: String { rawValue }

    /// The bytes one element takes.
    public var elementBytes: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .int8, .uint8, .bool: 1
        }
    }

    /// `true` for `float32` and `float64`.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
}

/// A type that a ``Tensor`` can hold.
public protocol TensorElement: Sendable, Equatable {
    /// The matching ``DataType``.
    static var dataType: DataType { get }
    /// The value zero (also `false`).
    static var zero: Self { get }
    /// Wraps elements in storage.
    static func storage(_ elements: [Self]) -> TensorStorage
    /// The elements, if `storage` holds this type.
    static func elements(of storage: TensorStorage) -> [Self]?
}

/// Row-major element storage of a ``Tensor``.
public enum TensorStorage: Sendable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case int32([Int32])
    case int8([Int8])
    case uint8([UInt8])
    case bool([Bool])

    /// The element type.
    public var dataType: DataType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .int32: return .int32
        case .int8: return .int8
        case .uint8: return .uint8
        case .bool: return .bool
        }
    }

    /// The number of elements.
    public var count: Int { visit(CountVisitor()) }

    /// Calls `visitor` with the typed elements: one switch, then generic code specialised
    /// per element type (no per-element dispatch).
    @inlinable
    public func visit<V: StorageVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case let .float32(a): return visitor.visit(a)
        case let .float64(a): return visitor.visit(a)
        case let .int64(a): return visitor.visit(a)
        case let .int32(a): return visitor.visit(a)
        case let .int8(a): return visitor.visit(a)
        case let .uint8(a): return visitor.visit(a)
        case let .bool(a): return visitor.visit(a)
        }
    }

    /// Storage of `count` zeros (or `false`) of type `dataType`.
    public static func zeros(_ dataType: DataType, count: Int) -> TensorStorage {
        switch dataType {
        case .float32: return .float32(Array(repeating: 0, count: count))
        case .float64: return .float64(Array(repeating: 0, count: count))
        case .int64: return .int64(Array(repeating: 0, count: count))
        case .int32: return .int32(Array(repeating: 0, count: count))
        case .int8: return .int8(Array(repeating: 0, count: count))
        case .uint8: return .uint8(Array(repeating: 0, count: count))
        case .bool: return .bool(Array(repeating: false, count: count))
        }
    }
}

/// Generic code run on the typed elements of a ``TensorStorage``.
public protocol StorageVisitor {
    associatedtype Result
    func visit<T: TensorElement>(_ elements: [T]) -> Result
}

private struct CountVisitor: StorageVisitor {
    func visit<T: TensorElement>(_ elements: [T]) -> Int { elements.count }
}

/// An n-dimensional array in row-major order: the value that flows along a graph's edges.
///
/// Activations of vision layers have shape `[batch, channels, height, width]`, of token
/// layers `[batch, tokens, features]`, of dense layers `[batch, features]`.
public struct Tensor: Sendable {
    /// The dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The elements in row-major order.
    public let storage: TensorStorage

    /// A tensor over existing elements.
    ///
    /// - Precondition: `elements.count` is the product of `shape`.
    public init<T: TensorElement>(shape: [Int], elements: [T]) {
        precondition(shape.allSatisfy { $0 >= 0 } && Tensor.count(shape) == elements.count,
                     "shape \(shape) does not match \(elements.count) elements")
        self.shape = shape
        self.storage = T.storage(elements)
    }

    /// A tensor over existing storage.
    ///
    /// - Precondition: `storage.count` is the product of `shape`.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.allSatisfy { $0 >= 0 } && Tensor.count(shape) == storage.count,
                     "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
    }

    /// A scalar.
    public init<T: TensorElement>(scalar: T) { self.init(shape: [], elements: [scalar]) }

    /// The element type.
    public var dataType: DataType { storage.dataType }
    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { Tensor.count(shape) }

    /// The elements as `T`, or `nil` if the tensor holds another type.
    public func elements<T: TensorElement>(as type: T.Type = T.self) -> [T]? { T.elements(of: storage) }

    /// The `float32` elements, or `nil` for other types.
    public var floats: [Float]? { elements(as: Float.self) }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, storage: storage) }

    /// The largest element count a shape may have (2³⁴, 64 GiB of float32), whatever
    /// ``ResourceLimit/tensor`` says.
    public static let maximumCount = 1 << 34

    /// The element count of `shape`, if it is a valid shape (no negative dimension) whose
    /// elements of `elementBytes` bytes each fit in ``ResourceLimit/tensor``: three quarters
    /// of the machine's memory unless raised, whatever budget an analysis is given for its
    /// activations. An operator checks its output shape with this before allocating, so a
    /// model whose shapes or shape inputs ask for an absurd tensor (a `Tile` of a billion
    /// repeats, a `Conv` with a padding of millions) gets an error naming the node instead
    /// of an allocation that takes the process down.
    ///
    /// - Throws: ``KernelError`` saying what the shape would take and what is allowed.
    static func checkedCount(_ shape: [Int], elementBytes: Int = 4, what: String = "its output") throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw KernelError("\(what) would have the invalid shape \(shape)") }
        if shape.contains(0) {
            // Empty, but a dimension of billions would still size the index lists of later operators.
            guard shape.allSatisfy({ $0 <= maximumCount }) else {
                throw KernelError("\(what) of shape \(shape) has a dimension beyond the largest (\(maximumCount))")
            }
            return 0
        }
        let bytes = ResourceLimit.tensor
        let limit = min(bytes.value / max(elementBytes, 1), maximumCount)
        var count = 1
        for dim in shape {
            let (next, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, next <= limit else {
                let elements = shape.reduce(1.0) { $0 * Double($1) }
                let beyond = elements > Double(maximumCount)
                    ? "more than the \(maximumCount) elements any tensor may have"
                    : "more than one tensor may take \(bytes.exceeded(needing: Int(elements) * elementBytes))"
                throw KernelError("\(what) of shape \(shape) would take \(readableBytes(shape, elementBytes)), " + beyond)
            }
            count = next
        }
        return count
    }

    /// The bytes of `shape` for a message, exact or as a power of ten when they overflow.
    private static func readableBytes(_ shape: [Int], _ elementBytes: Int) -> String {
        let bytes = shape.reduce(Double(elementBytes)) { $0 * Double($1) }
        return bytes < 9e18 ? ByteSize.binary(Int(bytes)) : "more bytes than a 64-bit count holds"
    }

    /// The product of `shape` (1 for a scalar).
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The row-major strides of `shape`, in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }
}

extension Float: TensorElement {
    public static var dataType: DataType { .float32 }
    public static func storage(_ elements: [Float]) -> TensorStorage { .float32(elements) }
    public static func elements(of storage: TensorStorage) -> [Float]? {
        if case let .float32(a) = storage { return a }
        return nil
    }
}

extension Double: TensorElement {
    public static var dataType: DataType { .float64 }
    public static func storage(_ elements: [Double]) -> TensorStorage { .float64(elements) }
    public static func elements(of storage: TensorStorage) -> [Double]? {
        if case let .float64(a) = storage { return a }
        return nil
    }
}

extension Int64: TensorElement {
    public static var dataType: DataType { .int64 }
    public static func storage(_ elements: [Int64]) -> TensorStorage { .int64(elements) }
    public static func elements(of storage: TensorStorage) -> [Int64]? {
        if case let .int64(a) = storage { return a }
        return nil
    }
}

extension Int32: TensorElement {
    public static var dataType: DataType { .int32 }
    public static func storage(_ elements: [Int32]) -> TensorStorage { .int32(elements) }
    public static func elements(of storage: TensorStorage) -> [Int32]? {
        if case let .int32(a) = storage { return a }
        return nil
    }
}

extension Int8: TensorElement {
    public static var dataType: DataType { .int8 }
    public static func storage(_ elements: [Int8]) -> TensorStorage { .int8(elements) }
    public static func elements(of storage: TensorStorage) -> [Int8]? {
        if case let .int8(a) = storage { return a }
        return nil
    }
}

extension UInt8: TensorElement {
    public static var dataType: DataType { .uint8 }
    public static func storage(_ elements: [UInt8]) -> TensorStorage { .uint8(elements) }
    public static func elements(of storage: TensorStorage) -> [UInt8]? {
        if case let .uint8(a) = storage { return a }
        return nil
    }
}

extension Bool: TensorElement {
    public static var dataType: DataType { .bool }
    public static var zero: Bool { false }
    public static func storage(_ elements: [Bool]) -> TensorStorage { .bool(elements) }
    public static func elements(of storage: TensorStorage) -> [Bool]? {
        if case let .bool(a) = storage { return a }
        return nil
    }
}

/// Utilities shared by the data-movement operators: axis checks, concatenation, and
/// conversions between tensors of any element type and plain numbers.
enum TensorMovement {
    /// `axis` counted from the end if negative, checked against `rank`.
    static func axis(_ axis: Int, rank: Int, what: String = "axis") throws -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0, normalized < rank else {
            throw KernelError("\(what) \(axis) is out of range for rank \(rank)")
        }
        return normalized
    }

    /// Distinct axes, each counted from the end if negative.
    static func axes(_ axes: [Int], rank: Int, what: String = "axes") throws -> [Int] {
        let normalized = try axes.map { try axis($0, rank: rank, what: what) }
        guard Set(normalized).count == normalized.count else {
            throw KernelError("\(what) \(axes) repeat an axis")
        }
        return normalized
    }

    /// The tensors joined along `axis`; all must have the same element type and rank, and
    /// equal dimensions except along `axis`.
    static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw KernelError("nothing to concatenate") }
        let axis = try self.axis(axis, rank: first.rank)
        var shape = first.shape
        shape[axis] = 0
        for tensor in tensors {
            guard tensor.dataType == first.dataType else {
                throw KernelError("inputs have different element types (\(first.dataType) and \(tensor.dataType))")
            }
            var others = tensor.shape
            if others.count == first.rank { others[axis] = first.shape[axis] }
            guard others == first.shape else {
                throw KernelError("input shapes \(first.shape) and \(tensor.shape) differ outside axis \(axis)")
            }
            shape[axis] += tensor.shape[axis]
        }
        _ = try Tensor.checkedCount(shape, elementBytes: first.dataType.elementBytes)
        let outer = Tensor.count(Array(shape[..<axis]))
        let blocks = tensors.map { Tensor.count(Array($0.shape[axis...])) }
        let storage = first.storage.visit(ConcatVisitor(parts: tensors.map(\.storage), outer: outer, blocks: blocks))
        return Tensor(shape: shape, storage: storage)
    }

    private struct ConcatVisitor: StorageVisitor {
        let parts: [TensorStorage]
        let outer: Int
        let blocks: [Int]
        func visit<T: TensorElement>(_ first: [T]) -> TensorStorage {
            let arrays = parts.map { T.elements(of: $0) ?? [] }
            var result: [T] = []
            result.reserveCapacity(outer * blocks.reduce(0, +))
            for row in 0..<outer {
                for (array, block) in zip(arrays, blocks) where block > 0 {
                    result.append(contentsOf: array[row * block ..< (row + 1) * block])
                }
            }
            return T.storage(result)
        }
    }

    /// Storage of `count` copies of `value` converted to `type` (truncated toward zero for
    /// integers, clamped to their range; nonzero is `true`).
    static func filled(_ value: Double, as type: DataType, count: Int = 1) -> TensorStorage {
        func integer<I: FixedWidthInteger>(_: I.Type) -> I {
            guard !value.isNaN else { return 0 }
            if value <= Double(I.min) { return I.min }
            if value >= Double(I.max) { return I.max }
            return I(value.rounded(.towardZero))
        }
        switch type {
        case .float32: return .float32(Array(repeating: Float(value), count: count))
        case .float64: return .float64(Array(repeating: value, count: count))
        case .int64: return .int64(Array(repeating: integer(Int64.self), count: count))
        case .int32: return .int32(Array(repeating: integer(Int32.self), count: count))
        case .int8: return .int8(Array(repeating: integer(Int8.self), count: count))
        case .uint8: return .uint8(Array(repeating: integer(UInt8.self), count: count))
        case .bool: return .bool(Array(repeating: value != 0, count: count))
        }
    }

    /// The elements of a tensor of any type as `Double` (`true` is 1).
    static func doubles(_ tensor: Tensor) -> [Double] {
        switch tensor.storage {
        case let .float32(a): return a.map(Double.init)
        case let .float64(a): return a
        case let .int64(a): return a.map(Double.init)
        case let .int32(a): return a.map(Double.init)
        case let .int8(a): return a.map(Double.init)
        case let .uint8(a): return a.map(Double.init)
        case let .bool(a): return a.map { $0 ? 1 : 0 }
        }
    }

    /// The single element of a one-element tensor as an integer.
    static func scalarInteger(_ tensor: Tensor, what: String) throws -> Int {
        let values = try tensor.integers(what)
        guard values.count == 1 else { throw KernelError("\(what) must hold one value, not \(values.count)") }
        return values[0]
    }

    /// An int64 tensor of shape `[values.count]`.
    static func int64Vector(_ values: [Int]) -> Tensor {
        Tensor(shape: [values.count], elements: values.map(Int64.init))
    }
}

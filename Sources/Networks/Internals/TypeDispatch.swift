// One `switch` over a tensor's storage, then generic code specialised per element type:
// the element-wise and reduction kernels are written as visitors over the element
// protocols (`NumericElement`, `FloatingKernel`, `CastableElement`).

/// Generic code run on the elements of a numeric (not `bool`) tensor.
protocol NumericVisitor {
    associatedtype Result
    func visit<T: NumericElement>(_ elements: [T]) throws -> Result
}

/// Generic code run on the elements of a `float32` or `float64` tensor.
protocol FloatingVisitor {
    associatedtype Result
    func visit<T: FloatingKernel>(_ elements: [T]) throws -> Result
}

/// Generic code run on two tensors of the same element type, any type.
protocol CastablePairVisitor {
    associatedtype Result
    func visit<T: CastableElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Result
}

/// Generic code run on two numeric tensors of the same element type.
protocol NumericPairVisitor {
    associatedtype Result
    func visit<T: NumericElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Result
}

extension Tensor {
    /// - Throws: ``KernelError`` naming `what` for a `bool` tensor.
    @inline(__always)
    func visit<V: NumericVisitor>(_ visitor: V, _ what: String = "input") throws -> V.Result {
        switch storage {
        case let .float32(a): return try visitor.visit(a)
        case let .float64(a): return try visitor.visit(a)
        case let .int64(a): return try visitor.visit(a)
        case let .int32(a): return try visitor.visit(a)
        case let .int8(a): return try visitor.visit(a)
        case let .uint8(a): return try visitor.visit(a)
        case .bool: throw KernelError("\(what) must be numeric, not bool")
        }
    }

    /// - Throws: ``KernelError`` naming `what` for a tensor that is not `float32` or `float64`.
    @inline(__always)
    func visit<V: FloatingVisitor>(_ visitor: V, _ what: String = "input") throws -> V.Result {
        switch storage {
        case let .float32(a): return try visitor.visit(a)
        case let .float64(a): return try visitor.visit(a)
        default: throw KernelError("\(what) must be float32 or float64, not \(dataType)")
        }
    }

    /// Visits `a` and `b` together.
    ///
    /// - Throws: ``KernelError`` if their element types differ.
    @inline(__always)
    static func visit<V: CastablePairVisitor>(_ a: Tensor, _ b: Tensor, _ visitor: V) throws -> V.Result {
        switch (a.storage, b.storage) {
        case let (.float32(x), .float32(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.float64(x), .float64(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int64(x), .int64(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int32(x), .int32(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int8(x), .int8(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.uint8(x), .uint8(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.bool(x), .bool(y)): return try visitor.visit(x, a.shape, y, b.shape)
        default: throw KernelError("inputs must have the same element type, not \(a.dataType) and \(b.dataType)")
        }
    }

    /// Visits numeric `a` and `b` together.
    ///
    /// - Throws: ``KernelError`` if their element types differ or are `bool`.
    @inline(__always)
    static func visit<V: NumericPairVisitor>(_ a: Tensor, _ b: Tensor, _ visitor: V) throws -> V.Result {
        switch (a.storage, b.storage) {
        case let (.float32(x), .float32(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.float64(x), .float64(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int64(x), .int64(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int32(x), .int32(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.int8(x), .int8(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case let (.uint8(x), .uint8(y)): return try visitor.visit(x, a.shape, y, b.shape)
        case (.bool, .bool): throw KernelError("inputs must be numeric, not bool")
        default: throw KernelError("inputs must have the same element type, not \(a.dataType) and \(b.dataType)")
        }
    }
}

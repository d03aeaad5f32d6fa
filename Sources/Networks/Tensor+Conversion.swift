extension Tensor {
    /// The tensor converted to `type` where that is the usual, value-preserving (or
    /// float-narrowing) conversion for inputs and weights: float64 ↔ float32, integers
    /// widened to int64, int64 → int32, uint8 → float32. Otherwise `nil`.
    public func converted(to type: DataType) -> Tensor? {
        if dataType == type { return self }
        switch (storage, type) {
        case let (.float64(v), .float32): return Tensor(shape: shape, elements: v.map(Float.init))
        case let (.float32(v), .float64): return Tensor(shape: shape, elements: v.map(Double.init))
        case let (.int32(v), .int64): return Tensor(shape: shape, elements: v.map(Int64.init))
        case let (.int8(v), .int64): return Tensor(shape: shape, elements: v.map(Int64.init))
        case let (.uint8(v), .int64): return Tensor(shape: shape, elements: v.map(Int64.init))
        case let (.uint8(v), .float32): return Tensor(shape: shape, elements: v.map(Float.init))
        case let (.int64(v), .int32): return Tensor(shape: shape, elements: v.map { Int32(truncatingIfNeeded: $0) })
        default: return nil
        }
    }
}

import Formats

extension Tensor {
    /// A tensor holding the values of an array read from a file: float16/bfloat16 become
    /// float32, 16-bit integers and uint32 widen to int32/int64, the rest keep their type.
    public init(_ array: NumericArray) {
        let storage: TensorStorage
        switch (array.elementType, array.storage) {
        case let (.int8, .int32(values)): storage = .int8(values.map { Int8(truncatingIfNeeded: $0) })
        case let (.uint8, .int32(values)): storage = .uint8(values.map { UInt8(truncatingIfNeeded: $0) })
        case let (.bool, .int32(values)): storage = .bool(values.map { $0 != 0 })
        case let (_, .float32(values)): storage = .float32(values)
        case let (_, .float64(values)): storage = .float64(values)
        case let (_, .int32(values)): storage = .int32(values)
        case let (_, .int64(values)): storage = .int64(values)
        }
        self.init(shape: array.shape, storage: storage)
    }
}

extension NumericArray {
    /// The array of a tensor's values, with the tensor's element type.
    public init(_ tensor: Tensor) {
        switch tensor.storage {
        case let .float32(v): self.init(shape: tensor.shape, elementType: .float32, storage: .float32(v))
        case let .float64(v): self.init(shape: tensor.shape, elementType: .float64, storage: .float64(v))
        case let .int64(v): self.init(shape: tensor.shape, elementType: .int64, storage: .int64(v))
        case let .int32(v): self.init(shape: tensor.shape, elementType: .int32, storage: .int32(v))
        case let .int8(v): self.init(shape: tensor.shape, elementType: .int8, storage: .int32(v.map(Int32.init)))
        case let .uint8(v): self.init(shape: tensor.shape, elementType: .uint8, storage: .int32(v.map(Int32.init)))
        case let .bool(v): self.init(shape: tensor.shape, elementType: .bool, storage: .int32(v.map { $0 ? 1 : 0 }))
        }
    }
}

/// Operators that make tensors from attributes and shapes: Constant, ConstantOfShape and
/// Range.
extension ShapeOperators {
    static func constant(_ context: NodeContext) throws -> any Operator {
        let value = try constantValue(context)
        return ClosureOperator { _ in [value] }
    }

    private static func constantValue(_ context: NodeContext) throws -> Tensor {
        let attributes = context.node.attributes
        if attributes["sparse_value"] != nil {
            throw context.unsupported("sparse_value is not supported (the runtime has dense tensors only)")
        }
        if attributes["value_string"] != nil || attributes["value_strings"] != nil {
            throw context.unsupported("string constants are not supported (the runtime has no string tensors)")
        }
        switch attributes["value"] {
        case let .unsupported(problem)?: throw context.unsupported(problem)
        case nil: break
        default: if let tensor = try context.tensor("value") { return tensor }
        }
        switch (attributes["value_float"], attributes["value_floats"], attributes["value_int"], attributes["value_ints"]) {
        case let (.float(v)?, _, _, _): return Tensor(scalar: v)
        case let (_, .floats(v)?, _, _): return Tensor(shape: [v.count], elements: v)
        case let (_, _, .int(v)?, _): return Tensor(scalar: Int64(v))
        case let (_, _, _, .ints(v)?): return TensorMovement.int64Vector(v)
        default:
            throw context.invalid("needs one of the attributes value, value_float, value_floats, value_int, value_ints")
        }
    }

    static func constantOfShape(_ context: NodeContext) throws -> any Operator {
        if case let .unsupported(problem)? = context.node.attributes["value"] { throw context.unsupported(problem) }
        let value = try context.tensor("value") ?? Tensor(scalar: Float(0))
        guard value.count == 1 else { throw context.invalid("attribute 'value' must hold one element, not \(value.count)") }
        return ClosureOperator { inputs in
            let shape = try inputs.required(0).integers("shape")
            let count = try Tensor.checkedCount(shape, elementBytes: value.dataType.elementBytes)
            return [Tensor(shape: shape, storage: value.storage.visit(RepeatVisitor(count: count)))]
        }
    }

    private struct RepeatVisitor: StorageVisitor {
        let count: Int
        func visit<T: TensorElement>(_ elements: [T]) -> TensorStorage {
            T.storage(Array(repeating: elements[0], count: count))
        }
    }

    static func range(_ context: NodeContext) throws -> any Operator {
        ClosureOperator { inputs in
            let operands = try (0..<3).map { try inputs.required($0) }
            guard operands.allSatisfy({ $0.count == 1 && $0.dataType == operands[0].dataType }) else {
                throw KernelError("start, limit and delta must be single elements of one type, not \(operands.map { "\($0.dataType)\($0.shape)" })")
            }
            switch operands[0].dataType {
            case .float32:
                let values = try floatRange(operands).map(Float.init)
                return [Tensor(shape: [values.count], elements: values)]
            case .float64:
                let values = try floatRange(operands)
                return [Tensor(shape: [values.count], elements: values)]
            case .int64: return [try integerRange(operands, as: Int64.self)]
            case .int32: return [try integerRange(operands, as: Int32.self)]
            case .int8: return [try integerRange(operands, as: Int8.self)]
            case .uint8: return [try integerRange(operands, as: UInt8.self)]
            case .bool: throw KernelError("Range is not defined for bool")
            }
        }
    }

    /// `start, start + delta, …` up to (not including) `limit`, computed in `Double`.
    private static func floatRange(_ operands: [Tensor]) throws -> [Double] {
        let (start, limit, delta) = (TensorMovement.doubles(operands[0])[0], TensorMovement.doubles(operands[1])[0],
                                     TensorMovement.doubles(operands[2])[0])
        guard delta != 0, delta.isFinite, start.isFinite, limit.isFinite else {
            throw KernelError("Range needs finite bounds and a nonzero delta (start \(start), limit \(limit), delta \(delta))")
        }
        let count = max(0, ((limit - start) / delta).rounded(.up))
        guard count <= Double(Tensor.maximumCount) else { throw KernelError("Range would produce \(count) elements") }
        _ = try Tensor.checkedCount([Int(count)], elementBytes: 8)
        return (0..<Int(count)).map { start + Double($0) * delta }
    }

    private static func integerRange<T: FixedWidthInteger & TensorElement>(_ operands: [Tensor], as type: T.Type) throws -> Tensor {
        let (start, limit, delta) = (try TensorMovement.scalarInteger(operands[0], what: "start"),
                                     try TensorMovement.scalarInteger(operands[1], what: "limit"),
                                     try TensorMovement.scalarInteger(operands[2], what: "delta"))
        guard delta != 0 else { throw KernelError("Range needs a nonzero delta") }
        let (span, overflow) = delta > 0 ? limit.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(limit)
        guard !overflow else { throw KernelError("Range from \(start) to \(limit) is too long") }
        let count = span > 0 ? 1 + Int(UInt(span - 1) / delta.magnitude) : 0
        _ = try Tensor.checkedCount([count], elementBytes: MemoryLayout<T>.size)
        let values = (0..<count).map { T(truncatingIfNeeded: start + $0 * delta) }
        return Tensor(shape: [count], elements: values)
    }
}

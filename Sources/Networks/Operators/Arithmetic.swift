/// Binary arithmetic with broadcasting: `Add`, `Sub`, `Mul`, `Div`, `Pow`, `Mod`, the
/// variadic `Max`, `Min`, `Sum`, `Mean`, and `BitShift`.
///
/// Both operands must have the same element type, except `Pow`, whose exponent may be of
/// another numeric type (the result has the base's type). Integer semantics are those of
/// ``NumericElement``: wrapping, division truncating toward zero.
enum ArithmeticOperators {
    static let factories: [String: OperatorFactory] = [
        "Add": { _ in specialised(ArithmeticOperator(operation: Add())) },
        "Sub": { _ in specialised(ArithmeticOperator(operation: Subtract())) },
        "Mul": { _ in specialised(ArithmeticOperator(operation: Multiply())) },
        "Div": { _ in specialised(ArithmeticOperator(operation: Divide())) },
        "Max": { _ in specialised(ArithmeticOperator(operation: Maximum())) },
        "Min": { _ in specialised(ArithmeticOperator(operation: Minimum())) },
        "Sum": { _ in specialised(ArithmeticOperator(operation: Add())) },
        "Mean": mean,
        "Pow": { _ in PowOperator() },
        "Mod": mod,
        "BitShift": bitShift,
    ]

    /// `Mod`: NumPy's `mod` (sign of the divisor) by default, C's `fmod` (sign of the
    /// dividend) with `fmod = 1`.
    static func mod(_ context: NodeContext) throws -> any Operator {
        switch try context.int("fmod", default: 0) {
        case 0: return specialised(ArithmeticOperator(operation: Modulo()))
        case 1: return specialised(ArithmeticOperator(operation: TruncatingRemainder()))
        case let other: throw context.invalid("fmod must be 0 or 1, not \(other)")
        }
    }

    /// `Mean`: the sum of the inputs times the reciprocal of their number.
    static func mean(_ context: NodeContext) throws -> any Operator {
        let sum = ArithmeticOperator(operation: Add())
        let scale = FloatingMap(function: Scale(factor: 1 / Double(max(context.node.inputs.count, 1))))
        return ClosureOperator { inputs in try scale.run(sum.run(inputs)) }
    }

    static func bitShift(_ context: NodeContext) throws -> any Operator {
        let direction = try context.require("direction", in: ["LEFT", "RIGHT"], default: "")
        return BitShiftOperator(left: direction == "LEFT")
    }

    // MARK: Operations

    struct Add: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.add(a, b) }
    }

    struct Subtract: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.subtract(a, b) }
    }

    struct Multiply: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.multiply(a, b) }
    }

    struct Divide: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.divide(a, b) }
    }

    struct Maximum: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.maximum(a, b) }
    }

    struct Minimum: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.minimum(a, b) }
    }

    struct Modulo: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.modulo(a, b) }
    }

    struct TruncatingRemainder: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.truncatingRemainder(a, b) }
    }

    struct Power: BinaryArithmetic {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T { T.power(a, b) }
    }

    struct Scale: FloatingFunction {
        let factor: Double
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x * T(factor) }
    }
}

/// An operation on two elements of one numeric type.
protocol BinaryArithmetic: Sendable {
    func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> T
}

/// Folds its inputs left to right with a ``BinaryArithmetic`` operation, broadcasting at
/// each step: two inputs for `Add`, any number for `Sum` or `Max`.
struct ArithmeticOperator<Operation: BinaryArithmetic>: Operator, NumericPairVisitor {
    let operation: Operation

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var result = try inputs.required(0)
        if inputs.count == 1 { _ = try result.visit(NumericCheck()) }
        for index in inputs.indices.dropFirst() {
            result = try Tensor.visit(result, try inputs.required(index), self)
        }
        return [result]
    }

    func visit<T: NumericElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Tensor {
        let (elements, shape) = try ElementLoops.binary(a, aShape, b, bShape) { operation($0, $1) }
        return Tensor(shape: shape, elements: elements)
    }
}

/// Throws for a tensor that is not numeric.
private struct NumericCheck: NumericVisitor {
    func visit<T: NumericElement>(_ elements: [T]) {}
}

/// `Pow`: same-type operands use the type's own power (exact for integers); an exponent of
/// another type is taken as `Double`, and the result converted to the base's type as
/// NumPy's `power(a, b).astype(a.dtype)` does (integers truncate).
struct PowOperator: Operator, NumericVisitor {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let base = try inputs.required(0)
        let exponent = try inputs.required(1)
        if base.dataType == exponent.dataType {
            if exponent.count == 1, (try? exponent.scalarDouble("exponent")) == 2, base.dataType.isFloatingPoint {
                // Squaring, common in exported variance computations: one multiplication.
                return try ArithmeticOperator(operation: ArithmeticOperators.Multiply()).run([base, base])
            }
            return try ArithmeticOperator(operation: ArithmeticOperators.Power()).run([base, exponent])
        }
        let exponents = try exponent.visit(self, "exponent")
        return [try base.visit(MixedPower(exponents: exponents, exponentShape: exponent.shape, baseShape: base.shape), "base")]
    }

    /// The exponents as `Double`.
    func visit<T: NumericElement>(_ elements: [T]) -> [Double] {
        ElementLoops.map(elements) { $0.doubleValue }
    }

    private struct MixedPower: NumericVisitor {
        let exponents: [Double]
        let exponentShape: [Int]
        let baseShape: [Int]

        func visit<T: NumericElement>(_ elements: [T]) throws -> Tensor {
            let (result, shape) = try ElementLoops.binary(elements, baseShape, exponents, exponentShape) { a, b in
                T(castingFloat: Double.pow(a.doubleValue, b))
            }
            return Tensor(shape: shape, elements: result)
        }
    }
}

/// `BitShift`: each element of the first input shifted by the second, for integer types.
/// Shifts that are negative or not less than the bit width give 0 (−1 for a right shift of
/// a negative number), as the reference implementation does.
struct BitShiftOperator: Operator {
    let left: Bool

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        switch (a.storage, b.storage) {
        case let (.int64(x), .int64(y)): return [try shift(x, a.shape, y, b.shape)]
        case let (.int32(x), .int32(y)): return [try shift(x, a.shape, y, b.shape)]
        case let (.int8(x), .int8(y)): return [try shift(x, a.shape, y, b.shape)]
        case let (.uint8(x), .uint8(y)): return [try shift(x, a.shape, y, b.shape)]
        default: throw KernelError("inputs must be integers of the same type, not \(a.dataType) and \(b.dataType)")
        }
    }

    private func shift<T: IntegerElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Tensor {
        let width = T(T.bitWidth)
        let (elements, shape) = left
            ? try ElementLoops.binary(a, aShape, b, bShape) { x, s in s < 0 || s >= width ? 0 : x &<< s }
            : try ElementLoops.binary(a, aShape, b, bShape) { x, s in s < 0 || s >= width ? (x < 0 ? 0 &- 1 : 0) : x &>> s }
        return Tensor(shape: shape, elements: elements)
    }
}

/// Comparisons (→ `bool`), logical connectives on `bool` tensors, and `Where`, all with
/// broadcasting. Every comparison involving NaN is false, as IEEE 754 has it.
enum ComparisonOperators {
    static let factories: [String: OperatorFactory] = [
        "Equal": { _ in EqualOperator() },
        "Greater": { _ in specialised(ComparisonOperator(comparison: Greater())) },
        "Less": { _ in specialised(ComparisonOperator(comparison: Less())) },
        "GreaterOrEqual": { _ in specialised(ComparisonOperator(comparison: GreaterOrEqual())) },
        "LessOrEqual": { _ in specialised(ComparisonOperator(comparison: LessOrEqual())) },
        "And": { _ in LogicalOperator(connective: .and) },
        "Or": { _ in LogicalOperator(connective: .or) },
        "Xor": { _ in LogicalOperator(connective: .xor) },
        "Not": { _ in
            ClosureOperator { inputs in
                let x = try inputs.required(0)
                guard case let .bool(a) = x.storage else { throw KernelError("input must be bool, not \(x.dataType)") }
                return [Tensor(shape: x.shape, elements: ElementLoops.map(a) { !$0 })]
            }
        },
        "Where": { _ in WhereOperator() },
    ]

    struct Greater: Comparison {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> Bool { a > b }
    }

    struct Less: Comparison {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> Bool { a < b }
    }

    struct GreaterOrEqual: Comparison {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> Bool { a >= b }
    }

    struct LessOrEqual: Comparison {
        @inline(__always) func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> Bool { a <= b }
    }
}

/// An ordering test of two elements of one numeric type.
protocol Comparison: Sendable {
    func callAsFunction<T: NumericElement>(_ a: T, _ b: T) -> Bool
}

/// Compares two numeric tensors of one type element by element, with broadcasting.
struct ComparisonOperator<Test: Comparison>: Operator, NumericPairVisitor {
    let comparison: Test

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try Tensor.visit(try inputs.required(0), try inputs.required(1), self)]
    }

    func visit<T: NumericElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Tensor {
        let (elements, shape) = try ElementLoops.binary(a, aShape, b, bShape) { comparison($0, $1) }
        return Tensor(shape: shape, elements: elements)
    }
}

/// `Equal`, for every element type including `bool`.
struct EqualOperator: Operator, CastablePairVisitor {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try Tensor.visit(try inputs.required(0), try inputs.required(1), self)]
    }

    func visit<T: CastableElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Tensor {
        let (elements, shape) = try ElementLoops.binary(a, aShape, b, bShape) { $0 == $1 }
        return Tensor(shape: shape, elements: elements)
    }
}

/// `And`, `Or` and `Xor` of two `bool` tensors, with broadcasting.
struct LogicalOperator: Operator {
    enum Connective { case and, or, xor }
    let connective: Connective

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0)
        let b = try inputs.required(1)
        guard case let .bool(x) = a.storage, case let .bool(y) = b.storage else {
            throw KernelError("inputs must be bool, not \(a.dataType) and \(b.dataType)")
        }
        let (elements, shape): ([Bool], [Int])
        switch connective {
        case .and: (elements, shape) = try ElementLoops.binary(x, a.shape, y, b.shape) { $0 && $1 }
        case .or: (elements, shape) = try ElementLoops.binary(x, a.shape, y, b.shape) { $0 || $1 }
        case .xor: (elements, shape) = try ElementLoops.binary(x, a.shape, y, b.shape) { $0 != $1 }
        }
        return [Tensor(shape: shape, elements: elements)]
    }
}

/// `Where(condition, x, y)`: `x` where the condition holds, else `y`, all three broadcast
/// together. `x` and `y` may be of any one element type.
///
/// A scalar branch (the `-inf` of an attention mask) takes the two-operand broadcasting
/// loop; otherwise each operand is read through an index map.
struct WhereOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let condition = try inputs.required(0)
        guard case let .bool(c) = condition.storage else {
            throw KernelError("condition must be bool, not \(condition.dataType)")
        }
        let x = try inputs.required(1)
        let y = try inputs.required(2)
        let shape = try Broadcast.shape([condition.shape, x.shape, y.shape])
        return [try Tensor.visit(x, y, Selection(condition: c, conditionShape: condition.shape, shape: shape))]
    }

    private struct Selection: CastablePairVisitor {
        let condition: [Bool]
        let conditionShape: [Int]
        let shape: [Int]

        func visit<T: CastableElement>(_ x: [T], _ xShape: [Int], _ y: [T], _ yShape: [Int]) throws -> Tensor {
            if y.count == 1 && Broadcast.shape(conditionShape, xShape) == shape {
                let other = y[0]
                let (elements, _) = try ElementLoops.binary(condition, conditionShape, x, xShape) { $0 ? $1 : other }
                return Tensor(shape: shape, elements: elements)
            }
            if x.count == 1 && Broadcast.shape(conditionShape, yShape) == shape {
                let other = x[0]
                let (elements, _) = try ElementLoops.binary(condition, conditionShape, y, yShape) { $0 ? other : $1 }
                return Tensor(shape: shape, elements: elements)
            }
            let count = Tensor.count(shape)
            var elements: [T] = ElementLoops.uninitialized(count)
            select(&elements, count, condition, x, y, maps: (
                Broadcast.indexMap(of: conditionShape, in: shape),
                Broadcast.indexMap(of: xShape, in: shape),
                Broadcast.indexMap(of: yShape, in: shape)))
            return Tensor(shape: shape, elements: elements)
        }

        private func select<T>(
            _ out: UnsafeMutablePointer<T>, _ count: Int, _ condition: UnsafePointer<Bool>,
            _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, maps: ([Int], [Int], [Int])
        ) {
            for i in 0..<count { out[i] = condition[maps.0[i]] ? x[maps.1[i]] : y[maps.2[i]] }
        }
    }
}

private extension Broadcast {
    /// The broadcast shape of two shapes, or `nil` if they do not broadcast.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? { try? shape([a, b]) }
}

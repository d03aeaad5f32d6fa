/// Reductions over axes (`ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin`, `ReduceProd`,
/// `ReduceL1`, `ReduceL2`, `ReduceSumSquare`, `ReduceLogSum`, `ReduceLogSumExp`), the
/// index reductions `ArgMax` and `ArgMin`, and the running sum `CumSum`.
///
/// The axes are an attribute until the operator set in which they became an optional
/// second input (13 for `ReduceSum`, 18 for the others). Without axes every axis is
/// reduced, unless `noop_with_empty_axes` is set, which returns the input unchanged.
/// Reducing an empty set gives the operation's identity: 0 for sums, 1 for products, −∞
/// for `ReduceMax` and `ReduceLogSumExp`, +∞ for `ReduceMin`.
///
/// ## Design notes
/// A set of axes is reduced in passes, one per run of adjacent reduced axes, innermost
/// first. A pass sees its input as `[outer, extent, inner]` and folds the middle: along
/// contiguous rows when `inner` is 1, otherwise into a row of `inner` accumulators, so
/// that reads stay contiguous; no pass builds an index map. This is exact because each
/// reduction is a fold of an associative operation, finished once at the end: a mean is a
/// sum then a division, `ReduceL2` a sum of squares then a square root, and
/// `ReduceLogSumExp` a maximum `m` followed by `m + ln Σ e^(x − m)`. The operations are
/// types (``FoldOperation``) rather than closures: passed as closures through the pass
/// functions they ended up called through function values, once per element (ten times
/// slower when measured).
enum ReductionOperators {
    static let factories: [String: OperatorFactory] = [
        "ReduceSum": reduction(.sum, axesInputSince: 13),
        "ReduceMean": reduction(.mean, axesInputSince: 18),
        "ReduceMax": reduction(.max, axesInputSince: 18),
        "ReduceMin": reduction(.min, axesInputSince: 18),
        "ReduceProd": reduction(.product, axesInputSince: 18),
        "ReduceL1": reduction(.l1, axesInputSince: 18),
        "ReduceL2": reduction(.l2, axesInputSince: 18),
        "ReduceSumSquare": reduction(.sumSquare, axesInputSince: 18),
        "ReduceLogSum": reduction(.logSum, axesInputSince: 18),
        "ReduceLogSumExp": reduction(.logSumExp, axesInputSince: 18),
        "ArgMax": { context in try IndexReductionOperator(context, largest: true) },
        "ArgMin": { context in try IndexReductionOperator(context, largest: false) },
        "CumSum": cumulativeSum,
    ]

    /// CumSum: running sums along the axis that input 1 (a scalar or one-element tensor)
    /// names; `exclusive` leaves each element out of its own sum, `reverse` runs from the
    /// end. Integer sums wrap, as every integer operator here does.
    static func cumulativeSum(_ context: NodeContext) throws -> any Operator {
        let exclusive = try context.int("exclusive", default: 0) != 0
        let reverse = try context.int("reverse", default: 0) != 0
        return ClosureOperator { inputs in
            let x = try inputs.required(0)
            let axis = try TensorMovement.axis(try TensorMovement.scalarInteger(try inputs.required(1), what: "axis"), rank: x.rank)
            let extent = x.shape[axis]
            let inner = x.shape[(axis + 1)...].reduce(1, *)
            let outer = x.shape[..<axis].reduce(1, *)
            let storage = try x.visit(RunningSum(outer: outer, extent: extent, inner: inner, exclusive: exclusive, reverse: reverse))
            return [Tensor(shape: x.shape, storage: storage)]
        }
    }

    /// Sums along the middle axis of `[outer, extent, inner]`, one row of `inner` running
    /// totals per outer index, so that reads stay contiguous.
    private struct RunningSum: NumericVisitor {
        let outer: Int, extent: Int, inner: Int
        let exclusive: Bool, reverse: Bool

        func visit<T: NumericElement>(_ elements: [T]) throws -> TensorStorage {
            var result = elements
            var totals = [T](repeating: T.zero, count: inner)
            let steps = reverse ? Array((0..<extent).reversed()) : Array(0..<extent)
            for o in 0..<outer {
                for i in 0..<inner { totals[i] = T.zero }
                for k in steps {
                    let row = (o * extent + k) * inner
                    for i in 0..<inner {
                        let value = elements[row + i]
                        if exclusive {
                            result[row + i] = totals[i]
                            totals[i] = T.add(totals[i], value)
                        } else {
                            totals[i] = T.add(totals[i], value)
                            result[row + i] = totals[i]
                        }
                    }
                }
            }
            return T.storage(result)
        }
    }

    static func reduction(_ kind: ReduceOperator.Kind, axesInputSince version: Int) -> OperatorFactory {
        { context in
            ReduceOperator(
                kind: kind,
                attributeAxes: try context.ints("axes"),
                readsAxesInput: context.opset >= version,
                keepDims: try context.int("keepdims", default: 1) != 0,
                noopWithEmptyAxes: try context.int("noop_with_empty_axes", default: 0) != 0)
        }
    }
}

/// A `Reduce…` operator.
struct ReduceOperator: Operator {
    enum Kind { case sum, mean, max, min, product, l1, l2, sumSquare, logSum, logSumExp }

    let kind: Kind
    /// The `axes` attribute, if the node has one.
    let attributeAxes: [Int]?
    /// Whether input 1 holds the axes (opset 13 for `ReduceSum`, 18 for the others).
    let readsAxesInput: Bool
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        var axes = attributeAxes ?? []
        if attributeAxes == nil, readsAxesInput, let tensor = inputs.optional(1) {
            axes = try tensor.integers("axes")
        }
        if axes.isEmpty {
            if noopWithEmptyAxes { return [x] }
            axes = Array(0..<x.rank)
        }
        let plan = try ReductionPlan(shape: x.shape, axes: axes)
        let shape = keepDims ? plan.keptShape : plan.droppedShape
        let storage: TensorStorage
        switch x.storage {
        case let .float32(a): storage = .float32(try floating(a, plan))
        case let .float64(a): storage = .float64(try floating(a, plan))
        case let .int64(a): storage = .int64(try numeric(a, plan))
        case let .int32(a): storage = .int32(try numeric(a, plan))
        case let .int8(a): storage = .int8(try numeric(a, plan))
        case let .uint8(a): storage = .uint8(try numeric(a, plan))
        case let .bool(a):
            switch kind {
            case .max: storage = .bool(plan.fold(a, AnyTrue()))
            case .min: storage = .bool(plan.fold(a, AllTrue()))
            default: throw KernelError("input must be numeric, not bool")
            }
        }
        return [Tensor(shape: shape, storage: storage)]
    }

    private func numeric<T: NumericElement>(_ x: [T], _ plan: ReductionPlan) throws -> [T] {
        switch kind {
        case .sum: return plan.fold(x, Sum<T>())
        case .sumSquare: return plan.fold(x, SumOfSquares<T>())
        case .l1: return plan.fold(x, SumOfMagnitudes<T>())
        case .product: return plan.fold(x, Product<T>())
        case .max: return plan.fold(x, Largest<T>())
        case .min: return plan.fold(x, Smallest<T>())
        case .mean:
            let count = T(castingInteger: Int64(plan.reducedCount))
            return ElementLoops.map(plan.fold(x, Sum<T>())) { T.divide($0, count) }
        case .l2, .logSum, .logSumExp:
            throw KernelError("input must be float32 or float64, not \(T.dataType)")
        }
    }

    private func floating<T: FloatingKernel>(_ x: [T], _ plan: ReductionPlan) throws -> [T] {
        switch kind {
        case .l2:
            return ElementLoops.map(plan.fold(x, SumOfSquares<T>())) { $0.squareRoot() }
        case .logSum:
            return ElementLoops.map(plan.fold(x, Sum<T>())) { T.log($0) }
        case .logSumExp:
            // Shifting by the maximum keeps every exponential in (0, 1]; an infinite or
            // empty slice is not shifted, so that it gives ±∞ rather than NaN.
            let shifts = ElementLoops.map(plan.fold(x, Largest<T>())) { $0.isFinite ? $0 : 0 }
            let exponentials = try ElementLoops.binary(x, plan.shape, shifts, plan.keptShape) { T.exp($0 - $1) }.elements
            let sums = plan.fold(exponentials, Sum<T>())
            return try ElementLoops.binary(sums, plan.keptShape, shifts, plan.keptShape) { T.log($0) + $1 }.elements
        default:
            return try numeric(x, plan)
        }
    }
}

/// How a reduction over a set of axes runs: a pass per run of adjacent reduced axes.
struct ReductionPlan {
    struct Pass {
        let outer: Int
        let extent: Int
        let inner: Int
    }

    let shape: [Int]
    /// The passes, innermost run of axes first.
    let passes: [Pass]
    /// The shape with every reduced axis kept as 1, and with them dropped.
    let keptShape: [Int]
    let droppedShape: [Int]
    /// The number of elements folded into each result.
    let reducedCount: Int

    /// - Throws: ``KernelError`` for an axis outside `-rank..<rank`.
    init(shape: [Int], axes: [Int]) throws {
        let rank = shape.count
        var reduced = Array(repeating: false, count: rank)
        for axis in axes {
            guard axis >= -rank && axis < rank else {
                throw KernelError("axis \(axis) is out of range for rank \(rank)")
            }
            reduced[axis < 0 ? axis + rank : axis] = true
        }
        var working = shape
        var passes: [Pass] = []
        var end = rank
        while end > 0 {
            guard reduced[end - 1] else { end -= 1; continue }
            var start = end - 1
            while start > 0 && reduced[start - 1] { start -= 1 }
            passes.append(Pass(
                outer: Tensor.count(Array(working[..<start])),
                extent: Tensor.count(Array(working[start..<end])),
                inner: Tensor.count(Array(working[end...]))))
            for axis in start..<end { working[axis] = 1 }
            end = start
        }
        self.shape = shape
        self.passes = passes
        keptShape = working
        droppedShape = shape.indices.filter { !reduced[$0] }.map { shape[$0] }
        reducedCount = Tensor.count(shape.indices.filter { reduced[$0] }.map { shape[$0] })
    }

    /// `x` reduced by `operation`.
    func fold<Operation: FoldOperation>(_ x: [Operation.Element], _ operation: Operation) -> [Operation.Element] {
        guard let first = passes.first else { return ElementLoops.map(x) { operation.prepare($0) } }
        var result = Self.fold(x, first, operation)
        for pass in passes.dropFirst() {
            result = Self.fold(result, pass, Combining(operation: operation))
        }
        return result
    }

    /// One pass over `x` viewed as `[outer, extent, inner]`.
    private static func fold<Operation: FoldOperation>(
        _ x: [Operation.Element], _ pass: Pass, _ operation: Operation
    ) -> [Operation.Element] {
        var result: [Operation.Element] = ElementLoops.uninitialized(pass.outer * pass.inner)
        fold(&result, x, pass, operation)
        return result
    }

    private static func fold<Operation: FoldOperation>(
        _ out: UnsafeMutablePointer<Operation.Element>, _ x: UnsafePointer<Operation.Element>,
        _ pass: Pass, _ operation: Operation
    ) {
        let (outer, extent, inner) = (pass.outer, pass.extent, pass.inner)
        let initial = operation.initial
        if inner == 1 {
            // Four accumulators: independent chains for the pipeline, and shorter sums for
            // accuracy.
            for row in 0..<outer {
                let start = row * extent
                var a0 = initial, a1 = initial, a2 = initial, a3 = initial
                var k = 0
                while k + 4 <= extent {
                    a0 = operation.combine(a0, operation.prepare(x[start + k]))
                    a1 = operation.combine(a1, operation.prepare(x[start + k + 1]))
                    a2 = operation.combine(a2, operation.prepare(x[start + k + 2]))
                    a3 = operation.combine(a3, operation.prepare(x[start + k + 3]))
                    k += 4
                }
                while k < extent {
                    a0 = operation.combine(a0, operation.prepare(x[start + k]))
                    k += 1
                }
                out[row] = operation.combine(operation.combine(a0, a1), operation.combine(a2, a3))
            }
        } else {
            for block in 0..<outer {
                let target = out + block * inner
                for j in 0..<inner { target[j] = initial }
                for k in 0..<extent {
                    let source = x + (block * extent + k) * inner
                    for j in 0..<inner { target[j] = operation.combine(target[j], operation.prepare(source[j])) }
                }
            }
        }
    }
}

// MARK: - Fold operations

/// A reduction as a fold: every result is `initial` combined with `prepare` of each element
/// of its slice. A type rather than closures, so that every fold is specialised for it.
protocol FoldOperation {
    associatedtype Element: BitwiseCopyable
    var initial: Element { get }
    func prepare(_ x: Element) -> Element
    func combine(_ a: Element, _ b: Element) -> Element
}

/// `operation` without its `prepare`: for the passes after the first.
private struct Combining<Operation: FoldOperation>: FoldOperation {
    let operation: Operation
    var initial: Operation.Element { operation.initial }
    @inline(__always) func prepare(_ x: Operation.Element) -> Operation.Element { x }
    @inline(__always) func combine(_ a: Operation.Element, _ b: Operation.Element) -> Operation.Element {
        operation.combine(a, b)
    }
}

private struct Sum<T: NumericElement>: FoldOperation {
    var initial: T { .zero }
    @inline(__always) func prepare(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.add(a, b) }
}

private struct SumOfSquares<T: NumericElement>: FoldOperation {
    var initial: T { .zero }
    @inline(__always) func prepare(_ x: T) -> T { T.multiply(x, x) }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.add(a, b) }
}

private struct SumOfMagnitudes<T: NumericElement>: FoldOperation {
    var initial: T { .zero }
    @inline(__always) func prepare(_ x: T) -> T { T.absolute(x) }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.add(a, b) }
}

private struct Product<T: NumericElement>: FoldOperation {
    var initial: T { .one }
    @inline(__always) func prepare(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.multiply(a, b) }
}

private struct Largest<T: NumericElement>: FoldOperation {
    var initial: T { .lowest }
    @inline(__always) func prepare(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.maximum(a, b) }
}

private struct Smallest<T: NumericElement>: FoldOperation {
    var initial: T { .highest }
    @inline(__always) func prepare(_ x: T) -> T { x }
    @inline(__always) func combine(_ a: T, _ b: T) -> T { T.minimum(a, b) }
}

private struct AnyTrue: FoldOperation {
    var initial: Bool { false }
    @inline(__always) func prepare(_ x: Bool) -> Bool { x }
    @inline(__always) func combine(_ a: Bool, _ b: Bool) -> Bool { a || b }
}

private struct AllTrue: FoldOperation {
    var initial: Bool { true }
    @inline(__always) func prepare(_ x: Bool) -> Bool { x }
    @inline(__always) func combine(_ a: Bool, _ b: Bool) -> Bool { a && b }
}

/// `ArgMax` and `ArgMin`: the `int64` index of the largest (smallest) element along `axis`,
/// the first one on ties unless `select_last_index` is set.
struct IndexReductionOperator: Operator {
    let axis: Int
    let keepDims: Bool
    let largest: Bool
    let lastOnTies: Bool

    init(_ context: NodeContext, largest: Bool) throws {
        axis = try context.int("axis", default: 0)
        keepDims = try context.int("keepdims", default: 1) != 0
        lastOnTies = try context.int("select_last_index", default: 0) != 0
        self.largest = largest
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let rank = x.rank
        guard axis >= -rank && axis < rank else { throw KernelError("axis \(axis) is out of range for rank \(rank)") }
        let a = axis < 0 ? axis + rank : axis
        guard x.shape[a] > 0 else { throw KernelError("cannot take the index of an extreme along an empty axis") }
        let scan = Scan(
            outer: Tensor.count(Array(x.shape[..<a])), length: x.shape[a],
            inner: Tensor.count(Array(x.shape[(a + 1)...])), largest: largest, lastOnTies: lastOnTies)
        var shape = x.shape
        if keepDims { shape[a] = 1 } else { shape.remove(at: a) }
        return [Tensor(shape: shape, elements: try x.visit(scan))]
    }

    /// The input as `[outer, length, inner]`, scanned along the middle.
    private struct Scan: NumericVisitor {
        let outer: Int
        let length: Int
        let inner: Int
        let largest: Bool
        let lastOnTies: Bool

        func visit<T: NumericElement>(_ x: [T]) -> [Int64] {
            switch (largest, lastOnTies) {
            case (true, false): return scan(x) { $0 > $1 }
            case (true, true): return scan(x) { $0 >= $1 }
            case (false, false): return scan(x) { $0 < $1 }
            case (false, true): return scan(x) { $0 <= $1 }
            }
        }

        /// `better(candidate, best)` decides whether a later element replaces the best so far.
        @inline(__always)
        private func scan<T: BitwiseCopyable>(_ x: [T], _ better: (T, T) -> Bool) -> [Int64] {
            var indices: [Int64] = ElementLoops.uninitialized(outer * inner)
            if inner == 1 {
                scanRows(&indices, x, better)
            } else {
                var best: [T] = ElementLoops.uninitialized(inner)
                scanColumns(&indices, x, &best, better)
            }
            return indices
        }

        @inline(__always)
        private func scanRows<T>(_ indices: UnsafeMutablePointer<Int64>, _ x: UnsafePointer<T>, _ better: (T, T) -> Bool) {
            for row in 0..<outer {
                let start = row * length
                var best = x[start], index = 0
                for k in 1..<length where better(x[start + k], best) {
                    best = x[start + k]
                    index = k
                }
                indices[row] = Int64(index)
            }
        }

        /// A row of running extremes in `best`, updated row by row so that reads stay
        /// contiguous.
        @inline(__always)
        private func scanColumns<T>(
            _ indices: UnsafeMutablePointer<Int64>, _ x: UnsafePointer<T>, _ best: UnsafeMutablePointer<T>,
            _ better: (T, T) -> Bool
        ) {
            for block in 0..<outer {
                let start = block * length * inner
                let target = indices + block * inner
                for j in 0..<inner {
                    best[j] = x[start + j]
                    target[j] = 0
                }
                for k in 1..<length {
                    let row = x + start + k * inner
                    for j in 0..<inner where better(row[j], best[j]) {
                        best[j] = row[j]
                        target[j] = Int64(k)
                    }
                }
            }
        }
    }
}

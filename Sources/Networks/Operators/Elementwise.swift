/// Element-wise operators: arithmetic and comparisons with broadcasting
/// (`Arithmetic.swift`, `Comparison.swift`), math functions (`MathFunctions.swift`),
/// activations (`Activations.swift`), `Softmax`/`LogSoftmax` (`Softmax.swift`), `Cast`
/// (`Cast.swift`), and the pass-through `Identity` and `Dropout` here.
///
/// ## Design notes
/// - Each operation is a small type with a generic `callAsFunction` (``FloatingFunction``,
///   ``NumericFunction``, ``BinaryArithmetic``, …), and one operator struct per shape of
///   operation runs it: the element type is switched on once per node, and the loop is
///   specialised for the operation and the type. Storing the operation as a closure was
///   rejected: the call could not be inlined, so float32 loops would not vectorise. For
///   the same reason operators of generic types reach the executor through
///   ``specialised(_:)``.
/// - Broadcasting walks contiguous runs (``ElementLoops/binary(_:_:_:_:_:)``) instead of
///   building an index per element; `Where`, the one three-way broadcast, uses index maps
///   unless one branch is a scalar.
enum ElementwiseOperators {
    static let factories: [String: OperatorFactory] = {
        var table: [String: OperatorFactory] = [
            "Identity": { _ in ClosureOperator { inputs in [try inputs.required(0)] } },
            "Dropout": dropout,
        ]
        for family in [
            ArithmeticOperators.factories, ComparisonOperators.factories, MathOperators.factories,
            ActivationOperators.factories, SoftmaxOperators.factories, CastOperators.factories,
        ] {
            table.merge(family) { first, _ in first }
        }
        return table
    }()

    /// `Dropout` at inference: the input unchanged and, if asked for, a mask of all `true`
    /// (of the input's type before opset 10). Training mode with a non-zero ratio would
    /// drop elements at random, so it fails instead of silently doing something else.
    static func dropout(_ context: NodeContext) throws -> any Operator {
        let wantsMask = context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
        let boolMask = context.opset >= 10
        let trainingInput = context.opset >= 12
        return ClosureOperator { inputs in
            let x = try inputs.required(0)
            if trainingInput, let training = inputs.optional(2), try training.scalarBool("training_mode") {
                let ratio = try inputs.optional(1).map { try $0.scalarDouble("ratio") } ?? 0.5
                if ratio != 0 {
                    throw KernelError("training-mode dropout (random masking) is not supported; the runtime only runs inference")
                }
            }
            guard wantsMask else { return [x] }
            let ones = TensorStorage.bool(Array(repeating: true, count: x.count))
            let mask = boolMask ? ones : CastOperators.cast(ones, to: x.dataType)
            return [x, Tensor(shape: x.shape, storage: mask)]
        }
    }
}

/// `kernel` as an operator that runs its specialised code.
///
/// Wrap every operator of a generic type in this: an `any Operator` holding, say, a
/// `FloatingMap<Exp>` runs through the conformance's witness table, which calls the
/// unspecialised generic `run`, so each element would pay for calls through the element
/// and function witnesses (measured: 20–40 ns per element instead of about 1). A closure
/// created where the kernel's type is concrete calls the specialised `run` directly.
@inline(__always)
func specialised<Kernel: Operator>(_ kernel: Kernel) -> any Operator {
    ClosureOperator { inputs in try kernel.run(inputs) }
}

// MARK: - Operations of one element

/// A function of one floating-point element.
protocol FloatingFunction: Sendable {
    func callAsFunction<T: FloatingKernel>(_ x: T) -> T

    /// The function over `count` float32 values. By default element by element; functions
    /// built on `exp` or `erf` override it with ``VectorMath``'s eight-lane forms.
    func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int)
}

extension FloatingFunction {
    @inline(__always)
    func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        for i in 0..<count { out[i] = self(x[i]) }
    }
}

/// A function of one element of any numeric type.
protocol NumericFunction: Sendable {
    func callAsFunction<T: NumericElement>(_ x: T) -> T
}

/// A test of one floating-point element.
protocol FloatingPredicate: Sendable {
    func callAsFunction<T: FloatingKernel>(_ x: T) -> Bool
}

/// Applies a ``FloatingFunction`` to every element of a `float32` or `float64` tensor.
struct FloatingMap<Function: FloatingFunction>: Operator, FloatingVisitor {
    let function: Function

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        return [Tensor(shape: x.shape, storage: try x.visit(self))]
    }

    /// Split between two threads for large tensors: these functions (exponentials, erf,
    /// trigonometry) cost far more than the memory traffic.
    func visit<T: FloatingKernel>(_ elements: [T]) -> TensorStorage {
        var result: [T] = ElementLoops.uninitialized(elements.count)
        apply(&result, elements, elements.count)
        return T.storage(result)
    }

    private func apply<T: FloatingKernel>(_ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ count: Int) {
        ElementLoops.inHalves(count) { range in
            if T.self == Float.self {
                let floatOut = UnsafeMutableRawPointer(out + range.lowerBound).assumingMemoryBound(to: Float.self)
                let floatIn = UnsafeRawPointer(x + range.lowerBound).assumingMemoryBound(to: Float.self)
                function.floats(floatOut, floatIn, range.count)
            } else {
                for i in range { out[i] = function(x[i]) }
            }
        }
    }
}

/// Applies a ``NumericFunction`` to every element of a numeric tensor.
struct NumericMap<Function: NumericFunction>: Operator, NumericVisitor {
    let function: Function

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        return [Tensor(shape: x.shape, storage: try x.visit(self))]
    }

    func visit<T: NumericElement>(_ elements: [T]) -> TensorStorage {
        T.storage(ElementLoops.map(elements) { function($0) })
    }
}

/// Applies a ``FloatingPredicate`` to every element, giving a `bool` tensor.
struct FloatingTest<Predicate: FloatingPredicate>: Operator, FloatingVisitor {
    let predicate: Predicate

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        return [Tensor(shape: x.shape, storage: try x.visit(self))]
    }

    func visit<T: FloatingKernel>(_ elements: [T]) -> TensorStorage {
        .bool(ElementLoops.map(elements) { predicate($0) })
    }
}

extension Tensor {
    /// The single element of a scalar (or one-element) tensor, as a `Double`.
    func scalarDouble(_ what: String) throws -> Double {
        guard count == 1 else { throw KernelError("\(what) must be a scalar, not shape \(shape)") }
        switch storage {
        case let .float32(a): return Double(a[0])
        case let .float64(a): return a[0]
        case let .int64(a): return Double(a[0])
        case let .int32(a): return Double(a[0])
        case let .int8(a): return Double(a[0])
        case let .uint8(a): return Double(a[0])
        case let .bool(a): return a[0] ? 1 : 0
        }
    }

    /// The single element of a scalar (or one-element) `bool` tensor.
    func scalarBool(_ what: String) throws -> Bool {
        guard case let .bool(a) = storage, a.count == 1 else {
            throw KernelError("\(what) must be a bool scalar, not \(dataType) of shape \(shape)")
        }
        return a[0]
    }
}

/// Activation functions. `Relu` and `Clip` take every numeric type, `PRelu` broadcasts its
/// slope to the input; the others are for `float32` and `float64`, with their ONNX
/// attributes (and defaults) read once when the network is loaded.
enum ActivationOperators {
    static let factories: [String: OperatorFactory] = [
        "Relu": { _ in specialised(NumericMap(function: Relu())) },
        "LeakyRelu": { context in specialised(FloatingMap(function: LeakyRelu(alpha: try context.float("alpha", default: 0.01)))) },
        "PRelu": { _ in PReluOperator() },
        "ThresholdedRelu": { context in specialised(FloatingMap(function: ThresholdedRelu(alpha: try context.float("alpha", default: 1)))) },
        "Elu": { context in specialised(FloatingMap(function: Elu(alpha: try context.float("alpha", default: 1)))) },
        "Selu": { context in
            specialised(FloatingMap(function: Selu(
                alpha: try context.float("alpha", default: 1.67326319217681884765625),
                gamma: try context.float("gamma", default: 1.05070102214813232421875))))
        },
        "Celu": { context in specialised(FloatingMap(function: Celu(alpha: try context.float("alpha", default: 1)))) },
        "Sigmoid": { _ in specialised(FloatingMap(function: Sigmoid())) },
        "HardSigmoid": { context in
            specialised(FloatingMap(function: HardSigmoid(
                alpha: try context.float("alpha", default: 0.2), beta: try context.float("beta", default: 0.5))))
        },
        "HardSwish": { _ in specialised(FloatingMap(function: HardSwish())) },
        "Gelu": { context in
            switch try context.require("approximate", in: ["none", "tanh"], default: "none") {
            case "tanh": return specialised(FloatingMap(function: GeluTanh()))
            default: return specialised(FloatingMap(function: Gelu()))
            }
        },
        "Softplus": { _ in specialised(FloatingMap(function: Softplus())) },
        "Softsign": { _ in specialised(FloatingMap(function: Softsign())) },
        "Mish": { _ in specialised(FloatingMap(function: Mish())) },
        "Clip": clip,
    ]

    /// `Clip`: bounds are attributes before opset 11, optional scalar inputs from 11.
    static func clip(_ context: NodeContext) throws -> any Operator {
        guard context.opset < 11 else { return ClipOperator(attributeBounds: nil) }
        let lower = context.has("min") ? Double(try context.float("min", default: 0)) : nil
        let upper = context.has("max") ? Double(try context.float("max", default: 0)) : nil
        return ClipOperator(attributeBounds: (lower, upper))
    }

    /// `max(x, 0)`.
    struct Relu: NumericFunction {
        @inline(__always) func callAsFunction<T: NumericElement>(_ x: T) -> T { T.maximum(x, .zero) }
    }

    /// `x` for `x ≥ 0`, else `α·x`.
    struct LeakyRelu: FloatingFunction {
        let alpha: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x < 0 ? T(alpha) * x : x }
    }

    /// `x` for `x > α`, else 0.
    struct ThresholdedRelu: FloatingFunction {
        let alpha: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x > T(alpha) ? x : 0 }
    }

    /// `x` for `x ≥ 0`, else `α·(eˣ − 1)`.
    struct Elu: FloatingFunction {
        let alpha: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x < 0 ? T(alpha) * T.expm1(x) : x }
    }

    /// `γ·x` for `x > 0`, else `γ·α·(eˣ − 1)`.
    struct Selu: FloatingFunction {
        let alpha: Float
        let gamma: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            T(gamma) * (x > 0 ? x : T(alpha) * T.expm1(x))
        }
    }

    /// `max(0, x) + min(0, α·(e^(x/α) − 1))`.
    struct Celu: FloatingFunction {
        let alpha: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            x > 0 ? x : T(alpha) * T.expm1(x / T(alpha))
        }
    }

    /// `1 / (1 + e⁻ˣ)`.
    struct Sigmoid: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

        func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
            VectorMath.sigmoid(out, x, count)
        }
    }

    /// `max(0, min(1, α·x + β))`.
    struct HardSigmoid: FloatingFunction {
        let alpha: Float
        let beta: Float
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            Swift.max(0, Swift.min(1, T(alpha) * x + T(beta)))
        }
    }

    /// `x · max(0, min(1, x/6 + 1/2))`.
    struct HardSwish: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
        }
    }

    /// `x·Φ(x) = x/2 · (1 + erf(x/√2))`.
    struct Gelu: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            0.5 * x * (1 + T.erf(x * T(0.70710678118654752440)))
        }

        func floats(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
            VectorMath.gelu(out, x, count)
        }
    }

    /// `x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    struct GeluTanh: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            0.5 * x * (1 + T.tanh(T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)))
        }
    }

    /// `ln(1 + eˣ)`, as `max(x, 0) + ln(1 + e^−|x|)` so that large `x` do not overflow.
    struct Softplus: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T {
            Swift.max(x, 0) + T.log1p(T.exp(-Swift.abs(x)))
        }
    }

    /// `x / (1 + |x|)`.
    struct Softsign: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x / (1 + Swift.abs(x)) }
    }

    /// `x · tanh(softplus(x))`.
    struct Mish: FloatingFunction {
        @inline(__always) func callAsFunction<T: FloatingKernel>(_ x: T) -> T { x * T.tanh(Softplus()(x)) }
    }
}

/// `PRelu`: `x` where `x ≥ 0`, else `slope·x`, the slope broadcast to the input's shape.
struct PReluOperator: Operator, NumericPairVisitor {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let slope = try inputs.required(1)
        let result = try Tensor.visit(x, slope, self)
        guard result.shape == x.shape else {
            throw KernelError("slope of shape \(slope.shape) does not broadcast to the input's shape \(x.shape)")
        }
        return [result]
    }

    func visit<T: NumericElement>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]) throws -> Tensor {
        let (elements, shape) = try ElementLoops.binary(a, aShape, b, bShape) { x, slope in
            x < .zero ? T.multiply(slope, x) : x
        }
        return Tensor(shape: shape, elements: elements)
    }
}

/// `Clip`: `min(max(x, lower), upper)`; where `lower > upper` every element becomes `upper`.
/// NaN passes through. A missing bound does not clip.
struct ClipOperator: Operator {
    /// The bounds from attributes (before opset 11), or `nil` to read them from inputs 1 and 2.
    let attributeBounds: (lower: Double?, upper: Double?)?

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let kernel = Kernel(attributeBounds: attributeBounds, lower: inputs.optional(1), upper: inputs.optional(2))
        return [Tensor(shape: x.shape, storage: try x.visit(kernel))]
    }

    private struct Kernel: NumericVisitor {
        let attributeBounds: (lower: Double?, upper: Double?)?
        let lower: Tensor?
        let upper: Tensor?

        func visit<T: NumericElement>(_ elements: [T]) throws -> TensorStorage {
            let low: T, high: T
            if let attributeBounds {
                low = attributeBounds.lower.map { T(castingFloat: $0) } ?? T.lowest
                high = attributeBounds.upper.map { T(castingFloat: $0) } ?? T.highest
            } else {
                low = try bound(lower, "min") ?? T.lowest
                high = try bound(upper, "max") ?? T.highest
            }
            return T.storage(ElementLoops.map(elements) { T.minimum(T.maximum($0, low), high) })
        }

        private func bound<T: NumericElement>(_ tensor: Tensor?, _ name: String) throws -> T? {
            guard let tensor else { return nil }
            guard let values = tensor.elements(as: T.self), values.count == 1 else {
                throw KernelError("\(name) must be a scalar of the input's type \(T.dataType), not \(tensor.dataType) of shape \(tensor.shape)")
            }
            return values[0]
        }
    }
}

import Foundation
import Networks

// Element-wise operations and reshapes: values in, values out, with their derivatives.

extension Variable {
    /// `max(x, 0)`; the derivative at 0 is taken as 0, as PyTorch does.
    public func relu() -> Variable {
        let x = values
        let y = x.map { max($0, 0) }
        let input = index
        return tape.record(y, shape: shape) { gradient, tape in
            tape.accumulate(VectorMath.reluGradient(x, gradient), into: input)
        }
    }

    /// `x·Φ(x)`, the exact GELU (`x/2·(1 + erf(x/√2))`), with derivative
    /// `Φ(x) + x·φ(x)`.
    public func gelu() -> Variable {
        let x = values
        let cdf = x.map { 0.5 * (1 + erf($0 * Float(0.5).squareRoot())) }
        let y = zip(x, cdf).map { $0 * $1 }
        let input = index
        return tape.record(y, shape: shape) { gradient, tape in
            let density = Float(1 / (2 * Double.pi).squareRoot())
            var dx = gradient
            for i in dx.indices {
                dx[i] *= cdf[i] + x[i] * density * exp(-0.5 * x[i] * x[i])
            }
            tape.accumulate(dx, into: input)
        }
    }

    /// The element-wise sum of two values of the same shape (a residual connection).
    public static func + (a: Variable, b: Variable) -> Variable {
        precondition(a.tape === b.tape, "the operands belong to different tapes")
        precondition(a.shape == b.shape, "cannot add shapes \(a.shape) and \(b.shape)")
        let x = a.values, y = b.values
        let sum = (0..<x.count).map { x[$0] + y[$0] }
        let (first, second) = (a.index, b.index)
        return a.tape.record(sum, shape: a.shape) { gradient, tape in
            tape.accumulate(gradient, into: first)
            tape.accumulate(gradient, into: second)
        }
    }

    /// The same values as `[N, everything else]`.
    public func flattened() -> Variable {
        precondition(shape.count >= 1, "a scalar has no batch axis to keep")
        return reshaped([shape[0], count / max(shape[0], 1)])
    }

    /// The same values in another shape with as many elements.
    public func reshaped(_ newShape: [Int]) -> Variable {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let input = index
        return tape.record(values, shape: newShape) { gradient, tape in tape.accumulate(gradient, into: input) }
    }

    /// `Σᵢ weightsᵢ·xᵢ`, a scalar: a loss whose gradient is `weights`, for gradient checks.
    func weightedSum(_ weights: [Float]) -> Variable {
        precondition(weights.count == count, "\(weights.count) weights for \(count) values")
        let x = values
        var total = 0.0
        for i in x.indices { total += Double(x[i]) * Double(weights[i]) }
        let input = index
        return tape.record([Float(total)], shape: []) { gradient, tape in
            tape.accumulate(weights.map { $0 * gradient[0] }, into: input)
        }
    }
}

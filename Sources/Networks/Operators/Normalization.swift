import CVectorMath
import Foundation

/// BatchNormalization (inference), InstanceNormalization and LayerNormalization, float32
/// with statistics accumulated in double precision.
package enum NormalizationOperators {
    static let factories: [String: OperatorFactory] = [
        "BatchNormalization": { context in
            let epsilon = try context.float("epsilon", default: 1e-5)
            if try context.int("training_mode", default: 0) != 0 {
                throw context.unsupported("training_mode = 1 is not supported (inference only)")
            }
            return ClosureOperator { inputs in
                try [batchNormalization(inputs.required(0), scale: inputs.required(1), bias: inputs.required(2),
                                        mean: inputs.required(3), variance: inputs.required(4), epsilon: epsilon)]
            }
        },
        "InstanceNormalization": { context in
            let epsilon = try context.float("epsilon", default: 1e-5)
            return ClosureOperator { inputs in
                try [instanceNormalization(inputs.required(0), scale: inputs.required(1), bias: inputs.required(2), epsilon: epsilon)]
            }
        },
        "LayerNormalization": { context in
            let epsilon = try context.float("epsilon", default: 1e-5)
            let axis = try context.int("axis", default: -1)
            let outputs = context.node.outputs.count
            return ClosureOperator { inputs in
                let result = try layerNormalization(inputs.required(0), scale: inputs.required(1), bias: inputs.optional(2),
                                                    axis: axis, epsilon: epsilon)
                return Array([result.y, result.mean, result.inverseDeviation].prefix(max(1, outputs)))
            }
        },
    ]

    /// Per-channel vectors of length `channels`.
    static func channelVectors(_ tensors: [(String, Tensor)], channels: Int) throws -> [[Float]] {
        try tensors.map { name, tensor in
            let values = try tensor.requireFloats(name)
            guard values.count == channels else { throw KernelError("\(name) has \(values.count) values, \(channels) expected") }
            return values
        }
    }

    /// `y = scale · (x − mean) / √(var + ε) + bias` per channel (axis 1), with running statistics.
    static func batchNormalization(_ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                                   epsilon: Float) throws -> Tensor {
        guard x.rank >= 2 else { throw KernelError("input must be [N, C, …], not \(x.shape)") }
        let xs = try x.requireFloats()
        let channels = x.shape[1]
        let v = try channelVectors([("scale", scale), ("bias", bias), ("mean", mean), ("var", variance)], channels: channels)
        let inner = Tensor.count(Array(x.shape.dropFirst(2)))
        let multiplier = (0..<channels).map { v[0][$0] / (v[3][$0] + epsilon).squareRoot() }
        let shift = (0..<channels).map { v[1][$0] - v[2][$0] * multiplier[$0] }
        var y = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { y in
                for plane in 0..<(x.shape[0] * channels) {
                    let c = plane % channels, a = multiplier[c], b = shift[c]
                    for i in (plane * inner)..<((plane + 1) * inner) { y[i] = xs[i] * a + b }
                }
            }
        }
        return Tensor(shape: x.shape, elements: y)
    }

    /// Normalises each `[n, c]` plane by its own mean and variance, then scales per channel.
    static func instanceNormalization(_ x: Tensor, scale: Tensor, bias: Tensor, epsilon: Float) throws -> Tensor {
        guard x.rank >= 3 else { throw KernelError("input must be [N, C, spatial…], not \(x.shape)") }
        let xs = try x.requireFloats()
        let channels = x.shape[1]
        let v = try channelVectors([("scale", scale), ("B", bias)], channels: channels)
        let inner = Tensor.count(Array(x.shape.dropFirst(2)))
        var y = [Float](repeating: 0, count: xs.count)
        guard inner > 0 else { return Tensor(shape: x.shape, elements: y) }
        xs.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { y in
                v[0].withUnsafeBufferPointer { scale in
                    v[1].withUnsafeBufferPointer { bias in
                        for plane in 0..<(x.shape[0] * channels) {
                            let c = plane % channels
                            normalize(xs.baseAddress! + plane * inner, into: y.baseAddress! + plane * inner,
                                      count: inner, epsilon: epsilon, scale: scale.baseAddress! + c,
                                      bias: bias.baseAddress! + c, step: 0)
                        }
                    }
                }
            }
        }
        return Tensor(shape: x.shape, elements: y)
    }

    /// Normalises `x[0..<count]` into `out` to zero mean and unit variance (population
    /// variance, in double precision), then scales and shifts each result by `scale[i·step]`
    /// and `bias[i·step]` (`step` 1: per element, 0: one of each), and returns the mean and
    /// `1/√(var + ε)`. The passes are `CVectorMath`'s, on the CPU's widest vectors.
    @discardableResult @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int, epsilon: Float,
                          scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, step: Int)
        -> (mean: Float, inverseDeviation: Float)
    {
        let mean = sum(x, count) / Double(count)
        let squares = squaredDeviations(x, count, from: mean)
        let inverse = 1 / (squares / Double(count) + Double(epsilon)).squareRoot()
        repprobe_normalize(out, x, count, mean, inverse, scale, bias, step)
        return (Float(mean), Float(inverse))
    }

    /// `Σ x[i]` in double precision, in eight lanes of partial sums (each a multiple of
    /// eight elements apart), added pairwise at the end: one running sum would wait out the
    /// adder's latency at every element. Layer and batch normalisation (in the training
    /// module) take their means with it.
    package static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        repprobe_sum(x, count)
    }

    /// `Σ (x[i] − mean)²` in double precision, summed as ``sum(_:_:)``.
    package static func squaredDeviations(_ x: UnsafePointer<Float>, _ count: Int, from mean: Double) -> Double {
        repprobe_squared_deviations(x, count, mean)
    }

    /// Normalises over the dimensions from `axis` on; `scale` and `bias` broadcast to them.
    static func layerNormalization(_ x: Tensor, scale: Tensor, bias: Tensor?, axis: Int, epsilon: Float) throws
        -> (y: Tensor, mean: Tensor, inverseDeviation: Tensor)
    {
        let xs = try x.requireFloats()
        let start = axis < 0 ? axis + x.rank : axis
        guard start >= 0, start < x.rank else { throw KernelError("axis \(axis) is out of range for rank \(x.rank)") }
        let normalized = Array(x.shape[start...])
        let inner = Tensor.count(normalized)
        func expand(_ tensor: Tensor, _ name: String) throws -> [Float] {
            let values = try tensor.requireFloats(name)
            if tensor.shape == normalized { return values }
            guard try Broadcast.shape([tensor.shape, normalized]) == normalized else {
                throw KernelError("\(name) of shape \(tensor.shape) does not broadcast to \(normalized)")
            }
            return Broadcast.indexMap(of: tensor.shape, in: normalized).map { values[$0] }
        }
        let gamma = try expand(scale, "Scale")
        let beta = try bias.map { try expand($0, "B") } ?? [Float](repeating: 0, count: inner)
        let outer = inner == 0 ? 0 : xs.count / inner
        var y: [Float] = ElementLoops.uninitialized(xs.count)
        var means = [Float](repeating: 0, count: outer), inverses = [Float](repeating: 0, count: outer)
        // Rows are independent: two threads take half of them each when there are enough.
        xs.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { y in
                means.withUnsafeMutableBufferPointer { means in
                    inverses.withUnsafeMutableBufferPointer { inverses in
                        gamma.withUnsafeBufferPointer { gamma in
                            beta.withUnsafeBufferPointer { beta in
                                ElementLoops.inHalves(outer, elements: outer * inner) { rows in
                                    for row in rows {
                                        (means[row], inverses[row]) = normalize(
                                            xs.baseAddress! + row * inner, into: y.baseAddress! + row * inner,
                                            count: inner, epsilon: epsilon, scale: gamma.baseAddress!,
                                            bias: beta.baseAddress!, step: 1)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let statsShape = Array(x.shape[..<start]) + Array(repeating: 1, count: x.rank - start)
        return (Tensor(shape: x.shape, elements: y), Tensor(shape: statsShape, elements: means),
                Tensor(shape: statsShape, elements: inverses))
    }
}

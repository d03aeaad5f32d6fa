import Networks

/// The running mean and variance that batch normalisation keeps for inference.
public final class RunningStatistics {
    public var mean: [Float]
    public var variance: [Float]
    /// The weight of the newest batch in the running averages (PyTorch's `momentum`, 0.1).
    public var momentum: Float

    public init(channels: Int, momentum: Float = 0.1) {
        mean = Array(repeating: 0, count: channels)
        variance = Array(repeating: 1, count: channels)
        self.momentum = momentum
    }
}

extension Variable {
    /// Batch normalisation of `[N, C, …]` per channel:
    /// `y = γ·(x − μ)/√(σ² + ε) + β`.
    ///
    /// On a training tape μ and σ² are the batch's mean and (biased) variance, and the
    /// running statistics move towards the batch's mean and unbiased variance, as PyTorch's
    /// `BatchNorm2d` does; on an inference tape the running statistics are used and left
    /// alone.
    ///
    /// Backward (training), with `x̂` the normalised input and `m` the values per channel:
    /// `∂x = γ/(m·√(σ² + ε)) · (m·∂y − Σ∂y − x̂·Σ(∂y·x̂))`, `∂γ = Σ ∂y·x̂`, `∂β = Σ ∂y`.
    public func batchNorm(scale: Variable, shift: Variable, statistics: RunningStatistics, epsilon: Float = 1e-5) -> Variable {
        precondition(shape.count >= 2, "batchNorm: input must be [N, C, …], not \(shape)")
        let (n, channels) = (shape[0], shape[1])
        precondition(scale.shape == [channels] && shift.shape == [channels] && statistics.mean.count == channels,
                     "batchNorm: scale, shift and statistics must have \(channels) values")
        let size = shape.dropFirst(2).reduce(1, *)
        let m = n * size
        let x = values, gamma = scale.values, beta = shift.values
        var mean = [Float](repeating: 0, count: channels)
        var inverse = [Float](repeating: 0, count: channels)
        // Every loop below runs over one image's plane of one channel, through pointers, so
        // that the element-wise ones vectorise; the statistics are summed in double precision.
        if tape.isTraining {
            precondition(m > 1, "batchNorm: training needs more than one value per channel")
            x.withUnsafeBufferPointer { x in
                for c in 0..<channels {
                    var sum = 0.0
                    for image in 0..<n { sum += NormalizationOperators.sum(x.baseAddress! + (image * channels + c) * size, size) }
                    let mu = sum / Double(m)
                    var squares = 0.0
                    for image in 0..<n {
                        squares += NormalizationOperators.squaredDeviations(x.baseAddress! + (image * channels + c) * size, size,
                                                                            from: mu)
                    }
                    let variance = squares / Double(m)
                    mean[c] = Float(mu)
                    inverse[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                    let k = statistics.momentum
                    statistics.mean[c] = (1 - k) * statistics.mean[c] + k * Float(mu)
                    statistics.variance[c] = (1 - k) * statistics.variance[c] + k * Float(squares / Double(m - 1))
                }
            }
        } else {
            mean = statistics.mean
            inverse = statistics.variance.map { 1 / ($0 + epsilon).squareRoot() }
        }
        var normalized: [Float] = ElementLoops.uninitialized(x.count)
        var y: [Float] = ElementLoops.uninitialized(x.count)
        x.withUnsafeBufferPointer { x in
            normalized.withUnsafeMutableBufferPointer { normalized in
                y.withUnsafeMutableBufferPointer { y in
                    for image in 0..<n { for c in 0..<channels {
                        let base = (image * channels + c) * size
                        let (mu, inv, g, b) = (mean[c], inverse[c], gamma[c], beta[c])
                        let xs = x.baseAddress! + base, hs = normalized.baseAddress! + base, ys = y.baseAddress! + base
                        for i in 0..<size {
                            let h = (xs[i] - mu) * inv
                            hs[i] = h
                            ys[i] = g * h + b
                        }
                    } }
                }
            }
        }
        let (input, scaleIndex, shiftIndex, training) = (index, scale.index, shift.index, tape.isTraining)
        return tape.record(y, shape: shape) { dy, tape in
            var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
            var dx: [Float] = ElementLoops.uninitialized(dy.count)
            dy.withUnsafeBufferPointer { dy in
                normalized.withUnsafeBufferPointer { normalized in
                    for image in 0..<n { for c in 0..<channels {
                        let base = (image * channels + c) * size
                        let dys = dy.baseAddress! + base, hs = normalized.baseAddress! + base
                        var g0: Float = 0, g1: Float = 0, b0: Float = 0, b1: Float = 0
                        var i = 0
                        while i + 2 <= size {
                            g0 += dys[i] * hs[i]; b0 += dys[i]
                            g1 += dys[i + 1] * hs[i + 1]; b1 += dys[i + 1]
                            i += 2
                        }
                        if i < size { g0 += dys[i] * hs[i]; b0 += dys[i] }
                        dGamma[c] += g0 + g1
                        dBeta[c] += b0 + b1
                    } }
                    dx.withUnsafeMutableBufferPointer { dx in
                        for image in 0..<n { for c in 0..<channels {
                            let base = (image * channels + c) * size
                            let dys = dy.baseAddress! + base, hs = normalized.baseAddress! + base, dxs = dx.baseAddress! + base
                            if training {
                                let factor = gamma[c] * inverse[c] / Float(m)
                                let (count, sumDy, sumDyH) = (Float(m), dBeta[c], dGamma[c])
                                for i in 0..<size { dxs[i] = factor * (count * dys[i] - sumDy - hs[i] * sumDyH) }
                            } else {
                                let factor = gamma[c] * inverse[c]
                                for i in 0..<size { dxs[i] = factor * dys[i] }
                            }
                        } }
                    }
                }
            }
            tape.accumulate(dx, into: input)
            tape.accumulate(dGamma, into: scaleIndex)
            tape.accumulate(dBeta, into: shiftIndex)
        }
    }
}

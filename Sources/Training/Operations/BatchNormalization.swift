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
        if tape.isTraining {
            precondition(m > 1, "batchNorm: training needs more than one value per channel")
            for c in 0..<channels {
                var sum = 0.0
                for image in 0..<n { for i in 0..<size { sum += Double(x[(image * channels + c) * size + i]) } }
                let mu = sum / Double(m)
                var squares = 0.0
                for image in 0..<n { for i in 0..<size {
                    let d = Double(x[(image * channels + c) * size + i]) - mu
                    squares += d * d
                } }
                let variance = squares / Double(m)
                mean[c] = Float(mu)
                inverse[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                let k = statistics.momentum
                statistics.mean[c] = (1 - k) * statistics.mean[c] + k * Float(mu)
                statistics.variance[c] = (1 - k) * statistics.variance[c] + k * Float(squares / Double(m - 1))
            }
        } else {
            mean = statistics.mean
            inverse = statistics.variance.map { 1 / ($0 + epsilon).squareRoot() }
        }
        var normalized = [Float](repeating: 0, count: x.count)
        var y = [Float](repeating: 0, count: x.count)
        for image in 0..<n { for c in 0..<channels {
            let base = (image * channels + c) * size
            for i in 0..<size {
                let h = (x[base + i] - mean[c]) * inverse[c]
                normalized[base + i] = h
                y[base + i] = gamma[c] * h + beta[c]
            }
        } }
        let (input, scaleIndex, shiftIndex, training) = (index, scale.index, shift.index, tape.isTraining)
        return tape.record(y, shape: shape) { dy, tape in
            var dGamma = [Float](repeating: 0, count: channels), dBeta = [Float](repeating: 0, count: channels)
            for image in 0..<n { for c in 0..<channels {
                let base = (image * channels + c) * size
                var g: Float = 0, b: Float = 0
                for i in 0..<size { g += dy[base + i] * normalized[base + i]; b += dy[base + i] }
                dGamma[c] += g
                dBeta[c] += b
            } }
            var dx = [Float](repeating: 0, count: x.count)
            for image in 0..<n { for c in 0..<channels {
                let base = (image * channels + c) * size
                if training {
                    let factor = gamma[c] * inverse[c] / Float(m)
                    for i in 0..<size {
                        dx[base + i] = factor * (Float(m) * dy[base + i] - dBeta[c] - normalized[base + i] * dGamma[c])
                    }
                } else {
                    let factor = gamma[c] * inverse[c]
                    for i in 0..<size { dx[base + i] = factor * dy[base + i] }
                }
            } }
            tape.accumulate(dx, into: input)
            tape.accumulate(dGamma, into: scaleIndex)
            tape.accumulate(dBeta, into: shiftIndex)
        }
    }
}

extension Variable {
    /// The largest value in each `kernel × kernel` window of `[N, C, H, W]`, windows
    /// `stride` apart (default: `kernel`), without padding.
    ///
    /// Backward: each window's gradient goes to the position that held its maximum (the
    /// first one on ties, as PyTorch's CPU kernel does).
    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Variable {
        let window = poolWindow(kernel: kernel, stride: stride ?? kernel)
        let x = values
        var y = [Float](repeating: 0, count: window.outputCount)
        var winners = [Int](repeating: 0, count: window.outputCount)
        window.forEach { output, first in
            var best = first
            for ky in 0..<kernel { for kx in 0..<kernel {
                let index = first + ky * window.width + kx
                if x[index] > x[best] || x[index].isNaN { best = index }
            } }
            winners[output] = best
            y[output] = x[best]
        }
        let input = index, inputCount = count
        return tape.record(y, shape: window.outputShape) { dy, tape in
            var dx = [Float](repeating: 0, count: inputCount)
            for (o, index) in winners.enumerated() { dx[index] += dy[o] }
            tape.accumulate(dx, into: input)
        }
    }

    /// The mean of each `kernel × kernel` window of `[N, C, H, W]`, windows `stride` apart
    /// (default: `kernel`), without padding.
    public func averagePool2d(kernel: Int, stride: Int? = nil) -> Variable {
        let window = poolWindow(kernel: kernel, stride: stride ?? kernel)
        let x = values
        let scale = 1 / Float(kernel * kernel)
        var y = [Float](repeating: 0, count: window.outputCount)
        window.forEach { output, first in
            var sum: Float = 0
            for ky in 0..<kernel { for kx in 0..<kernel { sum += x[first + ky * window.width + kx] } }
            y[output] = sum * scale
        }
        let input = index, inputCount = count
        return tape.record(y, shape: window.outputShape) { dy, tape in
            var dx = [Float](repeating: 0, count: inputCount)
            window.forEach { output, first in
                let share = dy[output] * scale
                for ky in 0..<kernel { for kx in 0..<kernel { dx[first + ky * window.width + kx] += share } }
            }
            tape.accumulate(dx, into: input)
        }
    }

    /// The mean over each plane of `[N, C, H, W]`, as `[N, C, 1, 1]` (ONNX's
    /// GlobalAveragePool, PyTorch's `AdaptiveAvgPool2d(1)`).
    public func globalAveragePool() -> Variable {
        precondition(shape.count == 4, "globalAveragePool: input must be [N, C, H, W], not \(shape)")
        let planes = shape[0] * shape[1], size = shape[2] * shape[3]
        let x = values
        var y = [Float](repeating: 0, count: planes)
        for p in 0..<planes {
            var sum: Float = 0
            for i in 0..<size { sum += x[p * size + i] }
            y[p] = sum / Float(size)
        }
        let input = index
        return tape.record(y, shape: [shape[0], shape[1], 1, 1]) { dy, tape in
            var dx = [Float](repeating: 0, count: planes * size)
            for p in 0..<planes {
                let share = dy[p] / Float(size)
                for i in 0..<size { dx[p * size + i] = share }
            }
            tape.accumulate(dx, into: input)
        }
    }

    /// The pooling windows of this `[N, C, H, W]` value.
    private func poolWindow(kernel: Int, stride: Int) -> PoolWindow {
        precondition(shape.count == 4, "pooling: input must be [N, C, H, W], not \(shape)")
        precondition(kernel >= 1 && stride >= 1, "pooling: kernel and stride must be positive")
        precondition(shape[2] >= kernel && shape[3] >= kernel,
                     "pooling: a \(kernel)×\(kernel) window does not fit \(shape[2])×\(shape[3])")
        return PoolWindow(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3], kernel: kernel, stride: stride)
    }
}

/// Where unpadded `kernel × kernel` pooling windows, `stride` apart, lie in `[N, C, H, W]`.
struct PoolWindow {
    let batch: Int, channels: Int, height: Int, width: Int, kernel: Int, stride: Int

    var outputHeight: Int { (height - kernel) / stride + 1 }
    var outputWidth: Int { (width - kernel) / stride + 1 }
    var outputCount: Int { batch * channels * outputHeight * outputWidth }
    var outputShape: [Int] { [batch, channels, outputHeight, outputWidth] }

    /// Calls `body(output index, input index of the window's top-left value)` for every
    /// window, in output order.
    @inline(__always)
    func forEach(_ body: (Int, Int) -> Void) {
        var output = 0
        for plane in 0..<(batch * channels) {
            for oy in 0..<outputHeight {
                for ox in 0..<outputWidth {
                    body(output, (plane * height + oy * stride) * width + ox * stride)
                    output += 1
                }
            }
        }
    }
}

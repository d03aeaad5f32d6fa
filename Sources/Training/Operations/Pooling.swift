extension Variable {
    /// The largest value in each `kernel × kernel` window of `[N, C, H, W]`, windows
    /// `stride` apart (default: `kernel`), without padding.
    ///
    /// Backward: each window's gradient goes to the position that held its maximum (the
    /// first one on ties, as PyTorch's CPU kernel does).
    public func maxPool2d(kernel: Int, stride: Int? = nil) -> Variable {
        let (positions, outputShape) = poolWindows(kernel: kernel, stride: stride ?? kernel)
        let x = values
        var y = [Float](repeating: 0, count: positions.count)
        var winners = [Int](repeating: 0, count: positions.count)
        for (o, window) in positions.enumerated() {
            var best = window[0]
            for index in window where x[index] > x[best] || x[index].isNaN { best = index }
            winners[o] = best
            y[o] = x[best]
        }
        let input = self, inputCount = count
        return tape.record(y, shape: outputShape) { dy, tape in
            var dx = [Float](repeating: 0, count: inputCount)
            for (o, index) in winners.enumerated() { dx[index] += dy[o] }
            tape.accumulate(dx, into: input)
        }
    }

    /// The mean of each `kernel × kernel` window of `[N, C, H, W]`, windows `stride` apart
    /// (default: `kernel`), without padding.
    public func averagePool2d(kernel: Int, stride: Int? = nil) -> Variable {
        let (positions, outputShape) = poolWindows(kernel: kernel, stride: stride ?? kernel)
        let x = values
        let scale = 1 / Float(kernel * kernel)
        let y = positions.map { window in window.reduce(Float(0)) { $0 + x[$1] } * scale }
        let input = self, inputCount = count
        return tape.record(y, shape: outputShape) { dy, tape in
            var dx = [Float](repeating: 0, count: inputCount)
            for (o, window) in positions.enumerated() { for index in window { dx[index] += dy[o] * scale } }
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
        let input = self
        return tape.record(y, shape: [shape[0], shape[1], 1, 1]) { dy, tape in
            var dx = [Float](repeating: 0, count: planes * size)
            for p in 0..<planes {
                let share = dy[p] / Float(size)
                for i in 0..<size { dx[p * size + i] = share }
            }
            tape.accumulate(dx, into: input)
        }
    }

    /// The flat input indices of every pooling window, in output order, and the output shape.
    private func poolWindows(kernel: Int, stride: Int) -> (windows: [[Int]], shape: [Int]) {
        precondition(shape.count == 4, "pooling: input must be [N, C, H, W], not \(shape)")
        precondition(kernel >= 1 && stride >= 1, "pooling: kernel and stride must be positive")
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        precondition(height >= kernel && width >= kernel, "pooling: a \(kernel)×\(kernel) window does not fit \(height)×\(width)")
        let outH = (height - kernel) / stride + 1, outW = (width - kernel) / stride + 1
        var windows: [[Int]] = []
        windows.reserveCapacity(planes * outH * outW)
        for p in 0..<planes { for oy in 0..<outH { for ox in 0..<outW {
            var window: [Int] = []
            window.reserveCapacity(kernel * kernel)
            for ky in 0..<kernel { for kx in 0..<kernel {
                window.append((p * height + oy * stride + ky) * width + ox * stride + kx)
            } }
            windows.append(window)
        } } }
        return (windows, [shape[0], shape[1], outH, outW])
    }
}

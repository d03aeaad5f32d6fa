import Networks

extension Variable {
    /// 2-D convolution (cross-correlation, as in PyTorch and ONNX) of `[N, C, H, W]` with a
    /// weight of `[F, C, kH, kW]` and an optional bias of `[F]`, with one stride and one
    /// zero padding for both axes.
    ///
    /// All images are unrolled side by side into one `(C·kH·kW) × (N·OH·OW)` matrix, so the
    /// forward pass is one `sgemm` and the backward pass two: `∂W = ∂Y·colsᵀ` and
    /// `∂cols = Wᵀ·∂Y`, folded back onto the input (col2im). The unrolling and folding are the
    /// runtime's own (``ConvolutionOperators``).
    public func conv2d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
        precondition(shape.count == 4 && weight.shape.count == 4 && weight.shape[1] == shape[1],
                     "conv2d: input \(shape) and weight \(weight.shape) do not fit")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be positive and padding not negative")
        let (n, channels, filters) = (shape[0], shape[1], weight.shape[0])
        guard let window = try? WindowGeometry(height: shape[2], width: shape[3], kernelHeight: weight.shape[2],
                                               kernelWidth: weight.shape[3], stride: stride, padding: padding),
              window.outputCount >= 1
        else { preconditionFailure("conv2d: the kernel is larger than the padded input") }
        let rows = channels * window.kernelCount, positions = window.outputCount
        let width = n * positions
        let inputCount = channels * shape[2] * shape[3]
        let x = values, w = weight.values
        var columns: [Float] = ElementLoops.uninitialized(rows * width)
        // Each image unrolls into its own columns: the images are shared between the cores.
        x.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { columns in
                let (x, columns) = (UnsafeSendable(x.baseAddress!), UnsafeSendable(columns.baseAddress!))
                ElementLoops.inHalves(n, elements: rows * width) { images in
                    for image in images {
                        ConvolutionOperators.im2col(x.value + image * inputCount, channels: channels, geometry: window,
                                                    into: columns.value + image * positions, pitch: width)
                    }
                }
            }
        }
        var product: [Float] = ElementLoops.uninitialized(filters * width)
        RowMajorGEMM.multiply(m: filters, n: width, k: rows, a: w, lda: rows, b: columns, ldb: width, c: &product, ldc: width)
        let b = bias?.values
        if let bias { precondition(bias.shape == [filters], "conv2d: bias \(bias.shape) should be [\(filters)]") }
        // [F, N·P] → [N, F, P], adding the bias.
        var y: [Float] = ElementLoops.uninitialized(n * filters * positions)
        for image in 0..<n { for f in 0..<filters {
            let offset = b?[f] ?? 0
            let source = f * width + image * positions, target = (image * filters + f) * positions
            for p in 0..<positions { y[target + p] = product[source + p] + offset }
        } }
        let (input, weightIndex, biasIndex) = (index, weight.index, bias?.index)
        let outputShape = [n, filters] + window.outputShape
        return tape.record(y, shape: outputShape) { dy, tape in
            // [N, F, P] → [F, N·P].
            var gradient: [Float] = ElementLoops.uninitialized(filters * width)
            for image in 0..<n { for f in 0..<filters {
                let source = (image * filters + f) * positions, target = f * width + image * positions
                for p in 0..<positions { gradient[target + p] = dy[source + p] }
            } }
            var dw: [Float] = ElementLoops.uninitialized(filters * rows)
            RowMajorGEMM.multiply(transposeB: true, m: filters, n: rows, k: width, a: gradient, lda: width,
                                  b: columns, ldb: width, c: &dw, ldc: rows)
            tape.accumulate(dw, into: weightIndex)
            if let biasIndex {
                var db = [Float](repeating: 0, count: filters)
                for f in 0..<filters {
                    var sum: Float = 0
                    for j in 0..<width { sum += gradient[f * width + j] }
                    db[f] = sum
                }
                tape.accumulate(db, into: biasIndex)
            }
            // The input's gradient, unless the input is a constant (the batch of images).
            guard tape.needsGradient(input) else { return }
            var dColumns: [Float] = ElementLoops.uninitialized(rows * width)
            RowMajorGEMM.multiply(transposeA: true, m: rows, n: width, k: filters, a: w, lda: rows,
                                  b: gradient, ldb: width, c: &dColumns, ldc: width)
            var dx = [Float](repeating: 0, count: n * inputCount)
            // Each image folds back into its own part of the gradient: shared between the cores.
            dColumns.withUnsafeBufferPointer { dColumns in
                dx.withUnsafeMutableBufferPointer { dx in
                    let (dColumns, dx) = (UnsafeSendable(dColumns.baseAddress!), UnsafeSendable(dx.baseAddress!))
                    ElementLoops.inHalves(n, elements: rows * width) { images in
                        for image in images {
                            ConvolutionOperators.col2im(dColumns.value + image * positions, channels: channels,
                                                        geometry: window, into: dx.value + image * inputCount, pitch: width)
                        }
                    }
                }
            }
            tape.accumulate(dx, into: input)
        }
    }
}

import Networks

/// Where a square-strided, symmetrically padded 2-D window visits an image.
struct Window2D: Equatable {
    let height: Int
    let width: Int
    let kernelHeight: Int
    let kernelWidth: Int
    let stride: Int
    let padding: Int

    var outputHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    var outputWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    var outputCount: Int { outputHeight * outputWidth }
    var kernelCount: Int { kernelHeight * kernelWidth }

    /// The output columns `first..<last` of kernel column `kx` that read inside the image.
    @inline(__always)
    func validColumns(_ kx: Int) -> (first: Int, last: Int) {
        let offset = kx - padding
        let first = min(outputWidth, max(0, (-offset + stride - 1) / stride))
        let last = min(outputWidth, max(first, (width - offset + stride - 1) / stride))
        return (first, last)
    }

    /// Unrolls `channels` planes: row `(c, ky, kx)`, column `oy·OW + ox` (offset by
    /// `column` in rows `pitch` long), zero where the window reads padding.
    func unroll(_ image: UnsafePointer<Float>, channels: Int, into columns: UnsafeMutablePointer<Float>,
                pitch: Int, column: Int) {
        for c in 0..<channels { for ky in 0..<kernelHeight { for kx in 0..<kernelWidth {
            let row = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * pitch + column
            let (first, last) = validColumns(kx)
            for oy in 0..<outputHeight {
                let out = row + oy * outputWidth
                let iy = oy * stride - padding + ky
                guard iy >= 0 && iy < height else {
                    out.update(repeating: 0, count: outputWidth)
                    continue
                }
                let line = image + (c * height + iy) * width + kx - padding
                if first > 0 { out.update(repeating: 0, count: first) }
                if stride == 1 {
                    (out + first).update(from: line + first, count: last - first)
                } else {
                    for ox in first..<last { out[ox] = line[ox * stride] }
                }
                if last < outputWidth { (out + last).update(repeating: 0, count: outputWidth - last) }
            }
        } } }
    }

    /// The adjoint of ``unroll(_:channels:into:pitch:column:)``: adds every column entry
    /// back to the pixel it was read from.
    func fold(_ columns: UnsafePointer<Float>, channels: Int, into image: UnsafeMutablePointer<Float>,
              pitch: Int, column: Int) {
        for c in 0..<channels { for ky in 0..<kernelHeight { for kx in 0..<kernelWidth {
            let row = columns + ((c * kernelHeight + ky) * kernelWidth + kx) * pitch + column
            let (first, last) = validColumns(kx)
            for oy in 0..<outputHeight {
                let iy = oy * stride - padding + ky
                guard iy >= 0 && iy < height else { continue }
                let line = image + (c * height + iy) * width + kx - padding
                let source = row + oy * outputWidth
                for ox in first..<last { line[ox * stride] += source[ox] }
            }
        } } }
    }
}

extension Variable {
    /// 2-D convolution (cross-correlation, as in PyTorch and ONNX) of `[N, C, H, W]` with a
    /// weight of `[F, C, kH, kW]` and an optional bias of `[F]`, with one stride and one
    /// zero padding for both axes.
    ///
    /// All images are unrolled side by side into one `(C·kH·kW) × (N·OH·OW)` matrix, so the
    /// forward pass is one `sgemm` and the backward pass two: `∂W = ∂Y·colsᵀ` and
    /// `∂cols = Wᵀ·∂Y`, folded back onto the input (col2im).
    public func conv2d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
        precondition(shape.count == 4 && weight.shape.count == 4 && weight.shape[1] == shape[1],
                     "conv2d: input \(shape) and weight \(weight.shape) do not fit")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be positive and padding not negative")
        let (n, channels, filters) = (shape[0], shape[1], weight.shape[0])
        let window = Window2D(height: shape[2], width: shape[3], kernelHeight: weight.shape[2],
                              kernelWidth: weight.shape[3], stride: stride, padding: padding)
        precondition(window.outputHeight >= 1 && window.outputWidth >= 1, "conv2d: the kernel is larger than the padded input")
        let rows = channels * window.kernelCount, positions = window.outputCount
        let width = n * positions
        let inputCount = channels * shape[2] * shape[3]
        let x = values, w = weight.values
        var columns = uninitializedFloats(rows * width)
        x.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { columns in
                for image in 0..<n {
                    window.unroll(x.baseAddress! + image * inputCount, channels: channels, into: columns.baseAddress!,
                                  pitch: width, column: image * positions)
                }
            }
        }
        var product = uninitializedFloats(filters * width)
        RowMajorGEMM.multiply(m: filters, n: width, k: rows, a: w, lda: rows, b: columns, ldb: width, c: &product, ldc: width)
        let b = bias?.values
        if let bias { precondition(bias.shape == [filters], "conv2d: bias \(bias.shape) should be [\(filters)]") }
        // [F, N·P] → [N, F, P], adding the bias.
        var y = uninitializedFloats(n * filters * positions)
        for image in 0..<n { for f in 0..<filters {
            let offset = b?[f] ?? 0
            let source = f * width + image * positions, target = (image * filters + f) * positions
            for p in 0..<positions { y[target + p] = product[source + p] + offset }
        } }
        let (input, weightIndex, biasIndex) = (index, weight.index, bias?.index)
        let outputShape = [n, filters, window.outputHeight, window.outputWidth]
        return tape.record(y, shape: outputShape) { dy, tape in
            // [N, F, P] → [F, N·P].
            var gradient = uninitializedFloats(filters * width)
            for image in 0..<n { for f in 0..<filters {
                let source = (image * filters + f) * positions, target = f * width + image * positions
                for p in 0..<positions { gradient[target + p] = dy[source + p] }
            } }
            var dw = uninitializedFloats(filters * rows)
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
            var dColumns = uninitializedFloats(rows * width)
            RowMajorGEMM.multiply(transposeA: true, m: rows, n: width, k: filters, a: w, lda: rows,
                                  b: gradient, ldb: width, c: &dColumns, ldc: width)
            var dx = [Float](repeating: 0, count: n * inputCount)
            dColumns.withUnsafeBufferPointer { dColumns in
                dx.withUnsafeMutableBufferPointer { dx in
                    for image in 0..<n {
                        window.fold(dColumns.baseAddress!, channels: channels, into: dx.baseAddress! + image * inputCount,
                                    pitch: width, column: image * positions)
                    }
                }
            }
            tape.accumulate(dx, into: input)
        }
    }
}

/// An array of `count` floats that the caller overwrites entirely before reading (a matrix
/// product with β = 0, an unrolling): no zeroing pass.
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

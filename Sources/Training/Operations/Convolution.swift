import Networks

extension Variable {
    /// 2-D convolution (cross-correlation, as in PyTorch and ONNX) of `[N, C, H, W]` with a
    /// weight of `[F, C, kH, kW]` and an optional bias of `[F]`, with one stride and one
    /// zero padding for both axes.
    ///
    /// Each pass is one matrix product. With stride 1 its other operand is the padded images
    /// themselves (``ShiftedPlanes``); otherwise all images are unrolled side by side into one
    /// `(C·kH·kW) × (N·OH·OW)` matrix, so the forward pass is one `sgemm` and the backward pass
    /// two: `∂W = ∂Y·colsᵀ` and `∂cols = Wᵀ·∂Y`, folded back onto the input (col2im). The
    /// unrolling and folding are the runtime's own (``ConvolutionOperators``).
    public func conv2d(weight: Variable, bias: Variable?, stride: Int = 1, padding: Int = 0) -> Variable {
        precondition(shape.count == 4 && weight.shape.count == 4 && weight.shape[1] == shape[1],
                     "conv2d: input \(shape) and weight \(weight.shape) do not fit")
        precondition(stride >= 1 && padding >= 0, "conv2d: stride must be positive and padding not negative")
        let (n, channels, filters) = (shape[0], shape[1], weight.shape[0])
        guard let window = try? WindowGeometry(height: shape[2], width: shape[3], kernelHeight: weight.shape[2],
                                               kernelWidth: weight.shape[3], stride: stride, padding: padding),
              window.outputCount >= 1
        else { preconditionFailure("conv2d: the kernel is larger than the padded input") }
        if let bias { precondition(bias.shape == [filters], "conv2d: bias \(bias.shape) should be [\(filters)]") }
        if stride == 1 {
            let planes = ShiftedPlanes(batch: n, channels: channels, height: shape[2], width: shape[3],
                                       kernelHeight: weight.shape[2], kernelWidth: weight.shape[3], padding: padding)
            return shiftedPlanesConvolution(weight: weight, bias: bias, filters: filters, planes: planes)
        }
        let rows = channels * window.kernelCount, positions = window.outputCount
        let width = n * positions
        let inputCount = channels * shape[2] * shape[3]
        let x = values, w = weight.values
        var columns: [Float] = ElementLoops.uninitialized(rows * width)
        // Each image unrolls into its own columns: the images are shared between the cores.
        x.withUnsafeBufferPointer { x in
            columns.withUnsafeMutableBufferPointer { columns in
                let (x, columns) = (x.baseAddress!, columns.baseAddress!)
                ElementLoops.inHalves(n, elements: rows * width) { images in
                    for image in images {
                        ConvolutionOperators.im2col(x + image * inputCount, channels: channels, geometry: window,
                                                    into: columns + image * positions, pitch: width)
                    }
                }
            }
        }
        var product: [Float] = ElementLoops.uninitialized(filters * width)
        RowMajorGEMM.multiply(m: filters, n: width, k: rows, a: w, lda: rows, b: columns, ldb: width, c: &product, ldc: width)
        let b = bias?.values
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
                    let (dColumns, dx) = (dColumns.baseAddress!, dx.baseAddress!)
                    ElementLoops.inHalves(n, elements: rows * width) { images in
                        for image in images {
                            ConvolutionOperators.col2im(dColumns + image * positions, channels: channels,
                                                        geometry: window, into: dx + image * inputCount, pitch: width)
                        }
                    }
                }
            }
            tape.accumulate(dx, into: input)
        }
    }

    /// The stride-1 convolution over ``ShiftedPlanes``: the forward pass multiplies the
    /// weights by the padded images' shifted planes, the weights' gradient is the output's
    /// gradient (spread onto the stacked grid) times the same planes, and the input's gradient
    /// is the flipped weights times the output gradient's shifted planes. No unrolled matrix
    /// is made, and what the backward pass keeps is the padded input.
    private func shiftedPlanesConvolution(weight: Variable, bias: Variable?, filters: Int, planes g: ShiftedPlanes) -> Variable {
        let rows = g.channels * g.kernelCount
        let padded = g.padded(values)
        let forwardLines = g.lines(count: g.channels, planeStride: g.paddedLength, origin: 0, direction: 1)
        var grid: [Float] = ElementLoops.uninitialized(filters * g.length)
        RowMajorGEMM.multiply(m: filters, n: g.length, k: rows, a: weight.values, lda: rows, b: padded, lines: forwardLines,
                              c: &grid, ldc: g.length)
        let y = g.outputs(of: grid, planes: filters, bias: bias?.values)
        let (input, weightIndex, biasIndex) = (index, weight.index, bias?.index)
        let w = weight.values, channels = g.channels
        return tape.record(y, shape: [g.batch, filters, g.outputHeight, g.outputWidth]) { dy, tape in
            // The output's gradient on the stacked grid, zero where no output lies, after
            // `reach` zeros that the input's gradient reads before the first plane.
            let spread = g.spreading(dy, planes: filters)
            let spreadLength = g.reach + g.length
            var dw: [Float] = ElementLoops.uninitialized(filters * rows)
            spread.withUnsafeBufferPointer { spread in
                RowMajorGEMM.multiply(transposeB: true, m: filters, n: rows, k: g.length, a: spread.baseAddress! + g.reach,
                                      lda: spreadLength, b: padded, lines: forwardLines, c: &dw, ldc: rows)
            }
            tape.accumulate(dw, into: weightIndex)
            if let biasIndex {
                let count = g.outputHeight * g.outputWidth
                var db = [Float](repeating: 0, count: filters)
                for image in 0..<g.batch { for f in 0..<filters {
                    let plane = (image * filters + f) * count
                    for p in 0..<count { db[f] += dy[plane + p] }
                } }
                tape.accumulate(db, into: biasIndex)
            }
            guard tape.needsGradient(input) else { return }
            // Input channel c's gradient at grid position r is the sum over filters f and
            // window offsets (i, j) of w[f, c, i, j] times the spread gradient at r − i·Wp − j.
            let kernelCount = g.kernelCount
            var flipped: [Float] = ElementLoops.uninitialized(channels * filters * kernelCount)
            for c in 0..<channels { for f in 0..<filters { for q in 0..<kernelCount {
                flipped[(c * filters + f) * kernelCount + q] = w[(f * channels + c) * kernelCount + q]
            } } }
            let backwardLines = g.lines(count: filters, planeStride: spreadLength, origin: g.reach, direction: -1)
            var inputGrid: [Float] = ElementLoops.uninitialized(channels * g.length)
            RowMajorGEMM.multiply(m: channels, n: g.length, k: filters * kernelCount, a: flipped, lda: filters * kernelCount,
                                  b: spread, lines: backwardLines, c: &inputGrid, ldc: g.length)
            tape.accumulate(g.inputs(of: inputGrid), into: input)
        }
    }
}

/// The layout of a stride-1 convolution without unrolling: each channel's padded planes of
/// all images one after another (`N` planes of `Hp × Wp`, then `reach` zeros). An output
/// position (`n`, `oh`, `ow`) is grid position `n·Hp·Wp + oh·Wp + ow`, and the window
/// element (`c`, `i`, `j`) of every position is channel `c`'s grid shifted by `i·Wp + j`:
/// the rows of the unrolled matrix are shifted views of one buffer. Positions between
/// outputs (the last `kW − 1` columns and `kH − 1` rows of each plane) are computed and
/// thrown away, the price of reading the images where they lie.
struct ShiftedPlanes {
    let batch, channels, height, width, kernelHeight, kernelWidth, padding: Int

    var paddedWidth: Int { width + 2 * padding }
    var paddedHeight: Int { height + 2 * padding }
    var plane: Int { paddedHeight * paddedWidth }
    /// Grid positions: every image's plane.
    var length: Int { batch * plane }
    /// The furthest shift of a window element.
    var reach: Int { (kernelHeight - 1) * paddedWidth + kernelWidth - 1 }
    /// A channel's padded planes and the zeros after them that the last shifts read.
    var paddedLength: Int { length + reach }
    var outputHeight: Int { paddedHeight - kernelHeight + 1 }
    var outputWidth: Int { paddedWidth - kernelWidth + 1 }
    var kernelCount: Int { kernelHeight * kernelWidth }

    /// The lines of the unrolled matrix for `count` planes of `planeStride` floats, in the
    /// order (plane, i, j): `origin + direction · (i·Wp + j)` into their plane.
    func lines(count: Int, planeStride: Int, origin: Int, direction: Int) -> [Int] {
        var lines: [Int] = []
        lines.reserveCapacity(count * kernelCount)
        for c in 0..<count { for i in 0..<kernelHeight { for j in 0..<kernelWidth {
            lines.append(c * planeStride + origin + direction * (i * paddedWidth + j))
        } } }
        return lines
    }

    /// `[N, C, H, W]` values as `[C, paddedLength]`: padded planes, zeros around them.
    func padded(_ x: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: channels * paddedLength)
        out.withUnsafeMutableBufferPointer { out in
            x.withUnsafeBufferPointer { x in
                for image in 0..<batch { for c in 0..<channels { for h in 0..<height {
                    let source = x.baseAddress! + ((image * channels + c) * height + h) * width
                    let target = c * paddedLength + image * plane + (h + padding) * paddedWidth + padding
                    (out.baseAddress! + target).update(from: source, count: width)
                } } }
            }
        }
        return out
    }

    /// `[planes, length]` grid values as `[N, planes, OH, OW]` outputs, plus each plane's bias.
    func outputs(of grid: [Float], planes: Int, bias: [Float]?) -> [Float] {
        var y: [Float] = ElementLoops.uninitialized(batch * planes * outputHeight * outputWidth)
        y.withUnsafeMutableBufferPointer { y in
            grid.withUnsafeBufferPointer { grid in
                for image in 0..<batch { for f in 0..<planes {
                    let offset = bias?[f] ?? 0
                    for row in 0..<outputHeight {
                        let source = grid.baseAddress! + f * length + image * plane + row * paddedWidth
                        let target = y.baseAddress! + ((image * planes + f) * outputHeight + row) * outputWidth
                        for column in 0..<outputWidth { target[column] = source[column] + offset }
                    }
                } }
            }
        }
        return y
    }

    /// `[N, planes, OH, OW]` gradients spread onto `[planes, reach + length]`: `reach` zeros,
    /// then the grid with each output's gradient at its position and zeros between.
    func spreading(_ dy: [Float], planes: Int) -> [Float] {
        let stride = reach + length
        var out = [Float](repeating: 0, count: planes * stride)
        out.withUnsafeMutableBufferPointer { out in
            dy.withUnsafeBufferPointer { dy in
                for image in 0..<batch { for f in 0..<planes { for row in 0..<outputHeight {
                    let source = dy.baseAddress! + ((image * planes + f) * outputHeight + row) * outputWidth
                    let target = f * stride + reach + image * plane + row * paddedWidth
                    (out.baseAddress! + target).update(from: source, count: outputWidth)
                } } }
            }
        }
        return out
    }

    /// `[C, length]` gradients on the padded grid as the `[N, C, H, W]` input's gradient.
    func inputs(of grid: [Float]) -> [Float] {
        var dx: [Float] = ElementLoops.uninitialized(batch * channels * height * width)
        dx.withUnsafeMutableBufferPointer { dx in
            grid.withUnsafeBufferPointer { grid in
                for image in 0..<batch { for c in 0..<channels { for h in 0..<height {
                    let source = grid.baseAddress! + c * length + image * plane + (h + padding) * paddedWidth + padding
                    (dx.baseAddress! + ((image * channels + c) * height + h) * width).update(from: source, count: width)
                } } }
            }
        }
        return dx
    }
}

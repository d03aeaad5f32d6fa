import CVectorMath
import LinearAlgebra

/// Conv and ConvTranspose in 1, 2 or 3 spatial dimensions, float32.
///
/// Conv unrolls each image's receptive fields into a matrix (im2col, split between two
/// threads) and multiplies it by the weights with one `sgemm` per image and group, or per
/// block of images when their feature maps are small; 1×1 convolutions with unit stride skip
/// the unrolling. Depthwise convolutions (one input channel per group) run a direct
/// loop instead, since a product with a single output row cannot use BLAS well, and 3×3
/// convolutions of stride 1 with enough channels run Winograd's F(2×2, 3×3)
/// (``winograd(_:_:_:into:batch:channels:filters:geometry:)``).
/// ConvTranspose is the adjoint: `sgemm` with the transposed weights, then col2im.
package enum ConvolutionOperators {
    static let factories: [String: OperatorFactory] = [
        "Conv": { context in
            let attributes = try WindowGeometry.Attributes(context)
            let group = try context.int("group", default: 1)
            guard group >= 1 else { throw context.invalid("group must be positive, not \(group)") }
            // Constant weights are transformed for Winograd once, at the first call that runs it.
            return ConvolutionOperator(attributes: attributes, group: group,
                                       winogradFilters: context.constants[1] != nil ? WinogradFilters() : nil)
        },
        "ConvTranspose": { context in
            let attributes = try WindowGeometry.Attributes(context)
            let group = try context.int("group", default: 1)
            let outputPadding = try context.ints("output_padding")
            let outputShape = try context.ints("output_shape")
            guard group >= 1 else { throw context.invalid("group must be positive, not \(group)") }
            return ClosureOperator { inputs in
                try [transposedConvolution(inputs.required(0), weight: inputs.required(1), bias: inputs.optional(2),
                                           group: group, attributes: attributes,
                                           outputPadding: outputPadding, outputShape: outputShape)]
            }
        },
    ]

    /// Checks the operands of a (transposed) convolution and returns their float32 values.
    static func operands(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, biasCount: Int) throws
        -> (x: [Float], w: [Float], bias: [Float]?)
    {
        guard x.rank >= 3, w.rank == x.rank else {
            throw KernelError("input \(x.shape) and weight \(w.shape) must have the same rank, at least 3")
        }
        let b = try bias?.requireFloats("bias")
        if let b, b.count != biasCount { throw KernelError("bias has \(b.count) values, \(biasCount) expected") }
        return (try x.requireFloats("input"), try w.requireFloats("weight"), b)
    }

    /// The convolution, plus `residual` (the output's elements, in its layout) if given,
    /// then `Relu` in place when `rectified`.
    static func convolve(_ x: Tensor, weight w: Tensor, bias: Tensor?, group: Int,
                         attributes: WindowGeometry.Attributes, winogradFilters: WinogradFilters? = nil,
                         rectified: Bool = false, residual: [Float]? = nil) throws -> Tensor {
        let (xs, ws, bs) = try operands(x, w, bias, biasCount: w.shape[0])
        let batch = x.shape[0], channels = x.shape[1], filters = w.shape[0]
        let kernel = Array(w.shape.dropFirst(2))
        if let declared = attributes.kernel, declared != kernel {
            throw KernelError("kernel_shape \(declared) differs from the weight's \(kernel)")
        }
        guard channels % group == 0, filters % group == 0, w.shape[1] * group == channels else {
            throw KernelError("input has \(channels) channels and weight \(w.shape) with group \(group): channels do not fit")
        }
        let g = try WindowGeometry(input: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: attributes)
        let channelsPerGroup = channels / group, filtersPerGroup = filters / group
        let outputCount = g.outputCount
        let shape = [batch, filters] + g.outputShape
        _ = try Tensor.checkedCount(shape)
        _ = try Tensor.checkedCount([channelsPerGroup] + kernel + g.outputShape, what: "its unrolled input")
        // Every element is written below: no zeroing pass.
        var output: [Float] = ElementLoops.uninitialized(batch * filters * outputCount)
        if channelsPerGroup == 1 && filtersPerGroup == 1 {
            output.withUnsafeMutableBufferPointer { out in
                for n in 0..<batch { fillBias(bs, out.baseAddress! + n * filters * outputCount, filters: filters, count: outputCount) }
            }
            depthwise(xs, ws, &output, batch: batch, channels: channels, geometry: g)
            finish(&output, adding: residual, rectified: rectified)
            return Tensor(shape: shape, elements: output)
        }
        let winograd = runsWinograd(g, batch: batch, channels: channels, filters: filters, group: group)
        xs.withUnsafeBufferPointer { xs in
            ws.withUnsafeBufferPointer { ws in
                output.withUnsafeMutableBufferPointer { out in
                    if winograd {
                        self.winograd(xs.baseAddress!, ws.baseAddress!, bs, into: out.baseAddress!, batch: batch,
                                      channels: channels, filters: filters, geometry: g, transformed: winogradFilters)
                        return
                    }
                    if runsPatches(g, group: group) {
                        patchProduct(xs.baseAddress!, ws.baseAddress!, bs, into: out.baseAddress!, batch: batch,
                                     channels: channels, filters: filters, geometry: g)
                        return
                    }
                    if runsPhases(g, group: group) {
                        phaseProduct(xs.baseAddress!, ws.baseAddress!, bs, into: out.baseAddress!, batch: batch,
                                     channels: channels, filters: filters, geometry: g)
                        return
                    }
                    unrollAndMultiply(xs.baseAddress!, ws.baseAddress!, bs, into: out.baseAddress!, batch: batch,
                                      channels: channels, filters: filters, group: group, geometry: g)
                }
            }
        }
        finish(&output, adding: residual, rectified: rectified)
        return Tensor(shape: shape, elements: output)
    }

    /// `residual` added (as `Add` does) and `Relu` applied (the operator's function) in
    /// place, in one pass split between the cores; nothing when neither is asked for.
    static func finish(_ values: inout [Float], adding residual: [Float]?, rectified: Bool) {
        guard residual != nil || rectified else { return }
        precondition(residual.map { $0.count == values.count } ?? true, "the residual has the output's elements")
        let relu = ActivationOperators.Relu()
        values.withUnsafeMutableBufferPointer { buffer in
            residual.withUnsafeBufferPointerOrNil { residual in
                let values = buffer.baseAddress!
                ElementLoops.inHalves(buffer.count) { range in
                    switch (residual, rectified) {
                    case let (residual?, true): for i in range { values[i] = relu(values[i] + residual[i]) }
                    case let (residual?, false): for i in range { values[i] += residual[i] }
                    case (nil, _): for i in range { values[i] = relu(values[i]) }
                    }
                }
            }
        }
    }

    /// The images of a batch unrolled one by one, or in blocks that share one product when
    /// their feature maps are small, and multiplied by the weights; 1×1 convolutions with unit
    /// stride multiply the input directly. Every output element is written.
    static func unrollAndMultiply(
        _ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, _ bias: [Float]?, into out: UnsafeMutablePointer<Float>,
        batch: Int, channels: Int, filters: Int, group: Int, geometry g: WindowGeometry
    ) {
        let beta: Float = bias == nil ? 0 : 1
        let channelsPerGroup = channels / group, filtersPerGroup = filters / group
        let rows = channelsPerGroup * g.kernelCount
        let outputCount = g.outputCount
        let perProduct = g.isPointwise ? 1 : imagesPerProduct(batch: batch, rows: rows, outputCount: outputCount)
        let width = perProduct * outputCount
        // im2col writes every element, padding included.
        var columns: [Float] = ElementLoops.uninitialized(g.isPointwise ? 0 : rows * width)
        var product: [Float] = ElementLoops.uninitialized(perProduct > 1 ? filtersPerGroup * width : 0)
        columns.withUnsafeMutableBufferPointer { columns in
            product.withUnsafeMutableBufferPointer { product in
                let cols = columns.baseAddress, product = product.baseAddress
                for first in stride(from: 0, to: batch, by: perProduct) {
                    let count = min(perProduct, batch - first)
                    // A lone image's product overwrites its planes when there is no bias.
                    if bias != nil || perProduct > 1 {
                        for j in 0..<count {
                            fillBias(bias, out + (first + j) * filters * outputCount, filters: filters, count: outputCount)
                        }
                    }
                    for grp in 0..<group {
                        let weights = ws + grp * filtersPerGroup * rows
                        if perProduct == 1 {
                            // One image: the product lands in its output planes.
                            let image = xs + (first * channels + grp * channelsPerGroup) * g.inputCount
                            let source: UnsafePointer<Float>
                            if g.isPointwise {
                                source = image
                            } else {
                                im2colInParallel(image, channels: channelsPerGroup, geometry: g, into: cols!, pitch: outputCount)
                                source = UnsafePointer(cols!)
                            }
                            RowMajorGEMM.multiply(
                                m: filtersPerGroup, n: outputCount, k: rows, a: weights, lda: rows,
                                b: source, ldb: outputCount, beta: beta,
                                c: out + (first * filters + grp * filtersPerGroup) * outputCount, ldc: outputCount)
                            continue
                        }
                        // Several images: their columns side by side, one product, then each
                        // image's part added to its planes (which hold the bias).
                        for j in 0..<count {
                            let image = xs + ((first + j) * channels + grp * channelsPerGroup) * g.inputCount
                            im2colInParallel(image, channels: channelsPerGroup, geometry: g, into: cols! + j * outputCount,
                                             pitch: width)
                        }
                        RowMajorGEMM.multiply(
                            m: filtersPerGroup, n: count * outputCount, k: rows, a: weights, lda: rows,
                            b: cols!, ldb: width, c: product!, ldc: width)
                        for j in 0..<count {
                            for f in 0..<filtersPerGroup {
                                let plane = out + ((first + j) * filters + grp * filtersPerGroup + f) * outputCount
                                let source = product! + f * width + j * outputCount
                                for p in 0..<outputCount { plane[p] += source[p] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sets the planes of one image's output to their filters' bias (or zero).
    static func fillBias(_ bias: [Float]?, _ image: UnsafeMutablePointer<Float>, filters: Int, count: Int) {
        for f in 0..<filters { (image + f * count).update(repeating: bias?[f] ?? 0, count: count) }
    }

    /// How many images share one matrix product. A product whose result has few columns
    /// (a deep layer's small feature maps: 7×7 is 49 columns) keeps BLAS far from its best,
    /// so the columns of several images are laid side by side until the product has about
    /// 512 of them, as long as the unrolled block stays within 16 MB.
    static func imagesPerProduct(batch: Int, rows: Int, outputCount: Int) -> Int {
        guard batch > 1, outputCount < 512 else { return 1 }
        let wanted = (512 + outputCount - 1) / outputCount
        let fitting = max(1, (1 << 22) / max(1, rows * outputCount))
        return min(batch, wanted, fitting)
    }

    /// Unrolls `channels` planes of one image: row `(c, kd, kh, kw)`, column `(od, oh, ow)`,
    /// zero where the window reads padding. Rows start `pitch` elements apart.
    /// ``im2col(_:channels:geometry:into:pitch:)`` with the channels split over two threads when
    /// the columns are large enough to pay for it (the unrolling is memory-bound and would
    /// otherwise leave the second core idle between matrix products).
    static func im2colInParallel(_ image: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                                 into columns: UnsafeMutablePointer<Float>, pitch: Int? = nil) {
        let pitch = pitch ?? g.outputCount
        let perChannel = g.kernelCount * pitch
        ElementLoops.inHalves(channels, elements: channels * g.kernelCount * g.outputCount, threshold: 1 << 16) { range in
            im2col(image + range.lowerBound * g.inputCount, channels: range.count, geometry: g,
                   into: columns + range.lowerBound * perChannel, pitch: pitch)
        }
    }

    /// Walks the unrolled columns line by line: for each channel, kernel offset and output
    /// row (in the order of ``im2col(_:channels:geometry:into:pitch:)``'s rows), `body` gets
    /// the line's offset in the columns and, when the row reads inside the input, the offset
    /// in the image of the input value under output column 0 (nil when it reads padding),
    /// with the range of output columns that read inside the input.
    @inline(__always)
    private static func forEachColumnLine(channels: Int, geometry g: WindowGeometry, pitch: Int,
                                          _ body: (_ columns: Int, _ input: Int?, _ inside: Range<Int>) -> Void) {
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        var row = 0
        for c in 0..<channels {
            let plane = c * g.inputCount
            for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
                let (offset, first, last) = g.insideColumns(kernel: kw)
                var line = row
                for od in 0..<outD {
                    let id = g.source(0, output: od, kernel: kd)
                    for oh in 0..<outH {
                        let ih = g.source(1, output: oh, kernel: kh)
                        let inside = id >= 0 && id < inD && ih >= 0 && ih < inH
                        body(line, inside ? plane + (id * inH + ih) * inW + offset : nil, first..<last)
                        line += outW
                    }
                }
                row += pitch
            } } }
        }
    }

    package static func im2col(_ image: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                               into columns: UnsafeMutablePointer<Float>, pitch: Int) {
        let outW = g.output[2], strideW = g.strides[2]
        if g.isPlanar {
            repprobe_im2col(columns, image, channels, g.input[1], g.input[2], g.kernel[1], g.kernel[2], g.strides[1],
                            g.strides[2], g.padBegin[1], g.padBegin[2], g.dilations[1], g.dilations[2], g.output[1],
                            g.output[2], pitch)
            return
        }
        forEachColumnLine(channels: channels, geometry: g, pitch: pitch) { at, input, inside in
            let out = columns + at
            guard let input else { return out.update(repeating: 0, count: outW) }
            let line = image + input
            if inside.lowerBound > 0 { out.update(repeating: 0, count: inside.lowerBound) }
            if strideW == 1 {
                (out + inside.lowerBound).update(from: line + inside.lowerBound, count: inside.count)
            } else {
                for ow in inside { out[ow] = line[ow * strideW] }
            }
            if inside.upperBound < outW { (out + inside.upperBound).update(repeating: 0, count: outW - inside.upperBound) }
        }
    }

    /// The adjoint of ``im2col(_:channels:geometry:into:pitch:)``: adds every column entry back
    /// to the input value it was read from (entries read from padding are dropped). The
    /// training module's convolution gradients go through it.
    package static func col2im(_ columns: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry,
                               into image: UnsafeMutablePointer<Float>, pitch: Int) {
        if g.isPlanar {
            repprobe_col2im(image, columns, channels, g.input[1], g.input[2], g.kernel[1], g.kernel[2], g.strides[1],
                            g.strides[2], g.padBegin[1], g.padBegin[2], g.dilations[1], g.dilations[2], g.output[1],
                            g.output[2], pitch)
            return
        }
        let strideW = g.strides[2]
        forEachColumnLine(channels: channels, geometry: g, pitch: pitch) { at, input, inside in
            guard let input else { return }
            let line = image + input, source = columns + at
            for ow in inside { line[ow * strideW] += source[ow] }
        }
    }

    /// One filter per channel: accumulates each output plane directly.
    static func depthwise(_ xs: [Float], _ ws: [Float], _ output: inout [Float], batch: Int, channels: Int,
                          geometry g: WindowGeometry) {
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        let strideW = g.strides[2]
        xs.withUnsafeBufferPointer { xs in
            ws.withUnsafeBufferPointer { ws in
                output.withUnsafeMutableBufferPointer { out in
                    for n in 0..<batch {
                        for c in 0..<channels {
                            let plane = xs.baseAddress! + (n * channels + c) * g.inputCount
                            let filter = ws.baseAddress! + c * g.kernelCount
                            let result = out.baseAddress! + (n * channels + c) * g.outputCount
                            var tap = 0
                            for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
                                let weight = filter[tap]
                                tap += 1
                                let (offset, first, last) = g.insideColumns(kernel: kw)
                                for od in 0..<outD {
                                    let id = g.source(0, output: od, kernel: kd)
                                    guard id >= 0 && id < inD else { continue }
                                    for oh in 0..<outH {
                                        let ih = g.source(1, output: oh, kernel: kh)
                                        guard ih >= 0 && ih < inH else { continue }
                                        let line = plane + (id * inH + ih) * inW + offset
                                        let target = result + (od * outH + oh) * outW
                                        for ow in first..<last { target[ow] += weight * line[ow * strideW] }
                                    }
                                }
                            } } }
                        }
                    }
                }
            }
        }
    }

    static func transposedConvolution(
        _ x: Tensor, weight w: Tensor, bias: Tensor?, group: Int, attributes: WindowGeometry.Attributes,
        outputPadding: [Int]?, outputShape: [Int]?
    ) throws -> Tensor {
        let batch = x.shape[0], channels = x.shape[1]
        guard w.rank == x.rank, w.shape[0] == channels, channels % group == 0 else {
            throw KernelError("input \(x.shape) and weight \(w.shape) with group \(group) do not fit")
        }
        let filtersPerGroup = w.shape[1], filters = filtersPerGroup * group
        let (xs, ws, bs) = try operands(x, w, bias, biasCount: filters)
        let spatial = Array(x.shape.dropFirst(2)), kernel = Array(w.shape.dropFirst(2))
        let rank = spatial.count
        guard (1...3).contains(rank) else { throw KernelError("\(rank) spatial dimensions are not supported (1 to 3 are)") }
        let strides = attributes.strides ?? Array(repeating: 1, count: rank)
        let dilations = attributes.dilations ?? Array(repeating: 1, count: rank)
        let extraPadding = outputPadding ?? Array(repeating: 0, count: rank)
        guard strides.count == rank, dilations.count == rank, extraPadding.count == rank else {
            throw KernelError("strides, dilations and output_padding must have \(rank) values")
        }
        var begin = Array(repeating: 0, count: rank), end = Array(repeating: 0, count: rank)
        var size = Array(repeating: 0, count: rank)
        let automatic = attributes.autoPad == "SAME_UPPER" || attributes.autoPad == "SAME_LOWER"
        if let outputShape {
            guard outputShape.count >= rank, outputShape.allSatisfy({ (0...Tensor.maximumCount).contains($0) }) else {
                throw KernelError("output_shape \(outputShape) does not give \(rank) spatial sizes")
            }
        }
        guard (spatial + kernel).allSatisfy({ $0 <= Tensor.maximumCount }), extraPadding.allSatisfy({ (0...WindowGeometry.Attributes.largestStep).contains($0) }) else {
            throw KernelError("input \(x.shape), weight \(w.shape) or output_padding \(extraPadding) are beyond the largest sizes")
        }
        for axis in 0..<rank {
            let full = strides[axis] * (spatial[axis] - 1) + extraPadding[axis] + (kernel[axis] - 1) * dilations[axis] + 1
            if outputShape != nil || automatic {
                let target = outputShape.map { $0[$0.count - rank + axis] } ?? spatial[axis] * strides[axis]
                let total = full - target
                // Floor division: a target larger than the full output gives negative padding.
                let small = total >= 0 ? total / 2 : -((-total + 1) / 2)
                (begin[axis], end[axis]) = attributes.autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
                size[axis] = target
            } else {
                if let pads = attributes.pads {
                    guard pads.count == 2 * rank else { throw KernelError("pads \(pads) must have \(2 * rank) values") }
                    (begin[axis], end[axis]) = (pads[axis], pads[rank + axis])
                }
                size[axis] = full - begin[axis] - end[axis]
            }
            guard size[axis] > 0 else { throw KernelError("the output would be empty along spatial axis \(axis)") }
        }
        let lead = 3 - rank
        let pad1 = { (v: [Int]) in Array(repeating: 1, count: lead) + v }
        let pad0 = { (v: [Int]) in Array(repeating: 0, count: lead) + v }
        let (inS, kS, sS, dS, bS, oS) = (pad1(spatial), pad1(kernel), pad1(strides), pad1(dilations), pad0(begin), pad1(size))
        _ = try Tensor.checkedCount([batch, filters] + size)
        _ = try Tensor.checkedCount([filtersPerGroup] + kernel + spatial, what: "its unrolled input")
        let inputCount = inS.reduce(1, *), outputCount = oS.reduce(1, *), kernelCount = kS.reduce(1, *)
        let channelsPerGroup = channels / group
        let rows = filtersPerGroup * kernelCount
        var output = [Float](repeating: 0, count: batch * filters * outputCount)
        var columns = [Float](repeating: 0, count: rows * inputCount)
        xs.withUnsafeBufferPointer { xs in
            ws.withUnsafeBufferPointer { ws in
                output.withUnsafeMutableBufferPointer { out in
                    columns.withUnsafeMutableBufferPointer { cols in
                        for n in 0..<batch {
                            for grp in 0..<group {
                                RowMajorGEMM.multiply(
                                    transposeA: true, m: rows, n: inputCount, k: channelsPerGroup,
                                    a: ws.baseAddress! + grp * channelsPerGroup * rows, lda: rows,
                                    b: xs.baseAddress! + (n * channels + grp * channelsPerGroup) * inputCount, ldb: inputCount,
                                    c: cols.baseAddress!, ldc: inputCount)
                                // col2im: scatter-add every column back to the output positions it came from.
                                for f in 0..<filtersPerGroup {
                                    let plane = out.baseAddress! + (n * filters + grp * filtersPerGroup + f) * outputCount
                                    var row = cols.baseAddress! + f * kernelCount * inputCount
                                    for kd in 0..<kS[0] { for kh in 0..<kS[1] { for kw in 0..<kS[2] {
                                        for id in 0..<inS[0] {
                                            let od = id * sS[0] - bS[0] + kd * dS[0]
                                            guard od >= 0 && od < oS[0] else { continue }
                                            for ih in 0..<inS[1] {
                                                let oh = ih * sS[1] - bS[1] + kh * dS[1]
                                                guard oh >= 0 && oh < oS[1] else { continue }
                                                let line = row + (id * inS[1] + ih) * inS[2]
                                                let target = plane + (od * oS[1] + oh) * oS[2]
                                                for iw in 0..<inS[2] {
                                                    let ow = iw * sS[2] - bS[2] + kw * dS[2]
                                                    if ow >= 0 && ow < oS[2] { target[ow] += line[iw] }
                                                }
                                            }
                                        }
                                        row += inputCount
                                    } } }
                                }
                            }
                        }
                        if let bs {
                            for n in 0..<batch { for f in 0..<filters {
                                let plane = out.baseAddress! + (n * filters + f) * outputCount
                                for p in 0..<outputCount { plane[p] += bs[f] }
                            } }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, filters] + size, elements: output)
    }
}

/// A compiled `Conv` node; `rectified` when a fused `Relu` follows it
/// (``FusedChain``).
struct ConvolutionOperator: Operator {
    let attributes: WindowGeometry.Attributes
    let group: Int
    let winogradFilters: WinogradFilters?
    var rectified = false

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        try [convolve(inputs.required(0), weight: inputs.required(1), bias: inputs.optional(2))]
    }

    /// The node's output, with `residual` (the output's elements) added before rectifying.
    func convolve(_ x: Tensor, weight: Tensor, bias: Tensor?, residual: [Float]? = nil) throws -> Tensor {
        try ConvolutionOperators.convolve(x, weight: weight, bias: bias, group: group, attributes: attributes,
                                          winogradFilters: winogradFilters, rectified: rectified, residual: residual)
    }
}


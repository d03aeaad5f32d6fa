extension ConvolutionOperators {
    /// Whether a convolution cuts its input into patches that do not overlap: a planar window
    /// of one group, as large as its stride, without dilation or padding (a vision
    /// transformer's patch embedding). Each row of the unrolled matrix's transpose is then
    /// one patch, whose lines of the kernel's width lie side by side in the image. The product
    /// needs the own kernel, which reads the transposed patches in blocks of 16 × 16.
    static func runsPatches(_ g: WindowGeometry, group: Int) -> Bool {
        guard RowMajorGEMM.ownKernel, group == 1, g.isPlanar, g.dilations == [1, 1, 1] else { return false }
        return g.kernel[1] == g.strides[1] && g.kernel[2] == g.strides[2] && g.kernel[1] * g.kernel[2] > 1
            && g.padBegin == [0, 0, 0] && g.padEnd == [0, 0, 0]
    }

    /// A convolution over patches that do not overlap (``runsPatches(_:group:)``) as one
    /// product per block of images: the block's patches are copied one per row, each the
    /// `channels × kh` lines of `kw` floats it covers (one copy of the input, in runs of
    /// the kernel's width where im2col would read one float in `stride`), then multiplied
    /// by the weights as the product's transposed B. The product's columns are the block's
    /// patches image after image; each image's columns go to its place in the output with
    /// the bias added.
    static func patchProduct(_ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, _ bias: [Float]?,
                             into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int,
                             geometry g: WindowGeometry) {
        let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        let (kh, kw) = (g.kernel[1], g.kernel[2])
        let depth = channels * kh * kw, positions = outH * outW
        // Images whose patches and product columns fit in 16 MB.
        let perBlock = max(1, min(batch, (1 << 22) / max(1, (depth + filters) * positions)))
        var patches: [Float] = ElementLoops.uninitialized(perBlock * positions * depth)
        var grid: [Float] = ElementLoops.uninitialized(filters * perBlock * positions)
        patches.withUnsafeMutableBufferPointer { patches in
            grid.withUnsafeMutableBufferPointer { grid in
                let (patches, grid) = (patches.baseAddress!, grid.baseAddress!)
                for first in stride(from: 0, to: batch, by: perBlock) {
                    let count = min(perBlock, batch - first)
                    // Row (j, y, x) of the block's patch matrix, in the weights' order (c, i, j).
                    ElementLoops.inHalves(count * outH, elements: count * positions * depth) { rows in
                        for row in rows {
                            let (j, y) = row.quotientAndRemainder(dividingBy: outH)
                            let image = xs + (first + j) * channels * inH * inW
                            for x in 0..<outW {
                                var target = patches + ((j * outH + y) * outW + x) * depth
                                for c in 0..<channels {
                                    var source = image + (c * inH + y * kh) * inW + x * kw
                                    for _ in 0..<kh {
                                        target.update(from: source, count: kw)
                                        target += kw
                                        source += inW
                                    }
                                }
                            }
                        }
                    }
                    let columns = count * positions
                    RowMajorGEMM.multiply(transposeB: true, m: filters, n: columns, k: depth, a: ws, lda: depth,
                                          b: UnsafePointer(patches), ldb: depth, c: grid, ldc: columns)
                    ElementLoops.inHalves(filters, elements: filters * columns) { part in
                        for f in part {
                            let offset = bias?[f] ?? 0
                            for j in 0..<count {
                                let (target, source) = (out + ((first + j) * filters + f) * positions,
                                                        grid + f * columns + j * positions)
                                for p in 0..<positions { target[p] = source[p] + offset }
                            }
                        }
                    }
                }
            }
        }
    }
}

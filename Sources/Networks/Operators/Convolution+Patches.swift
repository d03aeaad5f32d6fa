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

    /// A convolution over patches that do not overlap (``runsPatches(_:group:)``), image by
    /// image: the image's patches are copied one per row, each the `channels × kh` lines of
    /// `kw` floats it covers (one copy of the input, in runs of the kernel's width where
    /// im2col would read one float in `stride`), and the weights multiplied by them as the
    /// product's transposed B into the image's output, which holds the bias. An image's
    /// patches (600 KB for ViT-B/16's) stay in the core's cache from the copy to the product.
    ///
    /// Each thread takes whole images, as many as the threads share evenly; the images left
    /// over have their copy and product split between the threads. Either way every output
    /// has the same bits: the bias, then the kernel's sums added to it.
    static func patchProduct(_ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, _ bias: [Float]?,
                             into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int,
                             geometry g: WindowGeometry) {
        let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        let (kh, kw) = (g.kernel[1], g.kernel[2])
        let depth = channels * kh * kw, positions = outH * outW
        /// Copies rows `rows` (patch rows `y`) of image `n`'s patches into `patches`.
        func copy(_ n: Int, rows: Range<Int>, into patches: UnsafeMutablePointer<Float>) {
            let image = xs + n * channels * inH * inW
            for y in rows {
                for x in 0..<outW {
                    var target = patches + (y * outW + x) * depth
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
        let threads = Parallel.threads
        let shared = threads > 1 ? batch / threads * threads : 0
        Parallel.forEach(shared == 0 ? 0 : threads) { part in
            var patches: [Float] = ElementLoops.uninitialized(positions * depth)
            patches.withUnsafeMutableBufferPointer { patches in
                let patches = patches.baseAddress!
                for n in stride(from: part, to: shared, by: threads) {
                    let output = out + n * filters * positions
                    copy(n, rows: 0..<outH, into: patches)
                    fillBias(bias, output, filters: filters, count: positions)
                    RowMajorGEMM.kernelProduct(transposeA: false, transposeB: true, m: filters, n: positions, k: depth,
                                               a: ws, lda: depth, b: patches, ldb: depth, accumulate: true, c: output,
                                               ldc: positions)
                }
            }
        }
        guard shared < batch else { return }
        var patches: [Float] = ElementLoops.uninitialized(positions * depth)
        patches.withUnsafeMutableBufferPointer { patches in
            let patches = patches.baseAddress!
            for n in shared..<batch {
                let output = out + n * filters * positions
                ElementLoops.inHalves(outH, elements: positions * depth) { copy(n, rows: $0, into: patches) }
                fillBias(bias, output, filters: filters, count: positions)
                RowMajorGEMM.multiply(transposeB: true, m: filters, n: positions, k: depth, a: ws, lda: depth,
                                      b: UnsafePointer(patches), ldb: depth, beta: 1, c: output, ldc: positions)
            }
        }
    }
}

import CVectorMath

extension ConvolutionOperators {
    /// Whether a convolution runs on phase planes
    /// (``phaseProduct(_:_:_:into:batch:channels:filters:geometry:)``): a strided planar
    /// window of one group without dilation whose kernel is at least as large as its stride
    /// on both axes, so that every phase of the input is read. A 1 × 1 strided convolution
    /// reads only one phase, which im2col copies out as cheaply. The product needs the own
    /// kernel, which reads B's lines where they lie.
    static func runsPhases(_ g: WindowGeometry, group: Int) -> Bool {
        guard RowMajorGEMM.ownKernel, group == 1, g.isPlanar, g.dilations[1] == 1, g.dilations[2] == 1 else { return false }
        let (strideH, strideW) = (g.strides[1], g.strides[2])
        return strideH * strideW > 1 && g.kernel[1] >= strideH && g.kernel[2] >= strideW
    }

    /// A strided convolution as one product per block of images whose B is read where it
    /// lies, instead of an unrolled matrix: the input is split into its stride's phases
    /// (phase (a, b) of a plane holds the padded input at rows `s·y + a` and columns
    /// `t·x + b`), and the window element (i, j) of every output then reads phase
    /// (i mod s, j mod t) shifted by `(i div s)` rows and `(j div t)` columns. The outputs
    /// are computed on the phases' grid and the columns beyond the output's width dropped.
    /// The phases hold the input once (plus a few rows and columns of padding) where the
    /// unrolled matrix holds it `kernel / stride²` times: 12 times for a 7 × 7 stem of
    /// stride 2.
    static func phaseProduct(_ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, _ bias: [Float]?,
                             into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int,
                             geometry g: WindowGeometry) {
        let phases = PhasePlanes(g)
        let perBlock = phases.imagesPerBlock(batch: batch, channels: channels, filters: filters)
        let pitch = perBlock * phases.plane
        let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        let lines = phases.lines(channels: channels, pitch: pitch)
        var planes: [Float] = ElementLoops.uninitialized(channels * phases.count * pitch)
        var grid: [Float] = ElementLoops.uninitialized(filters * pitch)
        planes.withUnsafeMutableBufferPointer { planes in
            grid.withUnsafeMutableBufferPointer { grid in
                lines.withUnsafeBufferPointer { lines in
                    let (planes, grid) = (planes.baseAddress!, grid.baseAddress!)
                    for first in stride(from: 0, to: batch, by: perBlock) {
                        let count = min(perBlock, batch - first)
                        // im2col with a window of the stride's size and step lays out the
                        // phases: its row (c, a, b) is phase (a, b) of channel c.
                        ElementLoops.inHalves(channels, elements: channels * phases.count * count * phases.plane) { part in
                            for j in 0..<count {
                                let image = xs + ((first + j) * channels + part.lowerBound) * inH * inW
                                repprobe_im2col(planes + part.lowerBound * phases.count * pitch + j * phases.plane,
                                                image, part.count, inH, inW, g.strides[1], g.strides[2], g.strides[1],
                                                g.strides[2], g.padBegin[1], g.padBegin[2], 1, 1, phases.high, phases.wide,
                                                pitch)
                            }
                        }
                        // Grid columns up to the last output of the block's last image.
                        let columns = (count - 1) * phases.plane + (outH - 1) * phases.wide + outW
                        RowMajorGEMM.multiply(m: filters, n: columns, k: lines.count, a: ws, lda: lines.count,
                                              b: UnsafePointer(planes), lines: lines.baseAddress!,
                                              c: grid, ldc: pitch)
                        ElementLoops.inHalves(filters, elements: filters * count * outH * outW) { part in
                            for f in part {
                                let offset = bias?[f] ?? 0
                                for j in 0..<count {
                                    let target = out + ((first + j) * filters + f) * outH * outW
                                    let source = grid + f * pitch + j * phases.plane
                                    for row in 0..<outH {
                                        let (to, from) = (target + row * outW, source + row * phases.wide)
                                        for column in 0..<outW { to[column] = from[column] + offset }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The phases of a strided convolution's padded input (``ConvolutionOperators/phaseProduct(_:_:_:into:batch:channels:filters:geometry:)``).
struct PhasePlanes {
    let g: WindowGeometry
    /// Each phase's rows and columns: the output's, plus the furthest shift of a window element.
    let high, wide: Int

    init(_ g: WindowGeometry) {
        self.g = g
        high = g.output[1] + (g.kernel[1] - 1) * g.dilations[1] / g.strides[1]
        wide = g.output[2] + (g.kernel[2] - 1) * g.dilations[2] / g.strides[2]
    }

    /// Phases per channel.
    var count: Int { g.strides[1] * g.strides[2] }
    /// Floats of one phase of one image.
    var plane: Int { high * wide }

    /// The offsets of the unrolled matrix's lines, in the order of the weights' columns
    /// (c, i, j): phase (i·dh mod s, j·dw mod t) of channel c, `pitch` floats apart, shifted by
    /// (i·dh div s) rows and (j·dw div t) columns.
    func lines(channels: Int, pitch: Int) -> [Int] {
        let (s, t) = (g.strides[1], g.strides[2])
        var lines: [Int] = []
        lines.reserveCapacity(channels * g.kernel[1] * g.kernel[2])
        for c in 0..<channels { for i in 0..<g.kernel[1] { for j in 0..<g.kernel[2] {
            let (y, x) = (i * g.dilations[1], j * g.dilations[2])
            lines.append((c * count + (y % s) * t + x % t) * pitch + (y / s) * wide + x / t)
        } } }
        return lines
    }

    /// Images whose phases share one product: enough for about 512 grid columns, within
    /// 16 MB of phases and grid.
    func imagesPerBlock(batch: Int, channels: Int, filters: Int) -> Int {
        let wanted = (512 + plane - 1) / plane
        let fitting = max(1, (1 << 22) / max(1, (channels * count + filters) * plane))
        return max(1, min(batch, wanted, fitting))
    }
}

import Dispatch
import LinearAlgebra

/// 3×3 convolutions with unit stride by Winograd's minimal filtering, F(m×m, 3×3) (Lavin &
/// Gray 2016).
///
/// The output is cut into `m × m` tiles, each computed from an `a × a` tile of the input
/// (`a = m + 2`): with `Bᵀ`, `G` and `Aᵀ` the transforms of the chosen interpolation points,
/// a tile of one filter over one channel is `Aᵀ[(G g Gᵀ) ∘ (Bᵀ d B)]A`, so the sum over
/// channels becomes `a²` independent matrix products, `(filters × channels)` by
/// `(channels × tiles)`, one per position of the transformed tile. That is `a²/(9m²)` of
/// the multiplications of a direct or im2col convolution (0.44 for m = 2), and the input is
/// read `a²/m²` times over (4 for m = 2) instead of the nine times of im2col.
///
/// m = 2 keeps the rounding of a direct convolution in float32: every coefficient of its
/// transforms is 0, ±1 or ±½, and a check against a float64 direct convolution over 256
/// channels gives the same largest relative error (3.2e-7 against 3.3e-7). F(4×4, 3×3)
/// would halve the products again but divides by 6 and 24 and multiplies by 8, for ten
/// times the error (4e-6); activations are what repprobe measures, so it keeps m = 2.
enum WinogradConvolution {
    static let m = 2
    static let a = m + 2
    // The transforms, written out in `transformedFilters`, `transformInputs` and
    // `transformOutputs`: G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] for the filters,
    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1] for the input tiles and
    // Aᵀ = [1 1 1 0; 0 1 −1 −1] for the output tiles.

    /// Whether a convolution of this geometry takes this path: 2-D, 3×3, unit strides and
    /// dilations, one group, enough channels and filters for the products to run at BLAS
    /// speed, and feature maps large enough for tiles to fill them (a 7 × 7 map would be
    /// computed as 8 × 8, and its few tiles make narrow products).
    static func applies(_ geometry: WindowGeometry, channels: Int, filters: Int, group: Int) -> Bool {
        group == 1 && geometry.spatialRank == 2 && geometry.kernel == [1, 3, 3] && geometry.strides == [1, 1, 1]
            && geometry.dilations == [1, 1, 1] && channels >= 16 && filters >= 16
            && geometry.output[1] >= 12 && geometry.output[2] >= 12
    }

    /// Convolves `batch` images of `channels × H × W` (`xs`) with `filters × channels × 3 × 3`
    /// weights into `out` (`batch × filters × outH × outW`, every element written).
    ///
    /// The tiles are cut into blocks of whole tile rows, and two threads take alternate
    /// blocks through all three steps (input transform, the `a²` products on one BLAS thread
    /// each, output transform): the products of one block are small, and OpenBLAS splitting
    /// each of them between the cores would cost more in hand-offs than it gains.
    static func convolve(_ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, bias: [Float]?,
                         into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int,
                         geometry: WindowGeometry) {
        let u = transformedFilters(ws, filters: filters, channels: channels)
        let tiling = Tiling(geometry, batch: batch, channels: channels, filters: filters)
        let blocks = (tiling.rows + tiling.rowsPerBlock - 1) / tiling.rowsPerBlock
        let workers = min(2, blocks)
        u.withUnsafeBufferPointer { u in
            let pointers = UnsafeSendable((xs, u.baseAddress!, out))
            BLASThreads.one(if: true) {
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let (xs, u, out) = pointers.value
                    let positions = a * a
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: positions * channels * tiling.tilesPerBlock)
                    let p = UnsafeMutablePointer<Float>.allocate(capacity: positions * filters * tiling.tilesPerBlock)
                    defer { v.deallocate(); p.deallocate() }
                    for block in stride(from: worker, to: blocks, by: workers) {
                        let firstRow = block * tiling.rowsPerBlock
                        let rows = firstRow..<min(tiling.rows, firstRow + tiling.rowsPerBlock)
                        let tiles = rows.count * tiling.tilesW
                        transformInputs(xs, channels: 0..<channels, rows: rows, tiling: tiling, into: v)
                        for position in 0..<positions {
                            RowMajorGEMM.multiply(
                                m: filters, n: tiles, k: channels, a: u + position * filters * channels, lda: channels,
                                b: v + position * channels * tiles, ldb: tiles, c: p + position * filters * tiles, ldc: tiles)
                        }
                        transformOutputs(p, filters: 0..<filters, bias: bias, rows: rows, tiling: tiling, into: out)
                    }
                }
            }
        }
    }

    /// How the output is cut into tiles, and the tiles into blocks: a tile row is one image's
    /// row of `tilesW` tiles, and a block holds whole tile rows, about 256 tiles, fewer when
    /// the transformed block of the wider of inputs and outputs would exceed 1 M values, and
    /// at most half of all rows, so that both threads have work.
    struct Tiling {
        let channels: Int, filters: Int
        let height: Int, width: Int, padTop: Int, padLeft: Int
        let outH: Int, outW: Int
        let tilesH: Int, tilesW: Int
        /// Tile rows over the whole batch, and per block.
        let rows: Int, rowsPerBlock: Int

        init(_ g: WindowGeometry, batch: Int, channels: Int, filters: Int) {
            (self.channels, self.filters) = (channels, filters)
            (height, width) = (g.input[1], g.input[2])
            (padTop, padLeft) = (g.padBegin[1], g.padBegin[2])
            (outH, outW) = (g.output[1], g.output[2])
            tilesH = (outH + m - 1) / m
            tilesW = (outW + m - 1) / m
            rows = batch * tilesH
            let byWork = max(1, 256 / tilesW)
            let bySize = max(1, (1 << 20) / (a * a * max(channels, filters) * tilesW))
            rowsPerBlock = max(1, min((rows + 1) / 2, byWork, bySize))
        }

        var tilesPerBlock: Int { rowsPerBlock * tilesW }
    }

    /// `U = G g Gᵀ` for every filter and channel, stored as `a²` row-major `filters × channels`
    /// matrices, one per tile position. With `G` as above, the rows of a 3 × 3 kernel combine
    /// as `(g₀, (g₀ + g₁ + g₂)/2, (g₀ − g₁ + g₂)/2, g₂)`, then its columns likewise.
    static func transformedFilters(_ ws: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        let pairs = filters * channels
        var u: [Float] = ElementLoops.uninitialized(a * a * pairs)
        u.withUnsafeMutableBufferPointer { u in
            let target = UnsafeSendable(u.baseAddress!)
            ElementLoops.inHalves(filters, elements: pairs * 9, threshold: 1 << 14) { range in
                let u = target.value
                for f in range {
                    for c in 0..<channels {
                        let k = ws + (f * channels + c) * 9
                        @inline(__always) func combine(_ x0: Float, _ x1: Float, _ x2: Float) -> (Float, Float, Float, Float) {
                            (x0, (x0 + x1 + x2) * 0.5, (x0 - x1 + x2) * 0.5, x2)
                        }
                        // Rows of the kernel (per column y), then columns of the 4 × 3 result.
                        let c0 = combine(k[0], k[3], k[6]), c1 = combine(k[1], k[4], k[7]), c2 = combine(k[2], k[5], k[8])
                        let rows = [combine(c0.0, c1.0, c2.0), combine(c0.1, c1.1, c2.1), combine(c0.2, c1.2, c2.2),
                                    combine(c0.3, c1.3, c2.3)]
                        let pair = f * channels + c
                        for (i, row) in rows.enumerated() {
                            u[(i * a) * pairs + pair] = row.0
                            u[(i * a + 1) * pairs + pair] = row.1
                            u[(i * a + 2) * pairs + pair] = row.2
                            u[(i * a + 3) * pairs + pair] = row.3
                        }
                    }
                }
            }
        }
        return u
    }

    /// `V = Bᵀ d B` of every input tile of the block's tile `rows`, for `channels`, stored as
    /// `a²` row-major `channels × tiles` matrices (all channels, this block's tiles).
    ///
    /// With `Bᵀ` as above, the columns of a tile combine first, `(d₀ − d₂, d₁ + d₂, d₂ − d₁,
    /// d₁ − d₃)` within each of its four input rows, then the rows likewise; the four rows
    /// are copied into a zero-padded line first, so that no tile looks at the borders.
    static func transformInputs(_ xs: UnsafePointer<Float>, channels: Range<Int>, rows: Range<Int>, tiling t: Tiling,
                                into v: UnsafeMutablePointer<Float>) {
        let n = t.tilesW, span = n * m + 2, tiles = rows.count * n
        let line = UnsafeMutablePointer<Float>.allocate(capacity: a * span)
        defer { line.deallocate() }
        let first = min(span, t.padLeft), last = min(span, max(first, t.width + t.padLeft))
        let positionStride = t.channels * tiles
        for c in channels {
            for (k, row) in rows.enumerated() {
                let image = row / t.tilesH, ty = row % t.tilesH
                let plane = xs + (image * t.channels + c) * t.height * t.width
                for r in 0..<a {
                    let target = line + r * span
                    let iy = ty * m - t.padTop + r
                    guard iy >= 0 && iy < t.height else {
                        target.update(repeating: 0, count: span)
                        continue
                    }
                    target.update(repeating: 0, count: first)
                    (target + first).update(from: plane + iy * t.width + (first - t.padLeft), count: last - first)
                    (target + last).update(repeating: 0, count: span - last)
                }
                let (l0, l1, l2, l3) = (line, line + span, line + 2 * span, line + 3 * span)
                let base = v + c * tiles + k * n
                for tx in 0..<n {
                    let x = tx * m
                    // Column combinations of each input row.
                    let a0 = l0[x] - l0[x + 2], a1 = l0[x + 1] + l0[x + 2], a2 = l0[x + 2] - l0[x + 1], a3 = l0[x + 1] - l0[x + 3]
                    let b0 = l1[x] - l1[x + 2], b1 = l1[x + 1] + l1[x + 2], b2 = l1[x + 2] - l1[x + 1], b3 = l1[x + 1] - l1[x + 3]
                    let c0 = l2[x] - l2[x + 2], c1 = l2[x + 1] + l2[x + 2], c2 = l2[x + 2] - l2[x + 1], c3 = l2[x + 1] - l2[x + 3]
                    let d0 = l3[x] - l3[x + 2], d1 = l3[x + 1] + l3[x + 2], d2 = l3[x + 2] - l3[x + 1], d3 = l3[x + 1] - l3[x + 3]
                    // Row combinations: position (i, j) is matrix i·4 + j.
                    base[tx] = a0 - c0
                    base[positionStride + tx] = a1 - c1
                    base[2 * positionStride + tx] = a2 - c2
                    base[3 * positionStride + tx] = a3 - c3
                    base[4 * positionStride + tx] = b0 + c0
                    base[5 * positionStride + tx] = b1 + c1
                    base[6 * positionStride + tx] = b2 + c2
                    base[7 * positionStride + tx] = b3 + c3
                    base[8 * positionStride + tx] = c0 - b0
                    base[9 * positionStride + tx] = c1 - b1
                    base[10 * positionStride + tx] = c2 - b2
                    base[11 * positionStride + tx] = c3 - b3
                    base[12 * positionStride + tx] = b0 - d0
                    base[13 * positionStride + tx] = b1 - d1
                    base[14 * positionStride + tx] = b2 - d2
                    base[15 * positionStride + tx] = b3 - d3
                }
            }
        }
    }

    /// `Y = Aᵀ M A` of every tile of the block's tile `rows`, for `filters`, plus the bias,
    /// written into the output planes (the parts of edge tiles beyond the output dropped).
    /// With `Aᵀ` as above, rows combine as `(M₀ + M₁ + M₂, M₁ − M₂ − M₃)`, then columns alike.
    static func transformOutputs(_ products: UnsafePointer<Float>, filters: Range<Int>, bias: [Float]?, rows: Range<Int>,
                                 tiling t: Tiling, into out: UnsafeMutablePointer<Float>) {
        let n = t.tilesW, tiles = rows.count * n
        let positionStride = t.filters * tiles
        let fullColumns = t.outW / m, oddColumn = t.outW % m != 0
        for f in filters {
            let offset = bias?[f] ?? 0
            for (k, row) in rows.enumerated() {
                let image = row / t.tilesH, ty = row % t.tilesH
                let source = products + f * tiles + k * n
                let top = out + ((image * t.filters + f) * t.outH + ty * m) * t.outW
                let hasSecondRow = ty * m + 1 < t.outH
                @inline(__always) func tile(_ tx: Int) -> (Float, Float, Float, Float) {
                    @inline(__always) func p(_ position: Int) -> Float { source[position * positionStride + tx] }
                    // Rows: s = M₀ + M₁ + M₂, d = M₁ − M₂ − M₃, for each of the four columns.
                    let s0 = p(0) + p(4) + p(8), s1 = p(1) + p(5) + p(9), s2 = p(2) + p(6) + p(10), s3 = p(3) + p(7) + p(11)
                    let d0 = p(4) - p(8) - p(12), d1 = p(5) - p(9) - p(13), d2 = p(6) - p(10) - p(14), d3 = p(7) - p(11) - p(15)
                    return (s0 + s1 + s2 + offset, s1 - s2 - s3 + offset, d0 + d1 + d2 + offset, d1 - d2 - d3 + offset)
                }
                for tx in 0..<fullColumns {
                    let (y00, y01, y10, y11) = tile(tx)
                    top[tx * m] = y00
                    top[tx * m + 1] = y01
                    if hasSecondRow {
                        top[t.outW + tx * m] = y10
                        top[t.outW + tx * m + 1] = y11
                    }
                }
                if oddColumn {
                    let (y00, _, y10, _) = tile(fullColumns)
                    top[fullColumns * m] = y00
                    if hasSecondRow { top[t.outW + fullColumns * m] = y10 }
                }
            }
        }
    }
}

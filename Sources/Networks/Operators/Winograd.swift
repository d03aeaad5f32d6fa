import CVectorMath
import Synchronization

extension ConvolutionOperators {
    /// Whether a convolution runs Winograd's F(2 × 2, 3 × 3) (``winograd(_:_:_:into:batch:channels:filters:geometry:)``):
    /// a planar 3 × 3 window of stride 1 without dilation, one group, at least 16 channels and
    /// filters, and enough tiles of 2 × 2 outputs in a block of images for the sixteen
    /// products to be worth their transforms. The transforms need AVX-512, as the own matrix
    /// kernel that shares the products between the cores does.
    static func runsWinograd(_ g: WindowGeometry, batch: Int, channels: Int, filters: Int, group: Int) -> Bool {
        guard RowMajorGEMM.ownKernel, group == 1, g.isPlanar, g.kernel[1] == 3, g.kernel[2] == 3,
              g.strides[1] == 1, g.strides[2] == 1, g.dilations[1] == 1, g.dilations[2] == 1,
              channels >= 16, filters >= 16
        else { return false }
        let tiles = WinogradTiles(g)
        // ResNet-18's last stage at batch 1 (16 tiles of 7 × 7 maps, 512 filters) takes
        // 1.11-1.17 ms a convolution this way against 1.57-1.67 ms unrolled, whose 49 columns
        // fill two strips of the kernel's 32.
        return tiles.perImage * tiles.imagesPerBlock(batch: batch, channels: channels, filters: filters) >= 16
    }

    /// A 3 × 3 convolution of stride 1 by Winograd's F(2 × 2, 3 × 3): the filters transformed
    /// (or taken from `transformed`, which keeps them from the first call on), then per block
    /// of images the input patches transformed, sixteen products
    /// (filters × channels by channels × tiles, shared between the cores), and the outputs
    /// transformed back with the bias. 16 multiplications per tile of 2 × 2 outputs and
    /// channel instead of 36; the transforms only add, subtract and halve. An infinite input
    /// still reaches only the outputs whose windows hold it, but where the unrolled product
    /// gives ±∞ the transforms may give NaN (∞ − ∞).
    static func winograd(_ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, _ bias: [Float]?,
                         into out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, filters: Int,
                         geometry g: WindowGeometry, transformed: WinogradFilters? = nil) {
        let tiles = WinogradTiles(g)
        let perBlock = tiles.imagesPerBlock(batch: batch, channels: channels, filters: filters)
        let width = perBlock * tiles.perImage
        let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        let u = transformed?.of(ws, filters: filters, channels: channels)
            ?? WinogradFilters.transform(ws, filters: filters, channels: channels)
        var v: [Float] = ElementLoops.uninitialized(16 * channels * width)
        var m: [Float] = ElementLoops.uninitialized(16 * filters * width)
        u.withUnsafeBufferPointer { u in
            v.withUnsafeMutableBufferPointer { v in
                m.withUnsafeMutableBufferPointer { m in
                    let (u, v, m) = (u.baseAddress!, v.baseAddress!, m.baseAddress!)
                    // The sixteen matrices of each kind lie these many floats apart.
                    let (filterMatrix, inputMatrix, productMatrix) = (filters * channels, channels * width, filters * width)
                    for first in stride(from: 0, to: batch, by: perBlock) {
                        let count = min(perBlock, batch - first)
                        // Tiles of an incomplete last block past its images are never read.
                        ElementLoops.inHalves(channels, elements: channels * width * 16) { part in
                            for j in 0..<count {
                                let image = xs + ((first + j) * channels + part.lowerBound) * inH * inW
                                repprobe_winograd_inputs(v + part.lowerBound * width + j * tiles.perImage, image,
                                                         part.count, inH, inW, g.padBegin[1], g.padBegin[2], tiles.high,
                                                         tiles.wide, width, inputMatrix)
                            }
                        }
                        RowMajorGEMM.multiplyEach(16, m: filters, n: count * tiles.perImage, k: channels, lda: channels,
                                                  ldb: width, ldc: width) { e in
                            let a: UnsafePointer<Float> = UnsafePointer(u + e * filterMatrix)
                            let b: UnsafePointer<Float> = UnsafePointer(v + e * inputMatrix)
                            return (a, b, m + e * productMatrix)
                        }
                        ElementLoops.inHalves(filters, elements: filters * width * 16) { part in
                            bias.withUnsafeBufferPointerOrNil { bias in
                                for j in 0..<count {
                                    let target = out + ((first + j) * filters + part.lowerBound) * outH * outW
                                    repprobe_winograd_outputs(target, m + part.lowerBound * width + j * tiles.perImage,
                                                              bias.map { $0 + part.lowerBound }, part.count, outH, outW,
                                                              tiles.high, tiles.wide, width, productMatrix)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The Winograd transform of one node's constant filters, made at the first call that needs
/// it and kept with the compiled node: a forward pass then reads 16 values per filter and
/// channel instead of writing them.
final class WinogradFilters: Sendable {
    private let stored = Mutex<[Float]?>(nil)

    /// `u[e·filters·channels + f·channels + c]` = element e of G g Gᵀ for filter f and
    /// channel c of `ws` (`[filters, channels, 3, 3]`).
    static func transform(_ ws: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        var u: [Float] = ElementLoops.uninitialized(16 * filters * channels)
        u.withUnsafeMutableBufferPointer { repprobe_winograd_filters($0.baseAddress!, ws, filters, channels) }
        return u
    }

    /// The kept transform of `ws`, made now if there is none of this size.
    func of(_ ws: UnsafePointer<Float>, filters: Int, channels: Int) -> [Float] {
        stored.withLock { kept in
            if let kept, kept.count == 16 * filters * channels { return kept }
            let made = Self.transform(ws, filters: filters, channels: channels)
            kept = made
            return made
        }
    }
}

/// The tiles of 2 × 2 outputs that cover a convolution's output plane.
struct WinogradTiles {
    let high, wide: Int
    init(_ g: WindowGeometry) {
        (high, wide) = ((g.output[1] + 1) / 2, (g.output[2] + 1) / 2)
    }
    var perImage: Int { high * wide }

    /// Images whose tiles share one set of products: enough for about 512 tiles, within
    /// 16 MB of transformed inputs and products.
    func imagesPerBlock(batch: Int, channels: Int, filters: Int) -> Int {
        let wanted = (512 + perImage - 1) / perImage
        let fitting = max(1, (1 << 22) / max(1, 16 * (channels + filters) * perImage))
        return max(1, min(batch, wanted, fitting))
    }
}

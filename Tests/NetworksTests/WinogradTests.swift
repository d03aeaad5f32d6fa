import Testing
@testable import Networks

/// Winograd's F(2 × 2, 3 × 3) against the unrolled convolution (im2col and a product) on the
/// same operands: odd and even output sizes (edge tiles cut off), paddings 0 to 2 on each
/// side, blocks of several images and an incomplete last block, with and without bias.
@Suite(.enabled(if: RowMajorGEMM.ownKernel, "the CPU has no AVX-512"))
struct WinogradTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let batch, channels, filters, height, width, padTop, padLeft, padBottom, padRight: Int
        var bias = true
        var testDescription: String {
            "\(batch)×\(channels)×\(height)×\(width) → \(filters), pads \([padTop, padLeft, padBottom, padRight])"
        }
    }

    static let cases = [
        Case(batch: 1, channels: 16, filters: 16, height: 8, width: 8, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
        Case(batch: 3, channels: 20, filters: 17, height: 7, width: 9, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1,
             bias: false),
        Case(batch: 2, channels: 16, filters: 32, height: 13, width: 40, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0),
        Case(batch: 5, channels: 24, filters: 16, height: 5, width: 6, padTop: 2, padLeft: 0, padBottom: 1, padRight: 2),
        Case(batch: 9, channels: 64, filters: 48, height: 14, width: 14, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1),
    ]

    @Test(arguments: cases)
    func matchesTheUnrolledConvolution(_ shape: Case) throws {
        let attributes = WindowGeometry.Attributes(strides: [1, 1],
                                                   pads: [shape.padTop, shape.padLeft, shape.padBottom, shape.padRight])
        let g = try WindowGeometry(input: [shape.height, shape.width], kernel: [3, 3], attributes: attributes)
        let (x, w, bias, winograd) = UnrolledReference.check(
            batch: shape.batch, channels: shape.channels, filters: shape.filters, geometry: g, bias: shape.bias, seed: 40
        ) { x, w, bias, output in
            ConvolutionOperators.winograd(x, w, bias, into: &output, batch: shape.batch, channels: shape.channels,
                                          filters: shape.filters, geometry: g)
        }

        // Filters kept from the first call give the same bits on that call and the next.
        let kept = WinogradFilters()
        for _ in 0..<2 {
            var again = [Float](repeating: .nan, count: winograd.count)
            ConvolutionOperators.winograd(x, w, bias, into: &again, batch: shape.batch, channels: shape.channels,
                                          filters: shape.filters, geometry: g, transformed: kept)
            #expect(again.map(\.bitPattern) == winograd.map(\.bitPattern))
        }
    }

    /// Which convolutions take the path: ResNet-18's 3×3 stride-1 convolutions where a block
    /// of images has 16 tiles or more (the last stage's 7×7 maps at batch 1 have 16); not
    /// strided, dilated, grouped or 1×1 ones, nor those with few channels or tiles.
    @Test func choosesWhereItPays() throws {
        func geometry(_ size: Int, kernel: Int = 3, stride: Int = 1, dilation: Int = 1) throws -> WindowGeometry {
            var attributes = WindowGeometry.Attributes(strides: [stride, stride], pads: [1, 1, 1, 1])
            attributes.dilations = [dilation, dilation]
            return try WindowGeometry(input: [size, size], kernel: [kernel, kernel], attributes: attributes)
        }
        #expect(ConvolutionOperators.runsWinograd(try geometry(56), batch: 1, channels: 64, filters: 64, group: 1))
        #expect(ConvolutionOperators.runsWinograd(try geometry(7), batch: 8, channels: 512, filters: 512, group: 1))
        #expect(ConvolutionOperators.runsWinograd(try geometry(7), batch: 1, channels: 512, filters: 512, group: 1))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(6), batch: 1, channels: 512, filters: 512, group: 1))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(56, stride: 2), batch: 1, channels: 64, filters: 64, group: 1))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(56, dilation: 2), batch: 1, channels: 64, filters: 64, group: 1))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(56, kernel: 1), batch: 1, channels: 64, filters: 64, group: 1))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(56), batch: 1, channels: 64, filters: 64, group: 2))
        #expect(!ConvolutionOperators.runsWinograd(try geometry(56), batch: 1, channels: 12, filters: 12, group: 1))
    }
}

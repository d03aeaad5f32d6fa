import Testing
@testable import Networks

/// Strided convolutions on phase planes against the unrolled convolution (im2col and a
/// product) on the same operands: strides 2 and 3, differing by axis, kernels from the
/// stride's size to 7 × 7, paddings that differ by side, outputs cut off before the last
/// phase row or column, blocks of several images and an incomplete last block, with and
/// without bias.
@Suite(.enabled(if: RowMajorGEMM.ownKernel, "the CPU has no AVX-512"))
struct PhasePlaneTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let batch, channels, filters, height, width, kernel, strideH, strideW: Int
        let pads: [Int]
        var bias = true
        var testDescription: String {
            "\(batch)×\(channels)×\(height)×\(width) → \(filters), kernel \(kernel), strides \(strideH)×\(strideW), pads \(pads)"
        }
    }

    static let cases = [
        Case(batch: 2, channels: 3, filters: 64, height: 32, width: 32, kernel: 7, strideH: 2, strideW: 2, pads: [3, 3, 3, 3]),
        Case(batch: 3, channels: 16, filters: 40, height: 15, width: 14, kernel: 3, strideH: 2, strideW: 2, pads: [1, 1, 1, 1],
             bias: false),
        Case(batch: 9, channels: 8, filters: 13, height: 7, width: 9, kernel: 3, strideH: 2, strideW: 2, pads: [0, 1, 2, 0]),
        Case(batch: 2, channels: 5, filters: 30, height: 20, width: 23, kernel: 4, strideH: 3, strideW: 2, pads: [2, 0, 1, 3]),
        Case(batch: 1, channels: 3, filters: 24, height: 32, width: 32, kernel: 16, strideH: 16, strideW: 16, pads: [0, 0, 0, 0]),
        Case(batch: 4, channels: 12, filters: 48, height: 10, width: 11, kernel: 2, strideH: 2, strideW: 2, pads: [0, 0, 1, 1]),
    ]

    @Test(arguments: cases)
    func matchesTheUnrolledConvolution(_ shape: Case) throws {
        try UnrolledReference.checkPlanar(
            ConvolutionOperators.phaseProduct, chosen: ConvolutionOperators.runsPhases, batch: shape.batch,
            channels: shape.channels, filters: shape.filters, input: [shape.height, shape.width],
            kernel: [shape.kernel, shape.kernel], strides: [shape.strideH, shape.strideW], pads: shape.pads,
            bias: shape.bias, seed: 50)
    }

    /// Which convolutions take the path: strided ones whose kernel covers the stride, not
    /// those of stride 1, 1 × 1 strided ones (one phase read), dilated or grouped ones.
    @Test func choosesStridedWindowsThatReadEveryPhase() throws {
        func geometry(kernel: Int, stride: Int, dilation: Int = 1) throws -> WindowGeometry {
            var attributes = WindowGeometry.Attributes(strides: [stride, stride], pads: [1, 1, 1, 1])
            attributes.dilations = [dilation, dilation]
            return try WindowGeometry(input: [28, 28], kernel: [kernel, kernel], attributes: attributes)
        }
        #expect(ConvolutionOperators.runsPhases(try geometry(kernel: 7, stride: 2), group: 1))
        #expect(ConvolutionOperators.runsPhases(try geometry(kernel: 3, stride: 2), group: 1))
        #expect(!ConvolutionOperators.runsPhases(try geometry(kernel: 3, stride: 1), group: 1))
        #expect(!ConvolutionOperators.runsPhases(try geometry(kernel: 1, stride: 2), group: 1))
        #expect(!ConvolutionOperators.runsPhases(try geometry(kernel: 3, stride: 2, dilation: 2), group: 1))
        #expect(!ConvolutionOperators.runsPhases(try geometry(kernel: 3, stride: 2), group: 2))
    }
}

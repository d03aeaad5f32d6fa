import Testing
@testable import Networks

/// Convolutions over patches that do not overlap (a vision transformer's patch embedding)
/// against the unrolled convolution (im2col and a product) on the same operands: square and
/// oblong patches, inputs whose last rows and columns no patch covers, one channel or many,
/// several blocks of images with an incomplete last one, with and without bias.
@Suite(.enabled(if: RowMajorGEMM.ownKernel, "the CPU has no AVX-512"))
struct PatchConvolutionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let batch, channels, filters, height, width, kernelH, kernelW: Int
        var bias = true
        var testDescription: String {
            "\(batch)×\(channels)×\(height)×\(width) → \(filters), patches \(kernelH)×\(kernelW)"
        }
    }

    static let cases = [
        Case(batch: 2, channels: 3, filters: 40, height: 64, width: 64, kernelH: 16, kernelW: 16),
        Case(batch: 3, channels: 3, filters: 17, height: 37, width: 35, kernelH: 16, kernelW: 16, bias: false),
        Case(batch: 2, channels: 12, filters: 33, height: 10, width: 11, kernelH: 2, kernelW: 2),
        Case(batch: 1, channels: 1, filters: 5, height: 9, width: 20, kernelH: 4, kernelW: 3),
        // 65 536 patches of 12 values and 8 filters: three images to a block, then one.
        Case(batch: 4, channels: 3, filters: 8, height: 512, width: 512, kernelH: 2, kernelW: 2),
    ]

    @Test(arguments: cases)
    func matchesTheUnrolledConvolution(_ shape: Case) throws {
        let kernel = [shape.kernelH, shape.kernelW]
        try UnrolledReference.checkPlanar(
            ConvolutionOperators.patchProduct, chosen: ConvolutionOperators.runsPatches, batch: shape.batch,
            channels: shape.channels, filters: shape.filters, input: [shape.height, shape.width], kernel: kernel,
            strides: kernel, pads: [0, 0, 0, 0], bias: shape.bias, seed: 70)
    }

    /// Which convolutions take the path: windows as large as their stride without padding
    /// or dilation, in one group; not overlapping windows, padded ones, 1 × 1 ones, dilated
    /// or grouped ones.
    @Test func choosesWindowsThatTileTheInput() throws {
        func geometry(kernel: Int, stride: Int, pad: Int = 0, dilation: Int = 1) throws -> WindowGeometry {
            var attributes = WindowGeometry.Attributes(strides: [stride, stride], pads: [pad, pad, pad, pad])
            attributes.dilations = [dilation, dilation]
            return try WindowGeometry(input: [32, 32], kernel: [kernel, kernel], attributes: attributes)
        }
        #expect(ConvolutionOperators.runsPatches(try geometry(kernel: 16, stride: 16), group: 1))
        #expect(ConvolutionOperators.runsPatches(try geometry(kernel: 2, stride: 2), group: 1))
        #expect(!ConvolutionOperators.runsPatches(try geometry(kernel: 3, stride: 2), group: 1))
        #expect(!ConvolutionOperators.runsPatches(try geometry(kernel: 4, stride: 4, pad: 1), group: 1))
        #expect(!ConvolutionOperators.runsPatches(try geometry(kernel: 1, stride: 1), group: 1))
        #expect(!ConvolutionOperators.runsPatches(try geometry(kernel: 2, stride: 2, dilation: 2), group: 1))
        #expect(!ConvolutionOperators.runsPatches(try geometry(kernel: 4, stride: 4), group: 2))
    }
}

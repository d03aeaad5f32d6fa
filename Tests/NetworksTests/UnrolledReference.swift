import Testing
@testable import Networks

/// The check that the convolution paths share: a path's output on seeded random operands
/// against the unrolled convolution (im2col and one product, ``ConvolutionOperators/unrollAndMultiply(_:_:_:into:batch:channels:filters:group:geometry:)``)
/// on the same operands, within 1e-5 of the largest output and free of NaN. Both start
/// from NaN, so an element a path leaves unwritten fails.
enum UnrolledReference {
    typealias Path = (_ x: [Float], _ w: [Float], _ bias: [Float]?, _ output: inout [Float]) -> Void

    /// Checks `path` and returns its operands and output, for further checks on them.
    @discardableResult
    static func check(batch: Int, channels: Int, filters: Int, geometry g: WindowGeometry, bias hasBias: Bool,
                      seed: UInt64, _ path: Path) -> (x: [Float], w: [Float], bias: [Float]?, output: [Float]) {
        let x = ParallelKernelTests.values(batch * channels * g.inputCount, seed: seed)
        let w = ParallelKernelTests.values(filters * channels * g.kernelCount, seed: seed + 1)
        let bias = hasBias ? ParallelKernelTests.values(filters, seed: seed + 2) : nil
        var expected = [Float](repeating: .nan, count: batch * filters * g.outputCount), output = expected
        ConvolutionOperators.unrollAndMultiply(x, w, bias, into: &expected, batch: batch, channels: channels,
                                               filters: filters, group: 1, geometry: g)
        path(x, w, bias, &output)
        let scale = expected.map(abs).max() ?? 1
        let worst = zip(output, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * scale, "max |Δ| \(worst) of \(scale)")
        #expect(!output.contains { $0.isNaN })
        return (x, w, bias, output)
    }

    /// A planar path that multiplies whole blocks of images (phase planes, patches), with the
    /// signature of ``ConvolutionOperators/phaseProduct(_:_:_:into:batch:channels:filters:geometry:)``.
    typealias PlanarPath = (UnsafePointer<Float>, UnsafePointer<Float>, [Float]?, UnsafeMutablePointer<Float>, Int, Int,
                            Int, WindowGeometry) -> Void

    /// ``check(batch:channels:filters:geometry:bias:seed:_:)`` of `path` on a two-dimensional
    /// window (`kernel`, `strides` and `pads` as the ONNX attributes give them), after
    /// `chosen` says that the runtime sends that window to the path.
    static func checkPlanar(_ path: PlanarPath, chosen: (WindowGeometry, Int) -> Bool, batch: Int, channels: Int,
                            filters: Int, input: [Int], kernel: [Int], strides: [Int], pads: [Int], bias: Bool,
                            seed: UInt64) throws {
        let g = try WindowGeometry(input: input, kernel: kernel,
                                   attributes: WindowGeometry.Attributes(strides: strides, pads: pads))
        #expect(chosen(g, 1))
        check(batch: batch, channels: channels, filters: filters, geometry: g, bias: bias, seed: seed) { x, w, bias, output in
            path(x, w, bias, &output, batch, channels, filters, g)
        }
    }
}

import CVectorMath
import Testing
@testable import Networks

/// im2col and col2im of planar windows run in C, which copies and pads each line under
/// masks (gathering and scattering strided lines): against plain loops over every row,
/// column and kernel offset, bit for bit (both only copy, or add in the same order), for
/// lines shorter and longer than a vector, paddings that cut into them from both sides and
/// strides of 1 to 3; and the baseline x86-64 versions, which CPUs without AVX-512 run, the
/// same way.
@Suite struct WindowLineTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let height, width, kernel, padding: Int
        var stride = 1
        var testDescription: String { "\(height)×\(width), kernel \(kernel), padding \(padding), stride \(stride)" }
    }

    static let cases = [Case(height: 1, width: 1, kernel: 1, padding: 0), Case(height: 4, width: 5, kernel: 3, padding: 1),
                        Case(height: 16, width: 16, kernel: 3, padding: 1), Case(height: 3, width: 17, kernel: 5, padding: 2),
                        Case(height: 5, width: 33, kernel: 3, padding: 0), Case(height: 2, width: 3, kernel: 5, padding: 3),
                        Case(height: 6, width: 40, kernel: 7, padding: 3),
                        Case(height: 16, width: 16, kernel: 3, padding: 1, stride: 2),
                        Case(height: 9, width: 70, kernel: 7, padding: 3, stride: 2),
                        Case(height: 7, width: 50, kernel: 1, padding: 0, stride: 2),
                        Case(height: 5, width: 41, kernel: 4, padding: 2, stride: 3),
                        Case(height: 3, width: 3, kernel: 5, padding: 3, stride: 2)]

    @Test(arguments: cases)
    func unrollingAndFoldingMatchPlainLoops(_ shape: Case) throws {
        let channels = 3
        let g = try WindowGeometry(height: shape.height, width: shape.width, kernelHeight: shape.kernel,
                                   kernelWidth: shape.kernel, stride: shape.stride, padding: shape.padding)
        let (outH, outW) = (g.output[1], g.output[2])
        let rows = channels * shape.kernel * shape.kernel, positions = outH * outW
        let pitch = positions + 3  // a pitch wider than a row of columns, as when images share a product
        let image = ParallelKernelTests.values(channels * shape.height * shape.width, seed: 30)
        var expected = [Float](repeating: 0, count: rows * pitch)
        var row = 0
        for c in 0..<channels { for kh in 0..<shape.kernel { for kw in 0..<shape.kernel {
            for oh in 0..<outH { for ow in 0..<outW {
                let ih = oh * shape.stride - shape.padding + kh, iw = ow * shape.stride - shape.padding + kw
                let inside = ih >= 0 && ih < shape.height && iw >= 0 && iw < shape.width
                expected[row * pitch + oh * outW + ow] = inside ? image[(c * shape.height + ih) * shape.width + iw] : 0
            } }
            row += 1
        } } }
        var columns = [Float](repeating: .nan, count: rows * pitch)
        for r in 0..<rows { for j in positions..<pitch { columns[r * pitch + j] = 0 } }
        var baseline = columns
        ConvolutionOperators.im2col(image, channels: channels, geometry: g, into: &columns, pitch: pitch)
        #expect(columns.map(\.bitPattern) == expected.map(\.bitPattern))
        repprobe_im2col_baseline(&baseline, image, channels, shape.height, shape.width, shape.kernel, shape.kernel,
                                 shape.stride, shape.stride, shape.padding, shape.padding, 1, 1, outH, outW, pitch)
        #expect(baseline.map(\.bitPattern) == expected.map(\.bitPattern))

        // col2im adds every column entry back where it was read from, in the same order.
        let gradient = ParallelKernelTests.values(rows * pitch, seed: 31)
        var folded = ParallelKernelTests.values(image.count, seed: 32)
        var reference = folded, foldedByBaseline = folded
        row = 0
        for c in 0..<channels { for kh in 0..<shape.kernel { for kw in 0..<shape.kernel {
            for oh in 0..<outH { for ow in 0..<outW {
                let ih = oh * shape.stride - shape.padding + kh, iw = ow * shape.stride - shape.padding + kw
                guard ih >= 0, ih < shape.height, iw >= 0, iw < shape.width else { continue }
                reference[(c * shape.height + ih) * shape.width + iw] += gradient[row * pitch + oh * outW + ow]
            } }
            row += 1
        } } }
        ConvolutionOperators.col2im(gradient, channels: channels, geometry: g, into: &folded, pitch: pitch)
        #expect(folded.map(\.bitPattern) == reference.map(\.bitPattern))
        repprobe_col2im_baseline(&foldedByBaseline, gradient, channels, shape.height, shape.width, shape.kernel,
                                 shape.kernel, shape.stride, shape.stride, shape.padding, shape.padding, 1, 1, outH, outW,
                                 pitch)
        #expect(foldedByBaseline.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    /// The maxima of windows along a line, in C (sixteen columns at a time) and in its
    /// baseline version, against a plain loop bit for bit: strides 1 to 3 (plain, paired and
    /// gathered reads), dilations 1 and 2, runs shorter and longer than a vector, and NaNs,
    /// which come through only from a window's first tap, as in ``PoolingOperators``.
    @Test(arguments: [1, 2, 3])
    func windowMaximaMatchPlainLoops(step: Int) {
        var line = ParallelKernelTests.values(200, seed: 33)
        for index in stride(from: 5, to: line.count, by: 23) { line[index] = .nan }
        for dilation in [1, 2] { for taps in 1...3 { for count in [1, 15, 16, 17, 40] {
            var expected = [Float](repeating: 0, count: count)
            for o in 0..<count {
                var largest = line[o * step]
                for k in 1..<taps { largest = line[o * step + k * dilation] > largest ? line[o * step + k * dilation] : largest }
                expected[o] = largest
            }
            // One float past the run stays as it was.
            var maxima = [Float](repeating: 7, count: count + 1), baseline = maxima
            repprobe_window_maxima(&maxima, line, count, step, dilation, taps)
            repprobe_window_maxima_baseline(&baseline, line, count, step, dilation, taps)
            let described = "step \(step), dilation \(dilation), taps \(taps), count \(count)"
            #expect(maxima.map(\.bitPattern) == (expected + [7]).map(\.bitPattern), "\(described)")
            #expect(baseline.map(\.bitPattern) == (expected + [7]).map(\.bitPattern), "\(described)")
        } } }
    }
}

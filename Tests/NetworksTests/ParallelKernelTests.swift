import Foundation
import Testing
@testable import Networks

/// The kernels' faster paths — convolution products shared by several images, loops split
/// between two threads above a size threshold — checked against plain loops written here.
/// Sizes are chosen to take those paths (and, in the small cases, not to).
@Suite struct ParallelKernelTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    /// Direct 2-D convolution, one multiply-add per tap.
    static func directConvolution(
        _ x: [Float], _ xShape: [Int], _ w: [Float], _ wShape: [Int], bias: [Float]?, group: Int,
        stride: Int, pad: Int, dilation: Int
    ) -> (values: [Float], shape: [Int]) {
        let (n, c, h, width) = (xShape[0], xShape[1], xShape[2], xShape[3])
        let (f, cg, kh, kw) = (wShape[0], wShape[1], wShape[2], wShape[3])
        let oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1
        let ow = (width + 2 * pad - dilation * (kw - 1) - 1) / stride + 1
        let fg = f / group
        var y = [Float](repeating: 0, count: n * f * oh * ow)
        for b in 0..<n { for o in 0..<f { for i in 0..<oh { for j in 0..<ow {
            let g = o / fg
            var sum = Double(bias?[o] ?? 0)
            for ci in 0..<cg { for u in 0..<kh { for v in 0..<kw {
                let r = i * stride - pad + u * dilation, s = j * stride - pad + v * dilation
                guard r >= 0, r < h, s >= 0, s < width else { continue }
                let xv = x[((b * c + g * cg + ci) * h + r) * width + s]
                sum += Double(xv) * Double(w[((o * cg + ci) * kh + u) * kw + v])
            } } }
            y[((b * f + o) * oh + i) * ow + j] = Float(sum)
        } } } }
        return (y, [n, f, oh, ow])
    }

    @Test(arguments: [
        // batch, channels, size, filters, kernel, group, stride, pad, dilation, bias
        (7, 6, 7, 8, 3, 2, 1, 1, 1, true),   // small maps: several images per product, groups
        (5, 4, 9, 6, 3, 1, 2, 0, 1, false),  // strided, no padding, no bias
        (3, 3, 8, 4, 3, 1, 1, 2, 2, true),   // dilated
        (9, 2, 3, 5, 1, 1, 1, 0, 1, true),   // pointwise: one image per product
        (2, 3, 40, 4, 5, 1, 1, 2, 1, true),  // large maps: one image per product
        (1, 3, 12, 4, 3, 1, 1, 1, 1, true),  // one image: BLAS's own threads
        (1, 8, 5, 6, 3, 1, 1, 1, 1, false),  // one image, small map, no bias
    ])
    func convolutionMatchesDirectLoops(
        _ c: (batch: Int, channels: Int, size: Int, filters: Int, kernel: Int, group: Int, stride: Int, pad: Int,
              dilation: Int, bias: Bool)
    ) throws {
        let xShape = [c.batch, c.channels, c.size, c.size]
        let wShape = [c.filters, c.channels / c.group, c.kernel, c.kernel]
        let x = Self.values(xShape.reduce(1, *), seed: 1), w = Self.values(wShape.reduce(1, *), seed: 2)
        let b = c.bias ? Self.values(c.filters, seed: 3) : nil
        let expected = Self.directConvolution(x, xShape, w, wShape, bias: b, group: c.group,
                                              stride: c.stride, pad: c.pad, dilation: c.dilation)
        var inputs = [Tensor(shape: xShape, elements: x), Tensor(shape: wShape, elements: w)]
        if let b { inputs.append(Tensor(shape: [c.filters], elements: b)) }
        let attributes: [String: Attribute] = [
            "group": .int(c.group), "strides": .ints([c.stride, c.stride]),
            "pads": .ints([c.pad, c.pad, c.pad, c.pad]), "dilations": .ints([c.dilation, c.dilation]),
        ]
        let y = try ShapeOperatorTests.run("Conv", inputs, attributes: attributes)[0]
        ShapeOperatorTests.expectClose(y, expected.values, shape: expected.shape, tolerance: 1e-5)
    }

    @Test func blocksOfImagesStayWithinTheirSizeLimits() {
        // 49 columns per image: eleven images make 539 ≥ 512 columns, capped by the batch.
        #expect(ConvolutionOperators.imagesPerProduct(batch: 8, rows: 4608, outputCount: 49) == 8)
        #expect(ConvolutionOperators.imagesPerProduct(batch: 32, rows: 4608, outputCount: 49) == 11)
        // An unrolled block may not pass 4 Mi floats.
        #expect(ConvolutionOperators.imagesPerProduct(batch: 32, rows: 40_000, outputCount: 49) == 2)
        #expect(ConvolutionOperators.imagesPerProduct(batch: 32, rows: 100_000, outputCount: 49) == 1)
        #expect(ConvolutionOperators.imagesPerProduct(batch: 1, rows: 9, outputCount: 4) == 1)
        #expect(ConvolutionOperators.imagesPerProduct(batch: 8, rows: 576, outputCount: 3136) == 1)
    }

    @Test(arguments: [1_000, 100_003])
    func transcendentalMapsMatchScalarCalls(count: Int) throws {
        // Whole vectors, a partial last one, and (for the larger count) two threads.
        let x = Self.values(count, seed: 4).map { $0 * 4 }
        let tensor = Tensor(shape: [count], elements: x)
        let erf = try #require(try ShapeOperatorTests.run("Erf", [tensor])[0].floats)
        let exp = try #require(try ShapeOperatorTests.run("Exp", [tensor])[0].floats)
        let erfError = zip(erf, x).map { VectorMathTests.ulps($0, libmErf(Double($1))) }.max() ?? 0
        let expError = zip(exp, x).map { VectorMathTests.ulps($0, libmExp(Double($1))) }.max() ?? 0
        #expect(erfError <= 6)
        #expect(expError <= 1)
    }

    @Test(arguments: [(3, 5, 7, 4), (24, 197, 64, 197)])
    func batchedMatMulMatchesDirectLoops(batch: Int, m: Int, k: Int, n: Int) throws {
        // A batch of several matrices on both sides: one product per matrix.
        let a = Self.values(batch * m * k, seed: 7), b = Self.values(batch * k * n, seed: 8)
        var expected = [Float](repeating: 0, count: batch * m * n)
        for p in 0..<batch { for i in 0..<m { for j in 0..<n {
            var sum = 0.0
            for l in 0..<k { sum += Double(a[(p * m + i) * k + l]) * Double(b[(p * k + l) * n + j]) }
            expected[(p * m + i) * n + j] = Float(sum)
        } } }
        let y = try ShapeOperatorTests.run("MatMul", [Tensor(shape: [batch, m, k], elements: a),
                                                      Tensor(shape: [batch, k, n], elements: b)])[0]
        ShapeOperatorTests.expectClose(y, expected, shape: [batch, m, n], tolerance: 1e-5)
    }

    /// Gathers along axes, which two threads share by rows from 32 768 elements, each
    /// starting its odometer at its first row: ViT-Tiny's query-key-value permutation
    /// (226 944 elements) and a padded plane (with rows of fill), against plain loops.
    @Test func transposesAndPadsSplitByRowsMatchPlainLoops() throws {
        let shape = [2, 197, 3, 3, 64], permutation = [2, 0, 3, 1, 4]
        let x = Self.values(shape.reduce(1, *), seed: 9)
        let outShape = permutation.map { shape[$0] }
        let strides = Tensor.strides(shape)
        var expected = [Float](repeating: 0, count: x.count)
        var index = 0
        for a in 0..<outShape[0] { for b in 0..<outShape[1] { for c in 0..<outShape[2] { for d in 0..<outShape[3] {
            for e in 0..<outShape[4] {
                let position = [a, b, c, d, e]
                var source = 0
                for (axis, original) in permutation.enumerated() { source += position[axis] * strides[original] }
                expected[index] = x[source]
                index += 1
            }
        } } } }
        let y = try ShapeOperatorTests.run("Transpose", [Tensor(shape: shape, elements: x)],
                                           attributes: ["perm": .ints(permutation)])[0]
        #expect(y.shape == outShape)
        #expect(y.floats == expected)

        let (rows, columns) = (150, 250)
        let plane = Self.values(rows * columns, seed: 10)
        let padded = try ShapeOperatorTests.run("Pad", [Tensor(shape: [rows, columns], elements: plane),
                                                       ShapeOperatorTests.int64([3, 0, 2, 5])])[0]
        var expectedPad = [Float](repeating: 0, count: (rows + 5) * (columns + 5))
        for r in 0..<rows { for c in 0..<columns { expectedPad[(r + 3) * (columns + 5) + c] = plane[r * columns + c] } }
        #expect(padded.shape == [rows + 5, columns + 5])
        #expect(padded.floats == expectedPad)
    }

    /// Layer normalisation over the last axis, whose rows two threads share from 32 768
    /// elements (197 tokens of 192 here), against a double-precision loop.
    @Test(arguments: [(3, 10), (394, 192)])
    func layerNormalizationRowsMatchAScalarLoop(rows: Int, length: Int) throws {
        let x = Self.values(rows * length, seed: 6).map { $0 * 3 + 1 }
        let scale = Self.values(length, seed: 7), bias = Self.values(length, seed: 8)
        var expected = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = x[(r * length)..<((r + 1) * length)].map(Double.init)
            let mean = row.reduce(0, +) / Double(length)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(length)
            for (i, v) in row.enumerated() {
                expected[r * length + i] = Float((v - mean) / (variance + 1e-5).squareRoot() * Double(scale[i]) + Double(bias[i]))
            }
        }
        // Two images of tokens when the rows split evenly, as a transformer's batch.
        let shape = rows % 2 == 0 ? [2, rows / 2, length] : [rows, length]
        let y = try ShapeOperatorTests.run("LayerNormalization", [Tensor(shape: shape, elements: x),
                                                                  Tensor(shape: [length], elements: scale),
                                                                  Tensor(shape: [length], elements: bias)],
                                           attributes: ["axis": .int(-1), "epsilon": .float(1e-5)])[0]
        ShapeOperatorTests.expectClose(y, expected, shape: shape, tolerance: 2e-6)
    }

    @Test(arguments: [(3, 10), (400, 197)])
    func softmaxRowsMatchAScalarLoop(rows: Int, length: Int) throws {
        let x = Self.values(rows * length, seed: 5).map { $0 * 8 }
        var expected = [Float](repeating: 0, count: x.count)
        for r in 0..<rows {
            let row = x[(r * length)..<((r + 1) * length)]
            let largest = row.max()!
            let e = row.map { Float.exp($0 - largest) }
            let sum = e.reduce(0, +)
            for (i, v) in e.enumerated() { expected[r * length + i] = v * (1 / sum) }
        }
        let y = try ShapeOperatorTests.run("Softmax", [Tensor(shape: [rows, length], elements: x)],
                                           attributes: ["axis": .int(-1)])[0]
        ShapeOperatorTests.expectClose(y, expected, shape: [rows, length], tolerance: 1e-6)
    }

    @Test(arguments: [(2, 3, 6), (8, 16, 57)])
    func maxPoolingMatchesDirectLoops(batch: Int, channels: Int, size: Int) throws {
        let shape = [batch, channels, size, size]
        let x = Self.values(shape.reduce(1, *), seed: 6)
        let out = (size + 2 - 3) / 2 + 1
        var expected = [Float](repeating: -.infinity, count: batch * channels * out * out)
        for p in 0..<(batch * channels) { for i in 0..<out { for j in 0..<out {
            for u in 0..<3 { for v in 0..<3 {
                let r = i * 2 - 1 + u, s = j * 2 - 1 + v
                guard r >= 0, r < size, s >= 0, s < size else { continue }
                let index = (p * out + i) * out + j
                expected[index] = max(expected[index], x[(p * size + r) * size + s])
            } }
        } } }
        let attributes: [String: Attribute] = [
            "kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
        ]
        let y = try ShapeOperatorTests.run("MaxPool", [Tensor(shape: shape, elements: x)], attributes: attributes)[0]
        ShapeOperatorTests.expectClose(y, expected, shape: [batch, channels, out, out], tolerance: 0)
    }
}

import CVectorMath
import Foundation
import Testing
import LinearAlgebra

// The float64 kernels of CVectorMath: the products of a tall matrix with a few columns that
// `Matrix` products take from 2¹⁹ multiply-adds on, the exponential, and the softmax
// cross-entropy of the logistic probes' objective.

/// A product `C = op(A)·B` by `repprobe_dgemm_narrow`, with A's leading dimension padded so
/// that a kernel reading the wrong stride shows.
private struct NarrowCase: Sendable, CustomTestStringConvertible {
    var m: Int, k: Int, n: Int
    var transposingA: Bool

    var testDescription: String { "\(m)×\(k)·\(k)×\(n)\(transposingA ? " Aᵀ" : "")" }

    var lda: Int { (transposingA ? k : m) + 3 }

    func operands() -> (a: [Double], b: [Double]) {
        var generator = SeededGenerator(seed: UInt64(m * 7919 + k * 131 + n * 7 + (transposingA ? 1 : 0)))
        let a = (0..<(lda * (transposingA ? m : k))).map { _ in generator.nextSigned() }
        let b = (0..<(k * n)).map { _ in generator.nextSigned() }
        return (a, b)
    }

    /// The product and the product of magnitudes, by plain loops in the stored layout.
    func reference(_ a: [Double], _ b: [Double]) -> (value: [Double], magnitude: [Double]) {
        var value = [Double](repeating: 0, count: m * n), magnitude = value
        for j in 0..<n {
            for i in 0..<m {
                var sum = 0.0, size = 0.0
                for p in 0..<k {
                    let x = transposingA ? a[i * lda + p] : a[p * lda + i]
                    sum += x * b[p + j * k]
                    size += Swift.abs(x * b[p + j * k])
                }
                value[i + j * m] = sum
                magnitude[i + j * m] = size
            }
        }
        return (value, magnitude)
    }

    /// Rows `first ..< last` of C, computed on their own into `c` (`m` rows apart).
    func rows(_ first: Int, _ last: Int, _ a: [Double], _ b: [Double], alpha: Double, accumulate: Bool,
              into c: inout [Double]) -> Int32 {
        let offset = transposingA ? first * lda : first
        return a.withUnsafeBufferPointer { a in
            c.withUnsafeMutableBufferPointer { c in
                repprobe_dgemm_narrow(transposingA ? 1 : 0, last - first, n, k, alpha, a.baseAddress! + offset, lda,
                                      b, k, c.baseAddress! + first, m, accumulate ? 1 : 0)
            }
        }
    }
}

/// Row counts around the kernels' tiles (8, 32 and 64 rows; 4 and 8 columns of A), inner
/// sizes of none, one, a vector and a bit, and across the transposed product's block of
/// 2 048, and every width the products take.
private let narrowCases: [NarrowCase] = {
    let shapes: [(Int, Int)] = [(1, 5), (7, 9), (8, 16), (9, 1), (33, 0), (63, 17), (65, 2049), (130, 64), (517, 4100)]
    return shapes.flatMap { m, k in
        [1, 2, 3, 4, 5, 6, 7, 10, 13, 16].flatMap { n in
            [false, true].map { NarrowCase(m: m, k: k, n: n, transposingA: $0) }
        }
    }
}()

@Suite struct Float64KernelTests {
    @Test(arguments: narrowCases)
    fileprivate func narrowProductMatchesLoops(c: NarrowCase) throws {
        try #require(narrowProductsRun())
        let (a, b) = c.operands()
        let (expected, magnitude) = c.reference(a, b)
        var product = [Double](repeating: .nan, count: c.m * c.n)
        #expect(c.rows(0, c.m, a, b, alpha: 1, accumulate: false, into: &product) == 1)
        expectAgreement(product, expected, magnitude: magnitude, roundings: c.k + 2, "\(c)")
        // alpha and accumulation: C ← C − 2.5·op(A)·B from C = the product.
        #expect(c.rows(0, c.m, a, b, alpha: -2.5, accumulate: true, into: &product) == 1)
        expectAgreement(product, expected.map { -1.5 * $0 }, magnitude: magnitude.map { 2.5 * $0 },
                        roundings: c.k + 4, "\(c), accumulated")
    }

    /// Any split of C gives the bits of the whole: what lets the product share its rows
    /// between threads.
    @Test(arguments: narrowCases.filter { $0.m >= 63 })
    fileprivate func narrowProductBitsDoNotDependOnTheSplit(c: NarrowCase) throws {
        try #require(narrowProductsRun())
        let (a, b) = c.operands()
        var whole = [Double](repeating: 0, count: c.m * c.n), pieces = whole
        _ = c.rows(0, c.m, a, b, alpha: 0.75, accumulate: false, into: &whole)
        let cuts = [0, 1, 9, c.m / 2 + 3, c.m]
        for (first, last) in zip(cuts, cuts.dropFirst()) {
            _ = c.rows(first, last, a, b, alpha: 0.75, accumulate: false, into: &pieces)
        }
        #expect(whole.map(\.bitPattern) == pieces.map(\.bitPattern), "\(c)")
    }

    @Test func narrowProductDeclinesWideOperands() {
        let a = [Double](repeating: 1, count: 8 * 2), b = [Double](repeating: 1, count: 2 * 17)
        var c = [Double](repeating: 7, count: 8 * 17)
        #expect(repprobe_dgemm_narrow(0, 8, 17, 2, 1, a, 8, b, 2, &c, 8, 0) == 0)
        #expect(c.allSatisfy { $0 == 7 }, "declining must leave C alone")
    }

    /// Through `Matrix`: products large enough to take the kernels (threaded), both layouts,
    /// against the triple loop.
    @Test(arguments: [(4003, 131, 10, false), (4003, 131, 1, false), (131, 4003, 10, true), (37, 9000, 16, true)])
    func matrixProductsTakeTheNarrowPath(m: Int, k: Int, n: Int, transposingA: Bool) {
        let a: Matrix<Double> = randomMatrix(rows: transposingA ? k : m, columns: transposingA ? m : k, seed: UInt64(m + n))
        let b: Matrix<Double> = randomMatrix(rows: k, columns: n, seed: UInt64(k))
        let product = a.multiplied(by: b, transposingSelf: transposingA, scale: 0.5)
        var expected = naiveProduct(a, b, transposingA: transposingA)
        expected.storage = expected.storage.map { 0.5 * $0 }
        var magnitude = naiveProduct(a.magnitudes, b.magnitudes, transposingA: transposingA)
        magnitude.storage = magnitude.storage.map { 0.5 * $0 }
        expectAgreement(product, expected, magnitude: magnitude, roundings: k + 2, "\(m)×\(k)·\(k)×\(n)")
    }

    @Test func exponentialIsWithinAnUlpOfLibm() {
        var generator = SeededGenerator(seed: 11)
        var x = (0..<20_000).map { _ in 727 * generator.nextSigned() - 18 }  // [−745, 709)
        x += [0, -0.0, 1e-300, -1e-300, 1, -1, 0.5 * M_LN2, -0.5 * M_LN2, -708.4, -709, -744.5, -745.1, 709.78]
        var y = [Double](repeating: 0, count: x.count)
        repprobe_exp64(&y, x, x.count)
        for (input, output) in zip(x, y) {
            let truth = Foundation.exp(input)
            // An ulp of the result; in the subnormals, the subnormals' spacing.
            let ulp = Swift.max(truth.ulp, Double.leastNonzeroMagnitude)
            #expect(Swift.abs(output - truth) <= ulp, "exp(\(input)) = \(output), libm \(truth)")
        }
        let special: [Double] = [-746, -800, -.infinity, 709.79, 710, .infinity, .nan]
        var out = [Double](repeating: 1, count: special.count)
        repprobe_exp64(&out, special, special.count)
        #expect(out[0..<3].allSatisfy { $0 == 0 })
        #expect(out[3..<6].allSatisfy { $0 == .infinity })
        #expect(out[6].isNaN)
    }

    /// Loss, gradient and probabilities against the textbook formulas in `Double` with
    /// libm, for row counts with and without a partial block of eight.
    @Test(arguments: [(8, 2), (13, 3), (100, 10), (5, 7), (1, 4)])
    func crossEntropyMatchesTheDefinition(n: Int, m: Int) {
        var generator = SeededGenerator(seed: UInt64(n * 31 + m))
        let z = (0..<(n * m)).map { _ in 30 * generator.nextSigned() }
        let codes = (0..<n).map { _ in Int(generator.next() % UInt64(m)) }
        var residuals = z, probabilities = [Double](repeating: .nan, count: n * m)
        let loss = repprobe_cross_entropy(&residuals, n, m, codes, &probabilities)
        var expectedLoss = 0.0
        for i in 0..<n {
            let row = (0..<m).map { z[i + $0 * n] }
            let top = row.max()!
            let sum = row.reduce(0) { $0 + Foundation.exp($1 - top) }
            expectedLoss += top + Foundation.log(sum) - row[codes[i]]
            for j in 0..<m {
                let p = Foundation.exp(row[j] - top) / sum
                #expect(Swift.abs(probabilities[i + j * n] - p) <= 4 * p.ulp + 1e-300, "p[\(i), \(j)]")
                let r = p - (j == codes[i] ? 1 : 0)
                #expect(Swift.abs(residuals[i + j * n] - r) <= 4 * p.ulp + 1e-300, "residual[\(i), \(j)]")
            }
        }
        #expect(Swift.abs(loss - expectedLoss) <= 1e-13 * Swift.max(1, expectedLoss), "\(loss) against \(expectedLoss)")
        // Without probabilities: the same loss and residuals.
        var again = z
        #expect(repprobe_cross_entropy(&again, n, m, codes, nil).bitPattern == loss.bitPattern)
        #expect(again.map(\.bitPattern) == residuals.map(\.bitPattern))
    }

    /// Every instruction set gives the same bits as the baseline build.
    @Test func crossEntropyBitsAreTheBaselines() {
        var generator = SeededGenerator(seed: 5)
        let (n, m) = (203, 10)
        let z = (0..<(n * m)).map { _ in 50 * generator.nextSigned() }
        let codes = (0..<n).map { _ in Int(generator.next() % UInt64(m)) }
        var fast = z, slow = z
        var pFast = [Double](repeating: 0, count: n * m), pSlow = pFast
        let lossFast = repprobe_cross_entropy(&fast, n, m, codes, &pFast)
        let lossSlow = repprobe_cross_entropy_baseline(&slow, n, m, codes, &pSlow)
        #expect(lossFast.bitPattern == lossSlow.bitPattern)
        #expect(fast.map(\.bitPattern) == slow.map(\.bitPattern))
        #expect(pFast.map(\.bitPattern) == pSlow.map(\.bitPattern))
    }
}

/// Whether this processor runs the narrow products (AVX2 and FMA, or AVX-512).
private func narrowProductsRun() -> Bool {
    var c = [0.0]
    return repprobe_dgemm_narrow(0, 1, 1, 1, 1, [1.0], 1, [1.0], 1, &c, 1, 0) == 1
}

import Testing
import LinearAlgebra

// The BLAS-backed `Matrix` products (gemm, syrk, gemv, dot) against the loops in
// Reference.swift, for every transpose combination and for degenerate shapes, where the
// wrappers skip BLAS or pass leading dimensions that BLAS is picky about.

struct ProductCase: Sendable, CustomTestStringConvertible {
    var m: Int, k: Int, n: Int
    var transposingA: Bool, transposingB: Bool

    var testDescription: String {
        "\(m)×\(k)·\(k)×\(n)\(transposingA ? " Aᵀ" : "")\(transposingB ? " Bᵀ" : "")"
    }

    var seed: UInt64 { UInt64(m * 10_007 + k * 101 + n) &* 4 + (transposingA ? 2 : 0) + (transposingB ? 1 : 0) }

    /// Operands stored so that `op(A)` is `m×k` and `op(B)` is `k×n`.
    func operands<S: BLASScalar>(_ type: S.Type) -> (a: Matrix<S>, b: Matrix<S>) {
        let a: Matrix<S> = randomMatrix(rows: transposingA ? k : m, columns: transposingA ? m : k, seed: seed)
        let b: Matrix<S> = randomMatrix(rows: transposingB ? n : k, columns: transposingB ? k : n, seed: seed + 1)
        return (a, b)
    }
}

/// Vectors and columns (1), a scalar, the zero-sized shapes the wrappers short-circuit, and
/// one size above OpenBLAS's small-matrix paths.
private let productShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 7, 1), (1, 5, 4), (6, 5, 1), (5, 1, 6), (4, 6, 3),
    (37, 33, 41), (0, 3, 4), (3, 0, 4), (3, 4, 0),
]

private let productCases: [ProductCase] = productShapes.flatMap { m, k, n in
    [(false, false), (true, false), (false, true), (true, true)].map { ta, tb in
        ProductCase(m: m, k: k, n: n, transposingA: ta, transposingB: tb)
    }
}

/// rows × columns for the symmetric products and matrix–vector products; 70 columns put
/// the Gram matrix across two tiles of the symmetrising loop.
private let rectangularShapes: [(Int, Int)] = [(1, 1), (1, 6), (6, 1), (5, 7), (7, 5), (40, 70), (0, 4), (4, 0), (0, 0)]

@Suite struct ProductTests {
    @Test(arguments: scalarTypes, productCases)
    func multipliedMatchesTripleLoop(type: any BLASScalar.Type, c: ProductCase) {
        checkMultiplied(type, c, scale: 1)
    }

    @Test(arguments: scalarTypes, productCases.filter { $0.m == 4 || $0.m == 37 })
    func multipliedAppliesScale(type: any BLASScalar.Type, c: ProductCase) {
        checkMultiplied(type, c, scale: -2.5)
    }

    private func checkMultiplied<S: BLASScalar>(_ type: S.Type, _ c: ProductCase, scale: Double) {
        let (a, b) = c.operands(S.self)
        let product = a.multiplied(by: b, transposingSelf: c.transposingA, transposingOther: c.transposingB, scale: S(scale))
        var expected = naiveProduct(a, b, transposingA: c.transposingA, transposingB: c.transposingB)
        var magnitude = naiveProduct(a.magnitudes, b.magnitudes, transposingA: c.transposingA, transposingB: c.transposingB)
        let s = scale
        expected.storage = expected.storage.map { s * $0 }
        magnitude.storage = magnitude.storage.map { Swift.abs(s) * $0 }
        expectAgreement(product, expected, magnitude: magnitude, roundings: c.k + 2, "\(c)")
    }

    @Test(arguments: scalarTypes, productCases.filter { !$0.transposingA && !$0.transposingB })
    func starOperatorIsThePlainProduct(type: any BLASScalar.Type, c: ProductCase) {
        checkStar(type, c)
    }

    private func checkStar<S: BLASScalar>(_ type: S.Type, _ c: ProductCase) {
        let (a, b) = c.operands(S.self)
        expectAgreement(a * b, naiveProduct(a, b), magnitude: naiveProduct(a.magnitudes, b.magnitudes),
                        roundings: c.k + 1, "\(c)")
    }

    @Test(arguments: scalarTypes, productCases.filter { $0.transposingA && !$0.transposingB })
    func transposedTimesMatrixIsATransposeB(type: any BLASScalar.Type, c: ProductCase) {
        checkTransposedTimesMatrix(type, c)
    }

    private func checkTransposedTimesMatrix<S: BLASScalar>(_ type: S.Type, _ c: ProductCase) {
        let (a, b) = c.operands(S.self)
        expectAgreement(a.transposedTimes(b), naiveProduct(a, b, transposingA: true),
                        magnitude: naiveProduct(a.magnitudes, b.magnitudes, transposingA: true),
                        roundings: c.k + 1, "\(c)")
    }

    @Test(arguments: scalarTypes, rectangularShapes)
    func gramIsATransposeAWithBothTriangles(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkGram(type, rows: shape.0, columns: shape.1, outer: false)
    }

    @Test(arguments: scalarTypes, rectangularShapes)
    func outerGramIsATimesATransposeWithBothTriangles(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkGram(type, rows: shape.0, columns: shape.1, outer: true)
    }

    private func checkGram<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int, outer: Bool) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: UInt64(rows * 97 + columns))
        for scale in [S(1), S(0.25)] {
            let g = outer ? a.outerGram(scale: scale) : a.gram(scale: scale)
            var expected = naiveProduct(a, a, transposingA: !outer, transposingB: outer)
            var magnitude = naiveProduct(a.magnitudes, a.magnitudes, transposingA: !outer, transposingB: outer)
            expected.storage = expected.storage.map { Double(scale) * $0 }
            magnitude.storage = magnitude.storage.map { Double(scale) * $0 }
            expectAgreement(g, expected, magnitude: magnitude, roundings: (outer ? columns : rows) + 2,
                            "\(rows)×\(columns) scale \(scale)")
            // syrk computes one triangle; the other is a copy, so symmetry is exact.
            #expect(g == g.transposed())
        }
    }

    /// Row counts around the block of 256 rows that `centredGram` centres at a time.
    @Test(arguments: scalarTypes, [(0, 3), (1, 1), (5, 7), (255, 9), (256, 9), (257, 9), (600, 33)])
    func centredGramIsTheGramOfTheCentredColumns(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkCentredGram(type, rows: shape.0, columns: shape.1)
    }

    private func checkCentredGram<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        // An offset of 100 per column: the uncentred products would be 10⁴ times too large.
        var a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: UInt64(rows * 13 + columns))
        for j in 0..<columns { for i in 0..<rows { a[i, j] += 100 } }
        let means = a.columnMeans
        var centred = Matrix<Double>(rows: rows, columns: columns), magnitude = centred
        for j in 0..<columns {
            for i in 0..<rows {
                centred[i, j] = Double(a[i, j]) - Double(means[j])
                magnitude[i, j] = Swift.abs(centred[i, j])
            }
        }
        let scale = S(0.5)
        let g = a.centredGram(means: means, scale: scale)
        var expected = naiveProduct(centred, centred, transposingA: true, transposingB: false)
        var bound = naiveProduct(magnitude, magnitude, transposingA: true, transposingB: false)
        expected.storage = expected.storage.map { Double(scale) * $0 }
        // Each centred element is rounded once, against an element of magnitude up to ~100.
        bound.storage = bound.storage.map { Double(scale) * ($0 + 200 * Double(rows)) }
        expectAgreement(g, expected, magnitude: bound, roundings: rows + 3, "\(rows)×\(columns)")
        #expect(g == g.transposed())
    }

    @Test(arguments: scalarTypes, rectangularShapes)
    func timesVectorIsAx(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkTimes(type, rows: shape.0, columns: shape.1, transposing: false)
    }

    @Test(arguments: scalarTypes, rectangularShapes)
    func transposedTimesVectorIsATransposeX(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkTimes(type, rows: shape.0, columns: shape.1, transposing: true)
    }

    private func checkTimes<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int, transposing: Bool) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: UInt64(rows * 31 + columns))
        let x: [S] = randomVector(count: transposing ? rows : columns, seed: 7)
        let y = transposing ? a.transposedTimes(x) : a.times(x)
        let magnitude = naiveMatrixVector(a.magnitudes, x.map { Swift.abs(Double($0)) }, transposing: transposing)
        expectAgreement(y, naiveMatrixVector(a, x, transposing: transposing), magnitude: magnitude,
                        roundings: (transposing ? rows : columns) + 1, "\(rows)×\(columns)")
    }

    @Test(arguments: scalarTypes, rectangularShapes)
    func frobeniusDotIsElementwiseSum(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkFrobeniusDot(type, rows: shape.0, columns: shape.1)
    }

    private func checkFrobeniusDot<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 11)
        let b: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 12)
        var expected = 0.0, magnitude = 0.0
        for j in 0..<columns {
            for i in 0..<rows {
                expected += Double(a[i, j]) * Double(b[i, j])
                magnitude += Swift.abs(Double(a[i, j]) * Double(b[i, j]))
            }
        }
        expectAgreement([a.frobeniusDot(b)], [expected], magnitude: [magnitude], roundings: rows * columns + 1,
                        "\(rows)×\(columns)")
    }
}

import Dispatch
import Testing
import LinearAlgebra

// The raw `BLASScalar` kernels are public (Analysis calls `_dotInDouble` directly), and the
// `Matrix` methods only ever pass alpha = 1, beta = 0 and tight leading dimensions. These
// tests exercise the rest of the contract: alpha, beta, and leading dimensions larger than
// the row count, with the padding rows holding a sentinel that must neither be read into
// the result nor overwritten.

private let sentinel = 1000.0

/// A column-major `rows × columns` block inside a buffer whose columns are `ld` long, the
/// padding rows filled with `sentinel`.
private func padded<S: BLASScalar>(_ a: Matrix<S>, ld: Int) -> [S] {
    var buffer = [S](repeating: S(sentinel), count: ld * a.columns)
    for j in 0..<a.columns { for i in 0..<a.rows { buffer[i + j * ld] = a[i, j] } }
    return buffer
}

private func unpadded<S: BLASScalar>(_ buffer: [S], rows: Int, columns: Int, ld: Int) -> Matrix<S> {
    var a = Matrix<S>(rows: rows, columns: columns)
    for j in 0..<columns { for i in 0..<rows { a[i, j] = buffer[i + j * ld] } }
    return a
}

private func paddingIsUntouched<S: BLASScalar>(_ buffer: [S], rows: Int, ld: Int) -> Bool {
    buffer.indices.allSatisfy { $0 % ld < rows || buffer[$0] == S(sentinel) }
}

private let transposePairs: [(Bool, Bool)] = [(false, false), (true, false), (false, true), (true, true)]

@Suite struct BLASKernelTests {
    @Test(arguments: scalarTypes, transposePairs)
    func gemmHonoursAlphaBetaAndLeadingDimensions(type: any BLASScalar.Type, transposes: (Bool, Bool)) {
        checkGemm(type, transA: transposes.0, transB: transposes.1)
    }

    private func checkGemm<S: BLASScalar>(_ type: S.Type, transA: Bool, transB: Bool) {
        let m = 5, n = 4, k = 3
        let alpha = S(1.5), beta = S(-0.5)
        let a: Matrix<S> = randomMatrix(rows: transA ? k : m, columns: transA ? m : k, seed: 41)
        let b: Matrix<S> = randomMatrix(rows: transB ? n : k, columns: transB ? k : n, seed: 42)
        let c0: Matrix<S> = randomMatrix(rows: m, columns: n, seed: 43)
        let lda = a.rows + 2, ldb = b.rows + 1, ldc = m + 3
        let ap = padded(a, ld: lda), bp = padded(b, ld: ldb)
        var cp = padded(c0, ld: ldc)
        S._gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ap, lda: lda, b: bp, ldb: ldb,
                beta: beta, c: &cp, ldc: ldc)

        let ab = naiveProduct(a, b, transposingA: transA, transposingB: transB)
        let abMagnitude = naiveProduct(a.magnitudes, b.magnitudes, transposingA: transA, transposingB: transB)
        var expected = Matrix<Double>(rows: m, columns: n), magnitude = expected
        for j in 0..<n {
            for i in 0..<m {
                expected[i, j] = Double(alpha) * ab[i, j] + Double(beta) * Double(c0[i, j])
                magnitude[i, j] = abs(Double(alpha)) * abMagnitude[i, j] + abs(Double(beta) * Double(c0[i, j]))
            }
        }
        expectAgreement(unpadded(cp, rows: m, columns: n, ld: ldc), expected, magnitude: magnitude, roundings: k + 3)
        #expect(paddingIsUntouched(cp, rows: m, ld: ldc))
    }

    @Test(arguments: scalarTypes, [false, true])
    func syrkUpdatesOnlyTheUpperTriangle(type: any BLASScalar.Type, transposing: Bool) {
        checkSyrk(type, trans: transposing)
    }

    private func checkSyrk<S: BLASScalar>(_ type: S.Type, trans: Bool) {
        let n = 5, k = 3
        let alpha = S(0.75), beta = S(2)
        let a: Matrix<S> = randomMatrix(rows: trans ? k : n, columns: trans ? n : k, seed: 44)
        let c0: Matrix<S> = randomMatrix(rows: n, columns: n, seed: 45)
        let lda = a.rows + 2, ldc = n + 1
        let ap = padded(a, ld: lda)
        var cp = padded(c0, ld: ldc)
        S._syrk(trans: trans, n: n, k: k, alpha: alpha, a: ap, lda: lda, beta: beta, c: &cp, ldc: ldc)

        let aat = naiveProduct(a, a, transposingA: trans, transposingB: !trans)
        let aatMagnitude = naiveProduct(a.magnitudes, a.magnitudes, transposingA: trans, transposingB: !trans)
        let c = unpadded(cp, rows: n, columns: n, ld: ldc)
        var upper: [S] = [], expected: [Double] = [], magnitude: [Double] = []
        for j in 0..<n {
            for i in 0...j {
                upper.append(c[i, j])
                expected.append(Double(alpha) * aat[i, j] + Double(beta) * Double(c0[i, j]))
                magnitude.append(Double(alpha) * aatMagnitude[i, j] + abs(Double(beta) * Double(c0[i, j])))
            }
            // The strict lower triangle is not part of the result and must keep its old values.
            for i in (j + 1)..<n { #expect(c[i, j] == c0[i, j]) }
        }
        expectAgreement(upper, expected, magnitude: magnitude, roundings: k + 3, "upper triangle")
        #expect(paddingIsUntouched(cp, rows: n, ld: ldc))
    }

    @Test(arguments: scalarTypes, [false, true])
    func gemvHonoursAlphaBetaAndLeadingDimension(type: any BLASScalar.Type, transposing: Bool) {
        checkGemv(type, trans: transposing)
    }

    private func checkGemv<S: BLASScalar>(_ type: S.Type, trans: Bool) {
        let m = 6, n = 4
        let alpha = S(-2), beta = S(0.5)
        let a: Matrix<S> = randomMatrix(rows: m, columns: n, seed: 46)
        let x: [S] = randomVector(count: trans ? m : n, seed: 47)
        let y0: [S] = randomVector(count: trans ? n : m, seed: 48)
        let lda = m + 2
        let ap = padded(a, ld: lda)
        var y = y0
        S._gemv(trans: trans, m: m, n: n, alpha: alpha, a: ap, lda: lda, x: x, beta: beta, y: &y)

        let ax = naiveMatrixVector(a, x, transposing: trans)
        let axMagnitude = naiveMatrixVector(a.magnitudes, x.map { abs(Double($0)) }, transposing: trans)
        let expected = ax.indices.map { Double(alpha) * ax[$0] + Double(beta) * Double(y0[$0]) }
        let magnitude = ax.indices.map { abs(Double(alpha)) * axMagnitude[$0] + abs(Double(beta) * Double(y0[$0])) }
        expectAgreement(y, expected, magnitude: magnitude, roundings: (trans ? m : n) + 3)
    }

    @Test(arguments: scalarTypes, [1, 2, 17, 1000])
    func dotMatchesLoop(type: any BLASScalar.Type, n: Int) {
        checkDot(type, n: n)
    }

    private func checkDot<S: BLASScalar>(_ type: S.Type, n: Int) {
        let x: [S] = randomVector(count: n, seed: 49), y: [S] = randomVector(count: n, seed: 50)
        let expected = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let magnitude = zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        expectAgreement([S._dot(n: n, x: x, y: y)], [expected], magnitude: [magnitude], roundings: n + 1)
        // At the very least as good as the S-precision dot; the Double promise is checked below.
        expectAgreement([S(S._dotInDouble(n: n, x: x, y: y))], [expected], magnitude: [magnitude], roundings: n + 2,
                        "in Double")
    }

    /// ±2²⁵ swamp every 1 that a Float accumulator adds next to them (Float's ulp there is 4),
    /// while every partial sum is an integer that Double holds exactly, in any order.
    private static func swampedOnes<S: BLASScalar>(_ type: S.Type) -> [S] {
        [0x1p25] + [S](repeating: 1, count: 999) + [-0x1p25]
    }

    @Test func doubleDotInDoubleIsExactOnIntegers() {
        let x = Self.swampedOnes(Double.self)
        #expect(Double._dotInDouble(n: x.count, x: x, y: [Double](repeating: 1, count: x.count)) == 999)
    }

    /// "Accumulated in Double" holds for Float too: `cblas_dsdot` of Debian's OpenBLAS 0.3.21
    /// added the products in Float (996 here, and Float-level error on random vectors).
    @Test func floatDotInDoubleAccumulatesInDouble() {
        let x = Self.swampedOnes(Float.self)
        #expect(Float._dotInDouble(n: x.count, x: x, y: [Float](repeating: 1, count: x.count)) == 999)

        let n = 1001
        let u: [Float] = randomVector(count: n, seed: 51), v: [Float] = randomVector(count: n, seed: 52)
        let expected = zip(u, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let magnitude = zip(u, v).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        // Float products are exact in Double, so only the n additions round, at Double's ε.
        expectAgreement([Float._dotInDouble(n: n, x: u, y: v)], [expected], magnitude: [magnitude],
                        roundings: n + 1, "in Double")
    }

    @Test func threadSettingsAreReadable() {
        let count = BLASThreads.count
        #expect(count >= 1)
        // Only a no-op change: other suites call BLAS concurrently, and resizing OpenBLAS's
        // thread pool under them is not something a test should do.
        BLASThreads.set(count)
        #expect(BLASThreads.count == count)
        #expect(BLASThreads.configuration.hasPrefix("OpenBLAS"))
    }
}

/// OpenBLAS's thread count is the process's: callers that ask for one thread at the same
/// time share the single-threaded period, and the count is restored once, when the last
/// leaves, whatever the interleaving.
@Suite struct SingleThreadedBLASTests {
    @Test func concurrentCallersLeaveTheCountAsTheyFoundIt() {
        let before = BLASThreads.count
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 {
                BLASThreads.one(if: true) { #expect(BLASThreads.count == 1) }
            }
        }
        #expect(BLASThreads.count == before)
        #expect(BLASThreads.one(if: false) { BLASThreads.count } == before)
    }
}

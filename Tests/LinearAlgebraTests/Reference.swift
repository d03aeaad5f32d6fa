import Testing
import LinearAlgebra

// Test-side references: a seeded generator and plain loops that the BLAS/LAPACK-backed
// `Matrix` operations are checked against. The loops accumulate in `Double` from the
// stored elements, so for `Float` inputs they are exact enough to stand for the truth.

/// SplitMix64: tiny, seedable, and the same sequence on every platform, so a failing case
/// can be replayed from its seed.
struct SeededGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1), built from the top 53 bits.
    mutating func nextSigned() -> Double {
        Double(next() >> 11) * 0x1p-52 - 1
    }
}

/// Both scalar types the generic API is instantiated for; tests taking this as an argument
/// open the existential into a generic helper.
let scalarTypes: [any BLASScalar.Type] = [Float.self, Double.self]

func randomMatrix<S: BLASScalar>(
    _ type: S.Type = S.self, rows: Int, columns: Int, seed: UInt64, scale: Double = 1
) -> Matrix<S> {
    var generator = SeededGenerator(seed: seed)
    let elements = (0..<(rows * columns)).map { _ in S(scale * generator.nextSigned()) }
    return Matrix(rows: rows, columns: columns, columnMajor: elements)
}

func randomVector<S: BLASScalar>(_ type: S.Type = S.self, count: Int, seed: UInt64) -> [S] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in S(generator.nextSigned()) }
}

/// A symmetric positive definite matrix `XᵀX/k + I`, far enough from singular that solves
/// need no special tolerance.
func randomSPD(_ n: Int, seed: UInt64) -> Matrix<Double> {
    let x: Matrix<Double> = randomMatrix(rows: n + 3, columns: n, seed: seed)
    var a = naiveProduct(x, x, transposingA: true)
    for i in 0..<n { a[i, i] += 1 }
    return a
}

// MARK: - Naive loops

extension Matrix {
    /// The elements as `Double`, for references and error measurements.
    var doubles: Matrix<Double> {
        Matrix<Double>(rows: rows, columns: columns, columnMajor: storage.map { Double($0) })
    }

    /// Element-wise absolute values: `|A||B|` bounds the rounding error of `A·B`.
    var magnitudes: Matrix<Double> {
        Matrix<Double>(rows: rows, columns: columns, columnMajor: storage.map { Swift.abs(Double($0)) })
    }
}

/// `op(A)·op(B)` by the textbook triple loop, indexing the transposes instead of forming them.
func naiveProduct<S: BLASScalar>(
    _ a: Matrix<S>, _ b: Matrix<S>, transposingA: Bool = false, transposingB: Bool = false
) -> Matrix<Double> {
    let m = transposingA ? a.columns : a.rows
    let k = transposingA ? a.rows : a.columns
    let n = transposingB ? b.rows : b.columns
    precondition(k == (transposingB ? b.columns : b.rows), "reference: inner dimensions differ")
    var c = Matrix<Double>(rows: m, columns: n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transposingA ? a[p, i] : a[i, p]
                let y = transposingB ? b[j, p] : b[p, j]
                sum += Double(x) * Double(y)
            }
            c[i, j] = sum
        }
    }
    return c
}

/// `op(A)·x` by a double loop.
func naiveMatrixVector<S: BLASScalar>(_ a: Matrix<S>, _ x: [S], transposing: Bool = false) -> [Double] {
    let m = transposing ? a.columns : a.rows
    let n = transposing ? a.rows : a.columns
    precondition(x.count == n, "reference: vector length")
    return (0..<m).map { i in
        var sum = 0.0
        for j in 0..<n { sum += Double(transposing ? a[j, i] : a[i, j]) * Double(x[j]) }
        return sum
    }
}

func naiveTranspose(_ a: Matrix<Double>) -> Matrix<Double> {
    var t = Matrix<Double>(rows: a.columns, columns: a.rows)
    for i in 0..<a.rows { for j in 0..<a.columns { t[j, i] = a[i, j] } }
    return t
}

func diagonal(_ values: [Double]) -> Matrix<Double> {
    var d = Matrix<Double>(rows: values.count, columns: values.count)
    for (i, v) in values.enumerated() { d[i, i] = v }
    return d
}

func maxAbs(_ values: [Double]) -> Double {
    values.reduce(0) { Swift.max($0, Swift.abs($1)) }
}

/// `‖QᵀQ − I‖_max` for the columns of `q`.
func orthonormalityError(_ q: Matrix<Double>) -> Double {
    var qtq = naiveProduct(q, q, transposingA: true)
    for i in 0..<q.columns { qtq[i, i] -= 1 }
    return maxAbs(qtq.storage)
}

// MARK: - Comparisons

/// Checks `|actual − expected| ≤ roundings · ε · magnitude` element by element, where
/// `magnitude` is what the rounding error scales with (`|A||B|` for a product, `|x|` for a
/// copy) and ε is the unit roundoff of `S`: the standard forward bound for `roundings`
/// floating-point operations in a row, so the check is as tight as `S` can promise.
func expectAgreement<S: BLASScalar>(
    _ actual: [S], _ expected: [Double], magnitude: [Double], roundings: Int,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) elements, expected \(expected.count)",
            sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    let epsilon = Double(S.ulpOfOne)
    var worst: (index: Int, excess: Double)? = nil
    for i in actual.indices {
        let error = Swift.abs(Double(actual[i]) - expected[i])
        // The smallest normal absorbs underflow in products of tiny values.
        let bound = Double(roundings) * epsilon * magnitude[i] + Double(S.leastNormalMagnitude)
        if !(error <= bound), error / bound > (worst?.excess ?? 0) { worst = (i, error / bound) }
    }
    if let worst {
        Issue.record(
            "\(what): element \(worst.index) is \(actual[worst.index]), expected \(expected[worst.index]) (error \(worst.excess)× the bound)",
            sourceLocation: sourceLocation)
    }
}

func expectAgreement<S: BLASScalar>(
    _ actual: Matrix<S>, _ expected: Matrix<Double>, magnitude: Matrix<Double>, roundings: Int,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.rows == expected.rows && actual.columns == expected.columns,
            "\(what): shape \(actual.rows)×\(actual.columns), expected \(expected.rows)×\(expected.columns)",
            sourceLocation: sourceLocation)
    guard actual.rows == expected.rows && actual.columns == expected.columns else { return }
    expectAgreement(actual.storage, expected.storage, magnitude: magnitude.storage, roundings: roundings, what,
                    sourceLocation: sourceLocation)
}

/// Checks that a residual is small next to the scale of the data it came from: backward
/// stable LAPACK routines promise `‖residual‖ ≲ c·n·ε·‖A‖` with a modest `c`.
func expectSmallResidual(
    _ residual: [Double], relativeTo scale: Double, dimension: Int,
    _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let bound = 16 * Double(Swift.max(dimension, 1)) * Double.ulpOfOne * Swift.max(scale, Double.leastNormalMagnitude)
    let error = maxAbs(residual)
    #expect(error <= bound, "\(what): residual \(error) exceeds \(bound)", sourceLocation: sourceLocation)
}

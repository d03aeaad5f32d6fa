import Testing
import LinearAlgebra

// LAPACK's `info > 0` paths, each surfacing as a `LinearAlgebraError` that names the
// routine and carries LAPACK's 1-based index.
//
// `didNotConverge` (dsyevr, dgesdd) has no test that throws it: neither routine fails to
// converge on any input we can construct honestly. NaN is refused by LAPACKE's argument
// check (a precondition failure here, by design), and infinities come back as NaN results
// without a positive `info`.

/// `L·D·Lᵀ` with unit lower triangular `L` of small integers: its k-th leading minor is
/// `d₁⋯dₖ`, so a negative `d` at position `p` makes minor `p` the first that is not
/// positive definite, while the matrix is otherwise dense and unremarkable.
private func indefinite(_ n: Int, negativeAt p: Int) -> Matrix<Double> {
    var l = Matrix<Double>.identity(n)
    var generator = SeededGenerator(seed: UInt64(110 + 10 * n + p))
    for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { l[i, j] = Double(Int(generator.next() % 5) - 2) } }
    let d = (1...n).map { $0 == p ? -1.0 : 2.0 }
    return naiveProduct(naiveProduct(l, diagonal(d)), l, transposingB: true)
}

/// A dense matrix whose column `p` (1-based) is zero: elimination never changes a zero
/// column, so the p-th pivot is exactly zero and the earlier (random) ones are not.
private func singular(_ n: Int, zeroColumn p: Int) -> Matrix<Double> {
    var a: Matrix<Double> = randomMatrix(rows: n, columns: n, seed: UInt64(120 + 10 * n + p))
    for i in 0..<n { a[i, p - 1] = 0 }
    return a
}

private let minorCases: [(n: Int, minor: Int)] = [(1, 1), (2, 1), (2, 2), (4, 1), (4, 3), (4, 4)]

@Suite struct LAPACKErrorTests {
    @Test(arguments: minorCases)
    func positiveDefiniteSolveReportsTheFailingMinor(n: Int, minor: Int) {
        let a = indefinite(n, negativeAt: minor)
        #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "dposv", minor: minor)) {
            try a.solvingPositiveDefinite(Matrix(rows: n, columns: 1, repeating: 1))
        }
    }

    @Test(arguments: minorCases)
    func choleskyReportsTheFailingMinor(n: Int, minor: Int) {
        let a = indefinite(n, negativeAt: minor)
        #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "dpotrf", minor: minor)) {
            try a.choleskyUpper()
        }
    }

    /// Positive semidefinite is not enough: a zero leading minor fails too.
    @Test func semidefiniteMatrixIsRejected() {
        let a = Matrix<Double>([[1, 1], [1, 1]])
        #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "dpotrf", minor: 2)) { try a.choleskyUpper() }
    }

    @Test(arguments: [(1, 1), (3, 1), (3, 2), (4, 3), (4, 4)])
    func generalSolveReportsTheZeroPivot(n: Int, pivot: Int) {
        let a = singular(n, zeroColumn: pivot)
        #expect(throws: LinearAlgebraError.singular(routine: "dgesv", pivot: pivot)) {
            try a.solving(Matrix(rows: n, columns: 2, repeating: 1))
        }
    }

    /// Dependent rows rather than a zero column: partial pivoting swaps the rows, and the
    /// second pivot is then 2 − ½·4, exactly zero.
    @Test func dependentRowsReportTheSecondPivot() {
        let a = Matrix<Double>([[1, 2], [2, 4]])
        #expect(throws: LinearAlgebraError.singular(routine: "dgesv", pivot: 2)) {
            try a.solving(Matrix([[1], [1]]))
        }
    }

    @Test func descriptionsNameTheRoutineAndIndex() {
        let cases: [(LinearAlgebraError, String)] = [
            (.didNotConverge(routine: "dgesdd", info: 3), "dgesdd did not converge (info = 3)"),
            (.notPositiveDefinite(routine: "dposv", minor: 2), "dposv: the matrix is not positive definite (leading minor 2)"),
            (.singular(routine: "dgesv", pivot: 4), "dgesv: the matrix is singular (zero pivot at 4)"),
        ]
        for (error, text) in cases { #expect(error.description == text) }
    }
}

import CLAPACK
import Testing
@testable import LinearAlgebra

// The LAPACK-backed factorisations checked by what defines them, with products and
// residuals formed by the loops in Reference.swift rather than by the code under test.

private func randomSymmetric(_ n: Int, seed: UInt64) -> Matrix<Double> {
    var a: Matrix<Double> = randomMatrix(rows: n, columns: n, seed: seed)
    for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { a[i, j] = a[j, i] } }
    return a
}

/// A copy with the strict lower triangle overwritten, for routines documented to read only
/// the upper one.
private func withGarbageBelowDiagonal(_ a: Matrix<Double>) -> Matrix<Double> {
    var b = a
    for j in 0..<a.columns { for i in (j + 1)..<max(j + 1, a.rows) { b[i, j] = -1e6 } }
    return b
}

private func largest(_ a: Matrix<Double>) -> Double { maxAbs(a.storage) }

@Suite struct SymmetricEigenTests {
    /// `A·V = V·Λ` and `VᵀV = I`, for the `k` returned pairs.
    private func expectEigenpairs(
        _ a: Matrix<Double>, _ e: SymmetricEigenDecomposition, count k: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let n = a.rows
        #expect(e.values.count == k, sourceLocation: sourceLocation)
        #expect(e.values == e.values.sorted(by: >), "descending", sourceLocation: sourceLocation)
        guard let v = e.vectors else {
            Issue.record("no eigenvectors", sourceLocation: sourceLocation)
            return
        }
        #expect(v.rows == n && v.columns == k, sourceLocation: sourceLocation)
        guard v.columns == e.values.count else { return }
        let residual = naiveProduct(a, v) - naiveProduct(v, diagonal(e.values))
        expectSmallResidual(residual.storage, relativeTo: largest(a) * Double(max(n, 1)), dimension: n, "A·V − V·Λ",
                            sourceLocation: sourceLocation)
        expectSmallResidual([orthonormalityError(v)], relativeTo: 1, dimension: n, "VᵀV − I",
                            sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 5, 30])
    func eigenpairsSatisfyAVEqualsVLambda(n: Int) throws {
        let a = randomSymmetric(n, seed: UInt64(60 + n))
        let e = try a.symmetricEigen()
        expectEigenpairs(a, e, count: n)
        // The eigenvalues of a symmetric matrix sum to its trace.
        var trace = 0.0
        for i in 0..<n { trace += a[i, i] }
        expectSmallResidual([e.values.reduce(0, +) - trace], relativeTo: largest(a) * Double(n), dimension: n, "Σλ − tr A")
    }

    /// Complete decompositions take divide and conquer up to an order and `dsyevr` beyond it:
    /// both give eigenpairs, with the same values to rounding. Orders around multiples of
    /// `LAPACK.reductionBlock` + 1 (64 reflectors) give the reduction's back-transformation
    /// one block, one and a bit, and several with a short last one.
    @Test(arguments: [1, 2, 5, 30, 64, 65, 66, 130, 200])
    func bothRoutinesOfTheCompleteDecompositionAgree(n: Int) throws {
        let a = randomSymmetric(n, seed: UInt64(70 + n))
        let divideAndConquer = try a.symmetricEigen(vectors: true, top: nil, divideAndConquerUpTo: n)
        let representations = try a.symmetricEigen(vectors: true, top: nil, divideAndConquerUpTo: n - 1)
        expectEigenpairs(a, divideAndConquer, count: n)
        expectEigenpairs(a, representations, count: n)
        expectSmallResidual(zip(divideAndConquer.values, representations.values).map { $0 - $1 },
                            relativeTo: largest(a) * Double(n), dimension: n, "dsyevd against dsyevr values")
    }

    /// The divide and conquer here is `dsyevd`'s with its last step done by matrix products:
    /// LAPACK's own `dsyevd` gives the same eigenvalues and eigenvectors (up to sign) to
    /// rounding.
    @Test func divideAndConquerMatchesLAPACKsDsyevd() throws {
        let n = 150
        let a = randomSymmetric(n, seed: 86)
        let e = try a.symmetricEigen()
        var reference = a.storage
        var ascending = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 86 /* V */, 85 /* U */, Int32(n), &reference, Int32(n), &ascending)
        #expect(info == 0)
        expectSmallResidual(zip(e.values, ascending.reversed()).map { $0 - $1 }, relativeTo: largest(a) * Double(n),
                            dimension: n, "values against dsyevd")
        let v = try #require(e.vectors)
        var difference = [Double]()
        for j in 0..<n {
            let column = Array(reference[((n - 1 - j) * n)..<((n - j) * n)])
            let sign: Double = zip((0..<n).map { v[$0, j] }, column).reduce(0) { $0 + $1.0 * $1.1 } < 0 ? -1 : 1
            difference += (0..<n).map { v[$0, j] - sign * column[$0] }
        }
        // Eigenvectors move by ε‖A‖ over the gap to the nearest eigenvalue: the bound allows
        // a gap of a thousandth of ‖A‖.
        expectSmallResidual(difference, relativeTo: 1000, dimension: n, "vectors against dsyevd")
    }

    /// A matrix already diagonal, or made of blocks that do not touch, has reduction steps with
    /// nothing to annihilate (`τ = 0`, the reflector the identity), inside and across the
    /// blocks of reflectors applied together.
    @Test(arguments: [70, 150])
    func decoupledBlocksHaveIdentityReflectors(n: Int) throws {
        var diagonalOnly = Matrix<Double>(rows: n, columns: n)
        for i in 0..<n { diagonalOnly[i, i] = Double((i * 37) % n) - Double(n) / 3 }
        let e = try diagonalOnly.symmetricEigen()
        expectEigenpairs(diagonalOnly, e, count: n)
        #expect(e.values == (0..<n).map { diagonalOnly[$0, $0] }.sorted(by: >))

        // Three random blocks on the diagonal, zeros between them.
        var blocks = Matrix<Double>(rows: n, columns: n)
        let cuts = [0, n / 3, n / 2 + 7, n]
        for b in 0..<3 {
            let range = cuts[b]..<cuts[b + 1]
            let block = randomSymmetric(range.count, seed: UInt64(80 + b))
            for j in range { for i in range { blocks[i, j] = block[i - range.lowerBound, j - range.lowerBound] } }
        }
        expectEigenpairs(blocks, try blocks.symmetricEigen(), count: n)
    }

    /// A matrix whose elements are far from 1 (beyond the `10^±146` at which `dsyevd` would
    /// scale it) keeps its eigenpairs: its eigenvalues are the unscaled matrix's, scaled, and
    /// its eigenvectors the same.
    @Test(arguments: [1e-160, 1e160, 1e-300, 1e307])
    func extremeMagnitudesKeepTheirEigenpairs(factor: Double) throws {
        let a = randomSymmetric(40, seed: 85)
        var scaled = a
        scaled.scale(by: factor)
        let plain = try a.symmetricEigen(), e = try scaled.symmetricEigen()
        #expect(e.values.allSatisfy { $0.isFinite })
        expectSmallResidual(zip(e.values, plain.values).map { $0 / factor - $1 }, relativeTo: largest(a) * 40, dimension: 40,
                            "λ(cA)/c − λ(A)")
        let v = try #require(e.vectors), w = try #require(plain.vectors)
        expectSmallResidual(v.storage.indices.map { v.storage[$0] - w.storage[$0] }, relativeTo: 40, dimension: 40,
                            "eigenvectors of cA against A's")
    }

    @Test func repeatedEigenvaluesStillGiveOrthonormalVectors() throws {
        var a = Matrix<Double>(rows: 4, columns: 4)
        for (i, v) in [3.0, 3, 3, -1].enumerated() { a[i, i] = v }
        let e = try a.symmetricEigen()
        expectEigenpairs(a, e, count: 4)
        #expect(e.values == [3, 3, 3, -1])
    }

    @Test func onlyTheUpperTriangleIsRead() throws {
        let a = randomSymmetric(6, seed: 61)
        let clean = try a.symmetricEigen()
        let dirty = try withGarbageBelowDiagonal(a).symmetricEigen()
        #expect(dirty.values == clean.values)
        #expect(dirty.vectors == clean.vectors)
    }

    /// `top` counts from the algebraically largest end: with a large negative eigenvalue the
    /// top one is still the positive one.
    @Test func topKeepsTheLargestNotTheLargestInMagnitude() throws {
        var a = Matrix<Double>(rows: 3, columns: 3)
        for (i, v) in [-5.0, 1, 2].enumerated() { a[i, i] = v }
        #expect(try a.symmetricEigen(top: 1).values == [2])
    }

    @Test(arguments: [(6, 1), (6, 3), (6, 5), (6, 6), (6, 10), (1, 1), (30, 4)])
    func topReturnsTheLeadingEigenpairs(n: Int, top: Int) throws {
        let a = randomSymmetric(n, seed: UInt64(62 + n))
        let all = try a.symmetricEigen()
        let leading = try a.symmetricEigen(top: top)
        let k = min(top, n)
        expectEigenpairs(a, leading, count: k)
        // A different LAPACK path (range "I"), so the values agree to rounding, not bitwise.
        expectSmallResidual(zip(leading.values, all.values).map { $0 - $1 }, relativeTo: largest(a) * Double(n),
                            dimension: n, "top values against the full spectrum")
    }

    @Test func topZeroReturnsNothing() throws {
        let e = try randomSymmetric(4, seed: 63).symmetricEigen(top: 0)
        #expect(e.values.isEmpty)
        let v = try #require(e.vectors)
        #expect(v.rows == 4 && v.columns == 0)
    }

    @Test(arguments: [nil, 2] as [Int?])
    func valuesOnlyMatchTheFullDecomposition(top: Int?) throws {
        let a = randomSymmetric(7, seed: 64)
        let withVectors = try a.symmetricEigen(top: top)
        let valuesOnly = try a.symmetricEigen(vectors: false, top: top)
        #expect(valuesOnly.vectors == nil)
        #expect(valuesOnly.values.count == withVectors.values.count)
        expectSmallResidual(zip(valuesOnly.values, withVectors.values).map { $0 - $1 },
                            relativeTo: largest(a) * 7, dimension: 7, "values without vectors")
    }

    @Test(arguments: [true, false])
    func emptyMatrixHasNoEigenpairs(vectors: Bool) throws {
        let e = try Matrix<Double>(rows: 0, columns: 0).symmetricEigen(vectors: vectors)
        #expect(e.values.isEmpty)
        #expect((e.vectors != nil) == vectors)
    }
}

@Suite struct SVDTests {
    private static let shapes: [(Int, Int)] = [(1, 1), (1, 5), (5, 1), (4, 4), (7, 3), (3, 7), (40, 25)]

    @Test(arguments: shapes)
    func factorsReconstructTheMatrix(rows: Int, columns: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows: rows, columns: columns, seed: UInt64(70 + rows * columns))
        let s = try a.svd()
        let k = min(rows, columns)
        let u = try #require(s.u), vt = try #require(s.vt)
        #expect(u.rows == rows && u.columns == k)
        #expect(vt.rows == k && vt.columns == columns)
        #expect(s.singularValues.count == k)
        #expect(s.singularValues == s.singularValues.sorted(by: >))
        #expect(s.singularValues.allSatisfy { $0 >= 0 })
        let back = naiveProduct(naiveProduct(u, diagonal(s.singularValues)), vt)
        let scale = s.singularValues.first ?? 0
        expectSmallResidual((back - a).storage, relativeTo: scale, dimension: max(rows, columns), "U·Σ·Vᵀ − A")
        expectSmallResidual([orthonormalityError(u)], relativeTo: 1, dimension: max(rows, columns), "UᵀU − I")
        expectSmallResidual([orthonormalityError(naiveTranspose(vt))], relativeTo: 1, dimension: max(rows, columns),
                            "VᵀV − I")
    }

    @Test(arguments: shapes)
    func valuesOnlyMatchTheFullDecomposition(rows: Int, columns: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows: rows, columns: columns, seed: UInt64(71 + rows * columns))
        let full = try a.svd()
        let valuesOnly = try a.svd(vectors: false)
        #expect(valuesOnly.u == nil && valuesOnly.vt == nil)
        #expect(valuesOnly.singularValues.count == full.singularValues.count)
        expectSmallResidual(zip(valuesOnly.singularValues, full.singularValues).map { $0 - $1 },
                            relativeTo: full.singularValues.first ?? 0, dimension: max(rows, columns), "σ without vectors")
    }

    /// A single row or column has one singular value, its Euclidean length.
    @Test(arguments: [(1, 6), (6, 1)])
    func vectorSingularValueIsItsLength(rows: Int, columns: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows: rows, columns: columns, seed: 72)
        let length = a.storage.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let s = try a.svd(vectors: false)
        #expect(s.singularValues.count == 1)
        expectSmallResidual([s.singularValues[0] - length], relativeTo: length, dimension: 6, "σ − ‖a‖")
    }

    /// `x·yᵀ` has rank one: σ₁ = ‖x‖‖y‖ and the rest vanish.
    @Test func rankOneMatrixHasOneNonzeroSingularValue() throws {
        let x: Matrix<Double> = randomMatrix(rows: 6, columns: 1, seed: 73)
        let y: Matrix<Double> = randomMatrix(rows: 4, columns: 1, seed: 74)
        let a = naiveProduct(x, y, transposingB: true)
        let norm = { (v: Matrix<Double>) in v.storage.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let expected = norm(x) * norm(y)
        let s = try a.svd()
        expectSmallResidual([s.singularValues[0] - expected], relativeTo: expected, dimension: 6, "σ₁")
        expectSmallResidual(Array(s.singularValues.dropFirst()), relativeTo: expected, dimension: 6, "σ₂…")
    }

    @Test(arguments: [(0, 3), (3, 0), (0, 0)])
    func emptyMatrixHasEmptyFactors(rows: Int, columns: Int) throws {
        let s = try Matrix<Double>(rows: rows, columns: columns).svd()
        #expect(s.singularValues.isEmpty)
        let u = try #require(s.u), vt = try #require(s.vt)
        #expect(u.rows == rows && u.columns == 0)
        #expect(vt.rows == 0 && vt.columns == columns)
        let valuesOnly = try Matrix<Double>(rows: rows, columns: columns).svd(vectors: false)
        #expect(valuesOnly.u == nil && valuesOnly.vt == nil && valuesOnly.singularValues.isEmpty)
    }
}

@Suite struct LinearSolveTests {
    /// Backward stability: `|A·X − B| ≲ n·ε·(|A||X| + |B|)` element by element, whatever the
    /// conditioning of A.
    private func expectSolves(
        _ a: Matrix<Double>, _ x: Matrix<Double>, _ b: Matrix<Double>, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(x.rows == b.rows && x.columns == b.columns, sourceLocation: sourceLocation)
        guard x.rows == b.rows && x.columns == b.columns else { return }
        let magnitude = naiveProduct(a.magnitudes, x.magnitudes) + b.magnitudes
        expectAgreement(naiveProduct(a, x), b, magnitude: magnitude, roundings: 8 * (a.rows + 1), "A·X − B",
                        sourceLocation: sourceLocation)
    }

    @Test(arguments: [1, 2, 5, 20], [1, 3])
    func generalSolveSatisfiesAXEqualsB(n: Int, rightHandSides: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows: n, columns: n, seed: UInt64(80 + n))
        let b: Matrix<Double> = randomMatrix(rows: n, columns: rightHandSides, seed: UInt64(81 + n))
        expectSolves(a, try a.solving(b), b)
    }

    @Test(arguments: [1, 2, 5, 20], [1, 3])
    func positiveDefiniteSolveSatisfiesAXEqualsB(n: Int, rightHandSides: Int) throws {
        let a = randomSPD(n, seed: UInt64(82 + n))
        let b: Matrix<Double> = randomMatrix(rows: n, columns: rightHandSides, seed: UInt64(83 + n))
        expectSolves(a, try a.solvingPositiveDefinite(b), b)
    }

    @Test func positiveDefiniteSolveReadsOnlyTheUpperTriangle() throws {
        let a = randomSPD(5, seed: 84)
        let b: Matrix<Double> = randomMatrix(rows: 5, columns: 2, seed: 85)
        #expect(try withGarbageBelowDiagonal(a).solvingPositiveDefinite(b) == a.solvingPositiveDefinite(b))
    }

    /// No right-hand sides, or an empty system: the answer has the shape of `b`.
    @Test(arguments: [(3, 0), (0, 2), (0, 0)])
    func emptySystemsGiveEmptySolutions(n: Int, rightHandSides: Int) throws {
        let a = n == 0 ? Matrix<Double>(rows: 0, columns: 0) : randomSPD(n, seed: 86)
        let b = Matrix<Double>(rows: n, columns: rightHandSides)
        for x in [try a.solving(b), try a.solvingPositiveDefinite(b)] {
            #expect(x.rows == n && x.columns == rightHandSides)
        }
    }
}

@Suite struct CholeskyTests {
    @Test(arguments: [1, 2, 5, 30])
    func upperFactorSatisfiesUTransposeUEqualsA(n: Int) throws {
        let a = randomSPD(n, seed: UInt64(90 + n))
        let u = try a.choleskyUpper()
        #expect(u.rows == n && u.columns == n)
        for j in 0..<n {
            #expect(u[j, j] > 0)
            for i in (j + 1)..<max(j + 1, n) { #expect(u[i, j] == 0, "strict lower triangle is zeroed") }
        }
        let utu = naiveProduct(u, u, transposingA: true)
        let magnitude = naiveProduct(u.magnitudes, u.magnitudes, transposingA: true)
        expectAgreement(utu, a, magnitude: magnitude, roundings: 8 * (n + 1), "UᵀU − A")
    }

    @Test func oneByOneFactorIsTheSquareRoot() throws {
        #expect(try Matrix<Double>([[6.25]]).choleskyUpper() == Matrix([[2.5]]))
    }

    @Test func onlyTheUpperTriangleIsRead() throws {
        let a = randomSPD(6, seed: 91)
        #expect(try withGarbageBelowDiagonal(a).choleskyUpper() == a.choleskyUpper())
    }

    @Test func emptyMatrixFactorsToEmpty() throws {
        let u = try Matrix<Double>(rows: 0, columns: 0).choleskyUpper()
        #expect(u.rows == 0 && u.columns == 0)
    }
}

@Suite struct OrthonormalQTests {
    @Test(arguments: [(1, 1), (5, 1), (1, 5), (6, 4), (4, 6), (30, 12), (12, 12)])
    func thinQIsOrthonormalAndSpansTheColumns(rows: Int, columns: Int) {
        let a: Matrix<Double> = randomMatrix(rows: rows, columns: columns, seed: UInt64(100 + rows * columns))
        let q = a.orthonormalQ()
        let k = min(rows, columns)
        #expect(q.rows == rows && q.columns == k)
        expectSmallResidual([orthonormalityError(q)], relativeTo: 1, dimension: rows, "QᵀQ − I")
        // R = QᵀA must be upper trapezoidal (column j of A lies in the span of Q's first j + 1
        // columns) and Q·R must give A back (A's columns lie in Q's span).
        let r = naiveProduct(q, a, transposingA: true)
        var belowDiagonal: [Double] = []
        for j in 0..<columns { for i in (j + 1)..<max(j + 1, k) { belowDiagonal.append(r[i, j]) } }
        expectSmallResidual(belowDiagonal, relativeTo: largest(a) * Double(rows), dimension: rows, "R below diagonal")
        expectSmallResidual((naiveProduct(q, r) - a).storage, relativeTo: largest(a) * Double(rows), dimension: rows,
                            "Q·R − A")
    }

    @Test(arguments: [(0, 3), (3, 0), (0, 0)])
    func emptyInputGivesEmptyQ(rows: Int, columns: Int) {
        let q = Matrix<Double>(rows: rows, columns: columns).orthonormalQ()
        #expect(q.rows == rows && q.columns == 0)
    }
}

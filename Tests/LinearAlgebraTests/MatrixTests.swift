import Testing
@testable import LinearAlgebra

@Suite struct MatrixTests {
    let a = Matrix<Double>([[1, 2, 3], [4, 5, 6]])

    @Test func layoutIsColumnMajor() {
        #expect(a.storage == [1, 4, 2, 5, 3, 6])
        #expect(a[1, 2] == 6)
        #expect(a.rowMajorElements == [1, 2, 3, 4, 5, 6])
        #expect(a.transposed().transposed() == a)
    }

    @Test func productsAgreeWithHandComputedValues() {
        let g = a.gram()  // AᵀA
        #expect(g == Matrix([[17, 22, 27], [22, 29, 36], [27, 36, 45]]))
        #expect(a.outerGram() == Matrix([[14, 32], [32, 77]]))
        #expect(a.multiplied(by: a, transposingOther: true) == a.outerGram())
        #expect(a.times([1, 0, -1]) == [-2, -2])
        #expect(a.transposedTimes([1, 1]) == [5, 7, 9])
        #expect(a.frobeniusDot(a) == 91)
        #expect(abs(a.frobeniusNorm - 91.0.squareRoot()) < 1e-14)
    }

    @Test func floatKernelsMatchDouble() {
        let f: Matrix<Float> = a.converted()
        #expect(f.gram().converted(to: Double.self) == a.gram())
    }

    @Test func centringAndDoubleCentring() {
        let c = a.centeringColumns()
        #expect(c.columnMeans.allSatisfy { abs($0) < 1e-15 })
        var k = a.outerGram()
        k.doubleCenter()
        #expect(abs(k.rowSums[0]) < 1e-12 && abs(k.rowSums[1]) < 1e-12)
    }

    @Test func symmetricEigenRecoversMatrix() throws {
        let m = Matrix<Double>([[4, 1, 0], [1, 3, 1], [0, 1, 2]])
        let e = try m.symmetricEigen()
        #expect(e.values == e.values.sorted(by: >))
        let v = try #require(e.vectors)
        var d = Matrix<Double>(rows: 3, columns: 3)
        for i in 0..<3 { d[i, i] = e.values[i] }
        let back = v * d * v.transposed()
        for i in 0..<9 { #expect(abs(back.storage[i] - m.storage[i]) < 1e-12) }
        let top = try m.symmetricEigen(top: 1)
        #expect(top.values.count == 1 && abs(top.values[0] - e.values[0]) < 1e-12)
    }

    @Test func svdReconstructs() throws {
        let s = try a.svd()
        let u = try #require(s.u), vt = try #require(s.vt)
        var d = Matrix<Double>(rows: 2, columns: 2)
        for i in 0..<2 { d[i, i] = s.singularValues[i] }
        let back = u * d * vt
        for i in 0..<6 { #expect(abs(back.storage[i] - a.storage[i]) < 1e-12) }
    }

    @Test func solversAndFactorisations() throws {
        let spd = Matrix<Double>([[4, 2], [2, 3]])
        let b = Matrix<Double>([[2], [1]])
        let x = try spd.solvingPositiveDefinite(b)
        let y = try spd.solving(b)
        #expect(abs(x[0, 0] - 0.5) < 1e-14 && abs(x[1, 0]) < 1e-14)
        #expect(abs(y[0, 0] - 0.5) < 1e-14 && abs(y[1, 0]) < 1e-14)
        let u = try spd.choleskyUpper()
        #expect(u[1, 0] == 0)
        let back = u.transposed() * u
        for i in 0..<4 { #expect(abs(back.storage[i] - spd.storage[i]) < 1e-14) }
        let q = a.transposed().orthonormalQ()
        let qtq = q.gram()
        #expect(abs(qtq[0, 0] - 1) < 1e-14 && abs(qtq[0, 1]) < 1e-14)
    }

    @Test func lapackFailuresAreTypedErrors() {
        let indefinite = Matrix<Double>([[1, 2], [2, 1]])
        #expect(throws: LinearAlgebraError.notPositiveDefinite(routine: "dposv", minor: 2)) {
            try indefinite.solvingPositiveDefinite(Matrix([[1], [1]]))
        }
        let singular = Matrix<Double>([[1, 2], [2, 4]])
        #expect(throws: LinearAlgebraError.self) { try singular.solving(Matrix([[1], [1]])) }
    }
}

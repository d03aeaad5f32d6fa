import Testing
import LinearAlgebra

// Construction, indexing and copying in Matrix.swift, against index arithmetic written out
// in the test. Shapes past 32 cross the tiles of the blocked transpose.

private let shapes: [(Int, Int)] = [(1, 1), (1, 5), (5, 1), (3, 4), (33, 70), (70, 33), (0, 3), (3, 0), (0, 0)]

@Suite struct MatrixLayoutTests {
    @Test(arguments: scalarTypes, shapes)
    func rowMajorInitialiserAndElementsRoundTrip(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkRowMajor(type, rows: shape.0, columns: shape.1)
    }

    private func checkRowMajor<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let elements: [S] = randomVector(count: rows * columns, seed: 31)
        let a = Matrix(rows: rows, columns: columns, rowMajor: elements)
        #expect(a.rows == rows && a.columns == columns)
        for i in 0..<rows {
            for j in 0..<columns { #expect(a.storage[i + j * rows] == elements[i * columns + j]) }
        }
        #expect(a.rowMajorElements == elements)
        let rowArrays = (0..<rows).map { Array(elements[($0 * columns)..<(($0 + 1) * columns)]) }
        if rows > 0 { #expect(Matrix(rowArrays) == a) }
    }

    @Test func arrayOfRowsHandlesEmptyInputs() {
        let none = Matrix<Double>([])
        #expect(none.rows == 0 && none.columns == 0)
        let emptyRow = Matrix<Double>([[]])
        #expect(emptyRow.rows == 1 && emptyRow.columns == 0)
    }

    @Test(arguments: scalarTypes, shapes)
    func transposedSwapsIndices(type: any BLASScalar.Type, shape: (Int, Int)) {
        checkTransposed(type, rows: shape.0, columns: shape.1)
    }

    private func checkTransposed<S: BLASScalar>(_ type: S.Type, rows: Int, columns: Int) {
        let a: Matrix<S> = randomMatrix(rows: rows, columns: columns, seed: 32)
        let t = a.transposed()
        #expect(t.rows == columns && t.columns == rows)
        for i in 0..<rows {
            for j in 0..<columns { #expect(t.storage[j + i * columns] == a.storage[i + j * rows]) }
        }
    }

    @Test(arguments: scalarTypes)
    func repeatingColumnMajorAndSubscript(type: any BLASScalar.Type) {
        checkStorageInitialisers(type)
    }

    private func checkStorageInitialisers<S: BLASScalar>(_ type: S.Type) {
        let filled = Matrix<S>(rows: 2, columns: 3, repeating: 7)
        #expect(filled.storage == [S](repeating: 7, count: 6))
        #expect(Matrix<S>(rows: 2, columns: 3).storage.allSatisfy { $0 == 0 })
        var a = Matrix<S>(rows: 2, columns: 3, columnMajor: [1, 2, 3, 4, 5, 6])
        #expect(a[1, 0] == 2 && a[0, 1] == 3 && a[1, 2] == 6)
        a[0, 2] = -9
        #expect(a.storage == [1, 2, 3, 4, -9, 6])
    }

    @Test(arguments: scalarTypes, [0, 1, 4])
    func identityHasOnesOnTheDiagonalOnly(type: any BLASScalar.Type, n: Int) {
        checkIdentity(type, n: n)
    }

    private func checkIdentity<S: BLASScalar>(_ type: S.Type, n: Int) {
        let id = Matrix<S>.identity(n)
        #expect(id.rows == n && id.columns == n)
        for i in 0..<n { for j in 0..<n { #expect(id[i, j] == (i == j ? 1 : 0)) } }
    }

    @Test(arguments: scalarTypes)
    func rowAndColumnAccessors(type: any BLASScalar.Type) {
        checkRowAndColumn(type)
    }

    private func checkRowAndColumn<S: BLASScalar>(_ type: S.Type) {
        let a: Matrix<S> = randomMatrix(rows: 4, columns: 3, seed: 33)
        for j in 0..<3 { #expect(a.column(j) == (0..<4).map { a[$0, j] }) }
        for i in 0..<4 { #expect(a.row(i) == (0..<3).map { a[i, $0] }) }
        #expect(Matrix<S>(rows: 0, columns: 2).column(1) == [])
        #expect(Matrix<S>(rows: 2, columns: 0).row(1) == [])
    }

    @Test(arguments: scalarTypes)
    func selectingRowsAllowsRepeatsAndReordering(type: any BLASScalar.Type) {
        checkSelectingRows(type)
    }

    private func checkSelectingRows<S: BLASScalar>(_ type: S.Type) {
        let a: Matrix<S> = randomMatrix(rows: 5, columns: 3, seed: 34)
        // A bootstrap resample: repeats, a different order, and a row left out.
        let indices = [4, 0, 0, 2, 4, 1]
        let picked = a.selectingRows(indices)
        #expect(picked.rows == indices.count && picked.columns == 3)
        for (k, i) in indices.enumerated() { #expect(picked.row(k) == a.row(i)) }
        #expect(a.selectingRows([]).rows == 0)
    }

    @Test(arguments: scalarTypes)
    func selectingAndLeadingColumns(type: any BLASScalar.Type) {
        checkSelectingColumns(type)
    }

    private func checkSelectingColumns<S: BLASScalar>(_ type: S.Type) {
        let a: Matrix<S> = randomMatrix(rows: 3, columns: 5, seed: 35)
        let indices = [3, 3, 0]
        let picked = a.selectingColumns(indices)
        #expect(picked.rows == 3 && picked.columns == 3)
        for (k, j) in indices.enumerated() { #expect(picked.column(k) == a.column(j)) }
        for count in [0, 2, 5] {
            let leading = a.leadingColumns(count)
            #expect(leading.rows == 3 && leading.columns == count)
            for j in 0..<count { #expect(leading.column(j) == a.column(j)) }
        }
    }

    @Test func convertedRoundsToNearestAndWidensExactly() {
        let d: Matrix<Double> = randomMatrix(rows: 6, columns: 7, seed: 36)
        let f: Matrix<Float> = d.converted()
        #expect(f.rows == 6 && f.columns == 7)
        for i in d.storage.indices { #expect(f.storage[i] == Float(d.storage[i])) }
        // Every Float is a Double, so widening and narrowing again is the identity.
        #expect(f.converted(to: Double.self).converted(to: Float.self) == f)
        #expect(f.converted(to: Double.self).storage == f.storage.map { Double($0) })
    }

    @Test func descriptionNamesTypeAndShape() {
        let a = Matrix<Float>(rows: 10, columns: 2, repeating: 1)
        let lines = a.description.split(separator: "\n")
        #expect(lines.first == "Matrix<Float> 10×2")
        // Large matrices are cut to their leading 8×8 block.
        #expect(lines.count == 9)
    }
}

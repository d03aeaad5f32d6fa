/// A dense matrix stored in column-major order.
///
/// Column-major is LAPACK's native layout, so no routine in this module transposes behind
/// the caller's back: element `(i, j)` lives at `storage[i + j * rows]`. Data that arrives
/// row-major (NumPy's default, and the usual *samples × features* activation dump) is
/// converted once by ``init(rows:columns:rowMajor:)``.
///
/// Analysis code treats a matrix as *samples × features*: one row per input, one column
/// per unit.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
    /// Number of rows (samples, for activations).
    public let rows: Int
    /// Number of columns (features, for activations).
    public let columns: Int
    /// Elements in column-major order; `storage.count == rows * columns`.
    public var storage: [Scalar]

    /// A matrix whose elements are all `value`.
    @inlinable
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "negative matrix dimension")
        self.rows = rows
        self.columns = columns
        self.storage = [Scalar](repeating: value, count: rows * columns)
    }

    /// A matrix over existing column-major storage.
    @inlinable
    public init(rows: Int, columns: Int, columnMajor storage: [Scalar]) {
        precondition(storage.count == rows * columns, "storage has \(storage.count) elements, expected \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from row-major (C order) elements, as NumPy and most activation dumps store them.
    @inlinable
    public init(rows: Int, columns: Int, rowMajor elements: [Scalar]) {
        precondition(elements.count == rows * columns, "got \(elements.count) elements, expected \(rows)×\(columns)")
        self.init(rows: rows, columns: columns)
        Self.transposeBlocked(elements, rows: columns, columns: rows, into: &storage)
    }

    /// A matrix from an array of rows.
    @inlinable
    public init(_ rowArrays: [[Scalar]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "ragged rows")
        self.init(rows: rowArrays.count, columns: columns, rowMajor: rowArrays.flatMap { $0 })
    }

    /// The `n × n` identity.
    @inlinable
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0..<n { m.storage[i + i * n] = 1 }
        return m
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { storage[row + column * rows] }
        set { storage[row + column * rows] = newValue }
    }

    /// The elements in row-major (C) order.
    @inlinable
    public var rowMajorElements: [Scalar] {
        transposed().storage
    }

    /// The transpose, as a new matrix.
    @inlinable
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        Self.transposeBlocked(storage, rows: rows, columns: columns, into: &result.storage)
        return result
    }

    /// Column `j` as an array.
    @inlinable
    public func column(_ j: Int) -> [Scalar] {
        Array(storage[(j * rows)..<((j + 1) * rows)])
    }

    /// Row `i` as an array.
    @inlinable
    public func row(_ i: Int) -> [Scalar] {
        (0..<columns).map { storage[i + $0 * rows] }
    }

    /// The rows at `indices`, in that order (indices may repeat, as in a bootstrap resample).
    @inlinable
    public func selectingRows(_ indices: [Int]) -> Matrix {
        var result = Matrix(rows: indices.count, columns: columns)
        for j in 0..<columns {
            let source = j * rows
            let target = j * indices.count
            for (k, i) in indices.enumerated() {
                result.storage[target + k] = storage[source + i]
            }
        }
        return result
    }

    /// The columns at `indices`, in that order.
    @inlinable
    public func selectingColumns(_ indices: [Int]) -> Matrix {
        var elements = [Scalar]()
        elements.reserveCapacity(rows * indices.count)
        for j in indices { elements.append(contentsOf: storage[(j * rows)..<((j + 1) * rows)]) }
        return Matrix(rows: rows, columns: indices.count, columnMajor: elements)
    }

    /// The first `count` columns.
    @inlinable
    public func leadingColumns(_ count: Int) -> Matrix {
        Matrix(rows: rows, columns: count, columnMajor: Array(storage[0..<(rows * count)]))
    }

    /// The element-wise conversion to another scalar type.
    @inlinable
    public func converted<T: BLASScalar>(to type: T.Type = T.self) -> Matrix<T> {
        var result = Matrix<T>(rows: rows, columns: columns)
        Self.convertKernel(storage, into: &result.storage, count: storage.count)
        return result
    }

    /// Cache-blocked out-of-place transpose of a column-major `rows × columns` block.
    ///
    /// Callers pass arrays through the array-to-pointer argument conversion rather than a
    /// `withUnsafeBufferPointer` closure, so that the loop is specialised with the caller
    /// (see `ElementKernels.swift`).
    @inlinable
    static func transposeBlocked(
        _ source: UnsafePointer<Scalar>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Scalar>
    ) {
        let block = 32
        var j0 = 0
        while j0 < columns {
            let j1 = Swift.min(j0 + block, columns)
            var i0 = 0
            while i0 < rows {
                let i1 = Swift.min(i0 + block, rows)
                for j in j0..<j1 {
                    for i in i0..<i1 {
                        target[j + i * columns] = source[i + j * rows]
                    }
                }
                i0 = i1
            }
            j0 = j1
        }
    }
}

extension Matrix: CustomStringConvertible {
    @inlinable
    public var description: String {
        var lines = ["Matrix<\(Scalar.self)> \(rows)×\(columns)"]
        for i in 0..<Swift.min(rows, 8) {
            lines.append((0..<Swift.min(columns, 8)).map { "\(self[i, $0])" }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}

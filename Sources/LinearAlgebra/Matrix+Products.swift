// Products and reductions on `Matrix`, all through BLAS.

extension Matrix {
    /// `op(self) · op(other)`, where `op` transposes when asked. The BLAS routine is `?gemm`.
    @inlinable
    public func multiplied(
        by other: Matrix, transposingSelf: Bool = false, transposingOther: Bool = false, scale: Scalar = 1
    ) -> Matrix {
        let m = transposingSelf ? columns : rows
        let k = transposingSelf ? rows : columns
        let k2 = transposingOther ? other.columns : other.rows
        let n = transposingOther ? other.rows : other.columns
        precondition(k == k2, "inner dimensions differ: \(k) and \(k2)")
        var result = Matrix(rows: m, columns: n)
        if m == 0 || n == 0 { return result }
        if k == 0 { return result }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                result.storage.withUnsafeMutableBufferPointer { c in
                    Scalar._gemm(
                        transA: transposingSelf, transB: transposingOther, m: m, n: n, k: k, alpha: scale,
                        a: a.baseAddress!, lda: Swift.max(1, rows), b: b.baseAddress!, ldb: Swift.max(1, other.rows),
                        beta: 0, c: c.baseAddress!, ldc: Swift.max(1, m))
                }
            }
        }
        return result
    }

    /// `selfᵀ · other`: with samples in rows, the cross-product of two feature sets.
    @inlinable
    public func transposedTimes(_ other: Matrix) -> Matrix {
        multiplied(by: other, transposingSelf: true)
    }

    /// `selfᵀ · self` (columns × columns), both triangles filled. The BLAS routine is `?syrk`.
    @inlinable
    public func gram(scale: Scalar = 1) -> Matrix { symmetricProduct(transposing: true, scale: scale) }

    /// `self · selfᵀ` (rows × rows), both triangles filled: the linear-kernel Gram matrix
    /// of the samples. The BLAS routine is `?syrk`.
    @inlinable
    public func outerGram(scale: Scalar = 1) -> Matrix { symmetricProduct(transposing: false, scale: scale) }

    @usableFromInline func symmetricProduct(transposing: Bool, scale: Scalar) -> Matrix {
        let n = transposing ? columns : rows
        let k = transposing ? rows : columns
        var result = Matrix(rows: n, columns: n)
        if n == 0 || k == 0 { return result }
        storage.withUnsafeBufferPointer { a in
            result.storage.withUnsafeMutableBufferPointer { c in
                Scalar._syrk(trans: transposing, n: n, k: k, alpha: scale, a: a.baseAddress!,
                             lda: Swift.max(1, rows), beta: 0, c: c.baseAddress!, ldc: n)
            }
        }
        result.symmetrizeFromUpper()
        return result
    }

    /// `(X − 1μᵀ)ᵀ(X − 1μᵀ) · scale` for this samples × features `X` and `μ = means` (columns
    /// × columns, both triangles filled): ``gram(scale:)`` of the centred columns without a
    /// centred copy of the matrix. Blocks of ``centredGramRows`` rows are centred into a
    /// small buffer and each is added with one `?syrk`.
    @inlinable
    public func centredGram(means: [Scalar], scale: Scalar = 1) -> Matrix {
        precondition(means.count == columns, "got \(means.count) means for \(columns) columns")
        let d = columns, n = rows
        var result = Matrix(rows: d, columns: d)
        if d == 0 || n == 0 { return result }
        let block = Swift.min(n, Self.centredGramRows)
        var buffer = [Scalar](repeating: 0, count: block * d)
        var start = 0
        while start < n {
            let count = Swift.min(block, n - start)
            Self.centredRowsKernel(storage, rows: n, start: start, count: count, means: means, into: &buffer)
            Self.addSymmetricProduct(of: buffer, rows: count, columns: d, scale: scale, into: &result.storage, first: start == 0)
            start += count
        }
        result.symmetrizeFromUpper()
        return result
    }

    /// Rows per block of ``centredGram(means:scale:)``: 2 MB of doubles at 1 024 features,
    /// and the depth that OpenBLAS's `dsyrk` works in anyway.
    @inlinable static var centredGramRows: Int { 256 }

    /// `c += scale · aᵀa` (upper triangle) for the column-major `rows × columns` `a`, or
    /// `c = …` when `first`.
    @usableFromInline static func addSymmetricProduct(of a: UnsafePointer<Scalar>, rows: Int, columns: Int, scale: Scalar,
                                                      into c: UnsafeMutablePointer<Scalar>, first: Bool) {
        Scalar._syrk(trans: true, n: columns, k: rows, alpha: scale, a: a, lda: Swift.max(1, rows),
                     beta: first ? 0 : 1, c: c, ldc: columns)
    }

    /// Copies the upper triangle into the lower one.
    @inlinable
    public mutating func symmetrizeFromUpper() {
        precondition(rows == columns, "not square")
        let n = rows
        Self.symmetrizeFromUpperKernel(&storage, n: n)
    }

    /// `self · x` for a vector `x` of length `columns`. The BLAS routine is `?gemv`.
    @inlinable
    public func times(_ x: [Scalar]) -> [Scalar] {
        precondition(x.count == columns, "vector has \(x.count) elements, expected \(columns)")
        var y = [Scalar](repeating: 0, count: rows)
        if rows == 0 || columns == 0 { return y }
        storage.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Scalar._gemv(trans: false, m: rows, n: columns, alpha: 1, a: a.baseAddress!, lda: rows,
                                 x: xp.baseAddress!, beta: 0, y: yp.baseAddress!)
                }
            }
        }
        return y
    }

    /// `selfᵀ · x` for a vector `x` of length `rows`. The BLAS routine is `?gemv`.
    @inlinable
    public func transposedTimes(_ x: [Scalar]) -> [Scalar] {
        precondition(x.count == rows, "vector has \(x.count) elements, expected \(rows)")
        var y = [Scalar](repeating: 0, count: columns)
        if rows == 0 || columns == 0 { return y }
        storage.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    Scalar._gemv(trans: true, m: rows, n: columns, alpha: 1, a: a.baseAddress!, lda: rows,
                                 x: xp.baseAddress!, beta: 0, y: yp.baseAddress!)
                }
            }
        }
        return y
    }

    /// The Frobenius inner product `Σᵢⱼ selfᵢⱼ otherᵢⱼ`. The BLAS routine is `?dot`.
    @inlinable
    public func frobeniusDot(_ other: Matrix) -> Scalar {
        precondition(rows == other.rows && columns == other.columns, "shapes differ")
        if storage.isEmpty { return 0 }
        return storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                Scalar._dot(n: storage.count, x: a.baseAddress!, y: b.baseAddress!)
            }
        }
    }

    /// `‖self‖_F`, scaled to avoid overflow and underflow.
    @inlinable
    public var frobeniusNorm: Scalar {
        Self.euclideanNormKernel(storage, count: storage.count)
    }

    /// The sum of the diagonal.
    @inlinable
    public var trace: Scalar {
        var sum: Scalar = 0
        for i in 0..<Swift.min(rows, columns) { sum += self[i, i] }
        return sum
    }

    /// Column means (length `columns`), accumulated in `Double`.
    @inlinable
    public var columnMeans: [Scalar] {
        Self.columnMeansKernel(storage, rows: rows, columns: columns)
    }

    /// Row sums (length `rows`).
    @inlinable
    public var rowSums: [Scalar] {
        var sums = [Scalar](repeating: 0, count: rows)
        for j in 0..<columns {
            let base = j * rows
            for i in 0..<rows { sums[i] += storage[base + i] }
        }
        return sums
    }

    /// The matrix with each column's mean subtracted (samples × features centring).
    @inlinable
    public func centeringColumns() -> Matrix {
        var result = self
        result.centerColumns()
        return result
    }

    /// Subtracts each column's mean from that column, in place, and returns the means.
    @inlinable
    @discardableResult
    public mutating func centerColumns() -> [Scalar] {
        let means = columnMeans
        Self.subtractColumnMeansKernel(&storage, rows: rows, means: means)
        return means
    }

    /// Subtracts `means[j]` from column `j`, in place (centring new samples with the means
    /// of a training set).
    @inlinable
    public mutating func subtractColumnMeans(_ means: [Scalar]) {
        precondition(means.count == columns, "got \(means.count) means for \(columns) columns")
        Self.subtractColumnMeansKernel(&storage, rows: rows, means: means)
    }

    /// Double-centres a square matrix in place: `H M H` with `H = I − 11ᵀ/n`.
    @inlinable
    public mutating func doubleCenter() {
        precondition(rows == columns, "not square")
        let n = rows
        guard n > 0 else { return }
        let colMeans = columnMeans.map(Double.init)
        var rowMeans = [Double](repeating: 0, count: n)
        for j in 0..<n { for i in 0..<n { rowMeans[i] += Double(storage[i + j * n]) } }
        for i in 0..<n { rowMeans[i] /= Double(n) }
        let grand = rowMeans.reduce(0, +) / Double(n)
        storage.withUnsafeMutableBufferPointer { p in
            for j in 0..<n {
                for i in 0..<n { p[i + j * n] = Scalar(Double(p[i + j * n]) - rowMeans[i] - colMeans[j] + grand) }
            }
        }
    }

    /// Multiplies every element by `factor`.
    @inlinable
    public mutating func scale(by factor: Scalar) {
        Self.scaleKernel(&storage, count: storage.count, by: factor)
    }

    /// Element-wise sum.
    @inlinable
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "shapes differ")
        var result = lhs
        for i in result.storage.indices { result.storage[i] += rhs.storage[i] }
        return result
    }

    /// Element-wise difference.
    @inlinable
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns, "shapes differ")
        var result = lhs
        for i in result.storage.indices { result.storage[i] -= rhs.storage[i] }
        return result
    }

    /// Matrix product.
    @inlinable
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.multiplied(by: rhs) }
}

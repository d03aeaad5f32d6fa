// Factorisations of `Matrix<Double>`, each resting on one LAPACK routine.

/// An eigen-decomposition `A = V diag(λ) Vᵀ` of a symmetric matrix.
public struct SymmetricEigenDecomposition: Sendable {
    /// Eigenvalues in descending order.
    public var values: [Double]
    /// Eigenvectors as columns, in the order of `values` (`nil` if not requested).
    public var vectors: Matrix<Double>?
}

/// A thin singular value decomposition `A = U diag(σ) Vᵀ`.
public struct SingularValueDecomposition: Sendable {
    /// Left singular vectors, `m × k` with `k = min(m, n)` (`nil` if not requested).
    public var u: Matrix<Double>?
    /// Singular values in descending order.
    public var singularValues: [Double]
    /// Right singular vectors transposed, `k × n` (`nil` if not requested).
    public var vt: Matrix<Double>?
}

extension Matrix where Scalar == Double {
    /// The largest order whose complete eigen-decomposition takes divide and conquer, whose
    /// workspace of `2n²` doubles is 256 MB here. On Debian's OpenBLAS 0.3.21 (two threads)
    /// `dsyevd` took 0.17 s at order 1024 and 0.91 s at 2048 where `dsyevr` took 0.22 s and
    /// 1.21 s; beyond this order the memory weighs more than the time.
    static var divideAndConquerOrder: Int { 4096 }

    /// Eigenvalues (descending) and optionally eigenvectors of this symmetric matrix; only
    /// the upper triangle is read. `top` keeps the largest `top` eigenpairs.
    ///
    /// Every eigenpair of an order up to ``divideAndConquerOrder`` takes `dsyevd`'s divide and
    /// conquer: the LAPACK routines `dsytrd` and `dstedc`, then the reduction's reflectors
    /// applied in blocks by matrix products. Otherwise the LAPACK routine is `dsyevr`
    /// (relatively robust representations).
    public func symmetricEigen(vectors: Bool = true, top: Int? = nil) throws -> SymmetricEigenDecomposition {
        try symmetricEigen(vectors: vectors, top: top, divideAndConquerUpTo: Self.divideAndConquerOrder)
    }

    /// ``symmetricEigen(vectors:top:)`` with divide and conquer up to order `largest`, so
    /// that tests reach both paths.
    func symmetricEigen(vectors: Bool, top: Int?, divideAndConquerUpTo largest: Int) throws -> SymmetricEigenDecomposition {
        precondition(rows == columns, "symmetricEigen needs a square matrix")
        let n = rows
        let k = Swift.min(top ?? n, n)
        var a = self
        let range: ClosedRange<Int>? = (top == nil || k == n || k == 0) ? nil : (n - k + 1)...n
        let ascending: [Double], z: Matrix<Double>?
        if vectors && range == nil && n <= largest {
            ascending = try LAPACK.syevd(&a)
            z = a  // the eigenvectors, in place of the matrix
        } else {
            (ascending, z) = try LAPACK.syevr(&a, vectors: vectors, indices: range)
        }
        let keep = range == nil ? Swift.min(k, ascending.count) : ascending.count
        let order = Array((0..<ascending.count).reversed().prefix(keep))
        return SymmetricEigenDecomposition(
            values: order.map { ascending[$0] },
            vectors: z.map { $0.selectingColumns(order) })
    }

    /// Thin singular value decomposition.
    ///
    /// The corresponding LAPACK routine is `dgesdd` (divide and conquer).
    public func svd(vectors: Bool = true) throws -> SingularValueDecomposition {
        var a = self
        let (u, s, vt) = try LAPACK.gesdd(&a, vectors: vectors)
        return SingularValueDecomposition(u: u, singularValues: s, vt: vt)
    }

    /// Solves `self · X = b` for symmetric positive definite `self`.
    ///
    /// The corresponding LAPACK routine is `dposv` (Cholesky).
    public func solvingPositiveDefinite(_ b: Matrix) throws -> Matrix {
        precondition(rows == columns && b.rows == rows, "shapes do not fit")
        var a = self
        var x = b
        try LAPACK.posv(&a, &x)
        return x
    }

    /// The upper-triangular Cholesky factor `U` with `self = UᵀU`.
    ///
    /// The corresponding LAPACK routine is `dpotrf`.
    public func choleskyUpper() throws -> Matrix {
        precondition(rows == columns, "not square")
        var a = self
        try LAPACK.potrf(&a)
        return a
    }

    /// Solves `self · X = b` for a general square matrix.
    ///
    /// The corresponding LAPACK routine is `dgesv` (LU with partial pivoting).
    public func solving(_ b: Matrix) throws -> Matrix {
        precondition(rows == columns && b.rows == rows, "shapes do not fit")
        var a = self
        var x = b
        try LAPACK.gesv(&a, &x)
        return x
    }

    /// The thin orthonormal factor `Q` of `self = QR` (`rows × min(rows, columns)`).
    ///
    /// The corresponding LAPACK routines are `dgeqrf` and `dorgqr`.
    public func orthonormalQ() -> Matrix {
        LAPACK.thinQ(self)
    }
}

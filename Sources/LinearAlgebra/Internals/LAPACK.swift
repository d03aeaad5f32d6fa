import CLAPACK

// `lapack_int` is a C macro (int32_t in Debian's LP64 build), which Swift does not import.
typealias lapack_int = Int32

// The LAPACK half of the C boundary: every LAPACKE call in repprobe is in this file.
// Matrices are column-major, so the column-major entry points are used and nothing is
// copied. LAPACKE reports a bad argument as -k, one past LAPACK's own numbering because of
// the layout argument; either way that is a bug here, so it is a precondition failure.

@inline(__always) private func lapackInt(_ value: Int) -> lapack_int {
    precondition(value <= Int(lapack_int.max), "dimension \(value) exceeds the LAPACK integer size")
    return lapack_int(value)
}

private func checkArguments(_ info: lapack_int, _ routine: String) {
    precondition(info >= 0, "\(routine): illegal value in argument \(-info) (LAPACKE numbering)")
}

enum LAPACK {
    /// SVDs whose smaller side, and symmetric eigen-decompositions whose order, is at most
    /// this run OpenBLAS on one thread
    /// (``BLASThreads/one(if:_:)``): measured when the compare demo's ridge probes still took
    /// SVDs of 288 × d training folds, it ran in 33–39 s of wall and 10–12 s of system time
    /// with them on two threads, 29–31 s and 1.6–2.8 s on one. The eigen-decompositions of
    /// the 288 × 288 Gram matrices that replaced those SVDs took the demo from 12.2 s (4.3 s
    /// of system time) to 8.6–8.9 s (1.4 s) on one thread.
    static let singleThreadedSide = 512

    /// Eigenvalues (ascending) and optionally eigenvectors of the symmetric matrix whose
    /// upper triangle is in `a`; `indices` selects a 1-based range of eigenvalues.
    static func syevr(
        _ a: inout Matrix<Double>, vectors: Bool, indices: ClosedRange<Int>?
    ) throws -> (values: [Double], vectors: Matrix<Double>?) {
        let n = a.rows
        precondition(a.columns == n, "dsyevr needs a square matrix")
        if n == 0 { return ([], vectors ? Matrix(rows: 0, columns: 0) : nil) }
        let count = indices.map { $0.count } ?? n
        var found: lapack_int = 0
        var values = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: vectors ? n * count : 1)
        var support = [lapack_int](repeating: 0, count: 2 * max(1, n))
        let info = BLASThreads.one(if: n <= singleThreadedSide) { a.storage.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dsyevr(
                LAPACK_COL_MAJOR, vectors ? 86 /* V */ : 78 /* N */, indices == nil ? 65 /* A */ : 73 /* I */,
                85 /* U */, lapackInt(n), ap.baseAddress, /*lda*/ lapackInt(n), /*vl*/ 0, /*vu*/ 0,
                /*il*/ lapackInt(indices?.lowerBound ?? 1), /*iu*/ lapackInt(indices?.upperBound ?? n),
                /*abstol*/ 0, &found, &values, &z, /*ldz*/ lapackInt(n), &support)
        } }
        checkArguments(info, "dsyevr")
        if info > 0 { throw LinearAlgebraError.didNotConverge(routine: "dsyevr", info: Int(info)) }
        let m = Int(found)
        return (Array(values.prefix(m)), vectors ? Matrix(rows: n, columns: m, columnMajor: Array(z.prefix(n * m))) : nil)
    }

    /// Every eigenvalue (ascending) and eigenvector of the symmetric matrix whose upper
    /// triangle is in `a`, by divide and conquer; `a` is overwritten by the eigenvectors
    /// (columns). Its workspace is about `2n²` doubles, against `dsyevr`'s `O(n)` beside `n²`
    /// for the vectors.
    ///
    /// These are `dsyevd`'s steps: `dsytrd` to tridiagonal form, `dstedc` for the tridiagonal
    /// matrix's eigenvectors, and the reflectors of the reduction applied to those, which
    /// ``applyReduction(_:tau:to:)`` does in place of `dormtr`. `dsyevd` also scales a
    /// matrix whose largest element is beyond `10^±146` first; the reflectors (`dlarfg`
    /// rescales) and `dstedc` (which scales the tridiagonal matrix) need no such step, and
    /// the tests check matrices down to `10^−300` and up to `10^307`.
    static func syevd(_ a: inout Matrix<Double>) throws -> [Double] {
        let n = a.rows
        precondition(a.columns == n, "dsyevd needs a square matrix")
        if n == 0 { return [] }
        var values = [Double](repeating: 0, count: n)
        var offDiagonal = [Double](repeating: 0, count: n)
        var tau = [Double](repeating: 0, count: n)
        var z = Matrix<Double>(rows: n, columns: n)
        try BLASThreads.one(if: n <= singleThreadedSide) {
            let reduced = a.storage.withUnsafeMutableBufferPointer { ap in
                LAPACKE_dsytrd(LAPACK_COL_MAJOR, 85 /* U */, lapackInt(n), ap.baseAddress, /*lda*/ lapackInt(n),
                               &values, &offDiagonal, &tau)
            }
            checkArguments(reduced, "dsytrd")
            let solved = z.storage.withUnsafeMutableBufferPointer { zp in
                LAPACKE_dstedc(LAPACK_COL_MAJOR, 73 /* I */, lapackInt(n), &values, &offDiagonal, zp.baseAddress,
                               /*ldz*/ lapackInt(n))
            }
            checkArguments(solved, "dstedc")
            if solved > 0 { throw LinearAlgebraError.didNotConverge(routine: "dstedc", info: Int(solved)) }
            applyReduction(a, tau: tau, to: &z)
        }
        a = z
        return values
    }

    /// Reflectors that ``applyReduction(_:tau:to:)`` applies at once.
    static let reductionBlock = 64

    /// `z ← Q·z` for the orthogonal `Q = H(n−1)⋯H(1)` that `dsytrd` (upper) leaves in the
    /// strict upper triangle of `a` and in `tau`: `H(i) = I − τᵢvvᵀ` with `v` zero below row
    /// `i`, one at row `i` and `a[0..<i−1, i]` above, rows counted from 1.
    ///
    /// It is `dormtr`'s product, taken ``reductionBlock`` reflectors at a time: the block's
    /// vectors are written out as a dense matrix `V` (its ones and zeros included), `dlarft`
    /// gives the lower-triangular `T` with `H(i+b−1)⋯H(i) = I − VTVᵀ`, and
    /// `z ← z − V·(T·(Vᵀz))` is two matrix products and a triangular one. `dormtr`'s `dlarfb`
    /// takes blocks of 32 and copies rows of `z` across its columns; at order 1024 it was the
    /// slowest step of `dsyevd` (56 of 121 ms on two threads, 31 ms here).
    static func applyReduction(_ a: Matrix<Double>, tau: [Double], to z: inout Matrix<Double>) {
        let n = a.rows, count = n - 1
        guard count > 0 else { return }
        let block = Swift.min(reductionBlock, count)
        var v = [Double](repeating: 0, count: count * block)
        var t = [Double](repeating: 0, count: block * block)
        var w = [Double](repeating: 0, count: block * n)
        a.storage.withUnsafeBufferPointer { ap in
            z.storage.withUnsafeMutableBufferPointer { zp in
                v.withUnsafeMutableBufferPointer { vp in tau.withUnsafeBufferPointer { tp in
                    var first = 0
                    while first < count {
                        // Reflectors first + 1 … first + b (from 1) act on rows 0..<first + b.
                        let b = Swift.min(block, count - first), rows = first + b
                        for j in 0..<b {
                            let top = first + j, column = vp.baseAddress! + j * rows
                            column.update(from: ap.baseAddress! + (top + 1) * n, count: top)
                            column[top] = 1
                            (column + top + 1).update(repeating: 0, count: rows - top - 1)
                        }
                        let formed = LAPACKE_dlarft_work(
                            LAPACK_COL_MAJOR, 66 /* B */, 67 /* C */, lapackInt(rows), lapackInt(b), vp.baseAddress,
                            /*ldv*/ lapackInt(rows), tp.baseAddress! + first, &t, /*ldt*/ lapackInt(b))
                        checkArguments(formed, "dlarft")
                        Double._gemm(transA: true, transB: false, m: b, n: n, k: rows, alpha: 1, a: vp.baseAddress!, lda: rows,
                                     b: zp.baseAddress!, ldb: n, beta: 0, c: &w, ldc: b)
                        Double._lowerTriangularProduct(m: b, n: n, a: t, lda: b, b: &w, ldb: b)
                        Double._gemm(transA: false, transB: false, m: rows, n: n, k: b, alpha: -1, a: vp.baseAddress!, lda: rows,
                                     b: w, ldb: b, beta: 1, c: zp.baseAddress!, ldc: n)
                        first += b
                    }
                } }
            }
        }
    }

    /// Thin SVD `A = U Σ Vᵀ` by divide and conquer; `a` is destroyed.
    static func gesdd(
        _ a: inout Matrix<Double>, vectors: Bool
    ) throws -> (u: Matrix<Double>?, s: [Double], vt: Matrix<Double>?) {
        let m = a.rows, n = a.columns, k = min(m, n)
        if k == 0 {
            return (vectors ? Matrix(rows: m, columns: 0) : nil, [], vectors ? Matrix(rows: 0, columns: n) : nil)
        }
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: vectors ? m * k : 1)
        var vt = [Double](repeating: 0, count: vectors ? k * n : 1)
        let info = BLASThreads.one(if: k <= singleThreadedSide) { a.storage.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dgesdd(
                LAPACK_COL_MAJOR, vectors ? 83 /* S */ : 78 /* N */, lapackInt(m), lapackInt(n),
                ap.baseAddress, /*lda*/ lapackInt(m), &s, &u, /*ldu*/ lapackInt(m), &vt, /*ldvt*/ lapackInt(k))
        } }
        checkArguments(info, "dgesdd")
        if info > 0 { throw LinearAlgebraError.didNotConverge(routine: "dgesdd", info: Int(info)) }
        guard vectors else { return (nil, s, nil) }
        return (Matrix(rows: m, columns: k, columnMajor: u), s, Matrix(rows: k, columns: n, columnMajor: vt))
    }

    /// Solves `A X = B` for symmetric positive definite `A` (upper triangle used; `a` is
    /// overwritten by its Cholesky factor, `b` by the solution).
    static func posv(_ a: inout Matrix<Double>, _ b: inout Matrix<Double>) throws {
        let n = a.rows
        let info = a.storage.withUnsafeMutableBufferPointer { ap in
            b.storage.withUnsafeMutableBufferPointer { bp in
                LAPACKE_dposv(LAPACK_COL_MAJOR, 85 /* U */, lapackInt(n), lapackInt(b.columns),
                              ap.baseAddress, /*lda*/ lapackInt(max(1, n)), bp.baseAddress, /*ldb*/ lapackInt(max(1, n)))
            }
        }
        checkArguments(info, "dposv")
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(routine: "dposv", minor: Int(info)) }
    }

    /// Upper Cholesky factor `U` with `A = UᵀU`; the strict lower triangle is zeroed.
    static func potrf(_ a: inout Matrix<Double>) throws {
        let n = a.rows
        let info = a.storage.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dpotrf(LAPACK_COL_MAJOR, 85 /* U */, lapackInt(n), ap.baseAddress, /*lda*/ lapackInt(max(1, n)))
        }
        checkArguments(info, "dpotrf")
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(routine: "dpotrf", minor: Int(info)) }
        for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { a[i, j] = 0 } }
    }

    /// Solves `A X = B` by LU with partial pivoting; `b` is overwritten by the solution.
    static func gesv(_ a: inout Matrix<Double>, _ b: inout Matrix<Double>) throws {
        let n = a.rows
        var pivots = [lapack_int](repeating: 0, count: max(1, n))
        let info = a.storage.withUnsafeMutableBufferPointer { ap in
            b.storage.withUnsafeMutableBufferPointer { bp in
                LAPACKE_dgesv(LAPACK_COL_MAJOR, lapackInt(n), lapackInt(b.columns), ap.baseAddress,
                              /*lda*/ lapackInt(max(1, n)), &pivots, bp.baseAddress, /*ldb*/ lapackInt(max(1, n)))
            }
        }
        checkArguments(info, "dgesv")
        if info > 0 { throw LinearAlgebraError.singular(routine: "dgesv", pivot: Int(info)) }
    }

    /// The thin `Q` (m × min(m, n)) of a QR factorisation, by `dgeqrf` then `dorgqr`.
    /// Householder QR works column by column, so the first `k` reflectors (all that `Q`
    /// needs) come from the first `k` columns alone.
    static func thinQ(_ a: Matrix<Double>) -> Matrix<Double> {
        let m = a.rows, k = min(a.rows, a.columns)
        if k == 0 { return Matrix(rows: m, columns: 0) }
        var q = a.leadingColumns(k)
        var tau = [Double](repeating: 0, count: k)
        let info = q.storage.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dgeqrf(LAPACK_COL_MAJOR, lapackInt(m), lapackInt(k), ap.baseAddress, /*lda*/ lapackInt(m), &tau)
        }
        checkArguments(info, "dgeqrf")
        orgqr(&q, tau: tau)
        return q
    }

    private static func orgqr(_ q: inout Matrix<Double>, tau: [Double]) {
        let m = q.rows, k = q.columns
        let info = q.storage.withUnsafeMutableBufferPointer { ap in
            LAPACKE_dorgqr(LAPACK_COL_MAJOR, lapackInt(m), lapackInt(k), lapackInt(k), ap.baseAddress, /*lda*/ lapackInt(m), tau)
        }
        checkArguments(info, "dorgqr")
    }
}

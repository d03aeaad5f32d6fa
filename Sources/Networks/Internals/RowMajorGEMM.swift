import LinearAlgebra

/// Row-major matrix products over raw buffers, through the column-major BLAS kernels of
/// LinearAlgebra: a row-major `C = op(A)·op(B)` is the column-major `Cᵀ = op(B)ᵀ·op(A)ᵀ`,
/// so the operands swap places and nothing is copied.
package enum RowMajorGEMM {
    /// `C ← alpha · op(A) · op(B) + beta · C` with `C` of shape `m × n`, `op(A)` of `m × k`
    /// and `op(B)` of `k × n`, all row-major with leading dimensions `lda`, `ldb`, `ldc`.
    /// The corresponding BLAS routine is `sgemm`/`dgemm`.
    @inline(__always)
    package static func multiply<T: BLASScalar>(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: T = 1,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { for column in 0..<n { c[row * ldc + column] *= beta } }
            return
        }
        T._gemm(transA: transposeB, transB: transposeA, m: n, n: m, k: k, alpha: alpha,
                a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc)
    }
}

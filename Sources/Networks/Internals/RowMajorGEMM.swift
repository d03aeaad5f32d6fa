import LinearAlgebra
import Dispatch

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

extension RowMajorGEMM {
    /// Runs `body` over `0..<count` independent products (images of a batch, matrices of a
    /// batched MatMul) in two halves on two threads, each half with a single-threaded BLAS,
    /// when there are at least two and BLAS has two threads to spare; otherwise over all of
    /// them at once with BLAS's threads. `body` learns which: its second argument is `true`
    /// when it runs alone and may use both cores itself.
    ///
    /// Products of a few hundred rows and columns split poorly between BLAS's threads, and
    /// the work between them (unrolling, copying) would run on one core; two halves of the
    /// batch keep both cores busy throughout.
    package static func inHalvesOfBatch(_ count: Int, _ body: (Range<Int>, Bool) -> Void) {
        let threads = BLASThreads.count
        guard count >= 2, threads >= 2 else {
            body(0..<count, true)
            return
        }
        BLASThreads.set(1)
        defer { BLASThreads.set(threads) }
        let half = (count + 1) / 2
        withoutActuallyEscaping(body) { body in
            let shared = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: 2) { part in
                shared.value(part == 0 ? 0..<half : half..<count, false)
            }
        }
    }
}

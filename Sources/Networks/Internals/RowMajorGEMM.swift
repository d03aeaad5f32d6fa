import CVectorMath
import Dispatch
import LinearAlgebra

/// Row-major matrix products over raw buffers.
///
/// A single product goes to the column-major BLAS kernels of LinearAlgebra: a row-major
/// `C = op(A)·op(B)` is the column-major `Cᵀ = op(B)ᵀ·op(A)ᵀ`, so the operands swap places
/// and nothing is copied, and OpenBLAS shares the work between its threads.
///
/// A batch of small float32 products (attention's per-head products) is shared out between
/// the two cores instead, each product computed whole on one of them by repprobe's own
/// kernel (`repprobe_sgemm`, AVX-512). OpenBLAS could not do that: its results depend on
/// its process-wide thread count, so running small products side by side on a one-thread
/// BLAS changed the bits of any analysis running beside them. The own kernel gives every
/// element the same chain of operations whichever thread computes it.
package enum RowMajorGEMM {
    /// Whether batches of small float32 products run the own kernel (an AVX-512 CPU).
    package static let ownKernel = repprobe_sgemm_available() != 0

    /// Products of at most this many multiply-adds are small: a product this size gains
    /// little from a second core, so a batch of them gains more from one product per core.
    package static let smallProduct = 1 << 23

    /// Batches of small products with fewer multiply-adds in all than this run on one
    /// thread: below it, handing half to the second core costs more than it saves.
    static let parallelWork = 1 << 20

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

    /// `count` independent float32 products `C_i = A_i·B_i`, each `m × n × k` and
    /// row-major; `operands(i)` gives the `i`th product's `A`, `B` and `C`.
    ///
    /// Small products (``smallProduct``) run the own kernel where the CPU has it, one
    /// product per core; the bits of each depend on its shape alone, not on the batch or
    /// the thread. Large ones go to BLAS one after another, each on all of its threads.
    package static func multiplyEach(
        _ count: Int, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int,
        _ operands: (Int) -> (a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>)
    ) {
        guard count > 0 else { return }
        let work = m * n * k
        guard ownKernel, work <= smallProduct else {
            for i in 0..<count {
                let (a, b, c) = operands(i)
                multiply(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            }
            return
        }
        func run(_ i: Int) {
            let (a, b, c) = operands(i)
            if repprobe_sgemm(0, 0, m, n, k, a, lda, b, ldb, c, ldc, 0) == 0 {
                // The kernel could not allocate its packing buffers; BLAS needs none.
                multiply(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
            }
        }
        guard count >= 2, count * work >= parallelWork else {
            for i in 0..<count { run(i) }
            return
        }
        // One product per iteration: the cores take the next as they finish one.
        withoutActuallyEscaping(run) { run in
            let shared = UnsafeSendable(run)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }
}

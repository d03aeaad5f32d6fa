import CVectorMath
import Dispatch
import LinearAlgebra

/// Row-major matrix products over raw buffers.
///
/// A single product goes to the column-major BLAS kernels of LinearAlgebra: a row-major
/// `C = op(A)·op(B)` is the column-major `Cᵀ = op(B)ᵀ·op(A)ᵀ`, so the operands swap places
/// and nothing is copied, and OpenBLAS shares the work between its threads. Float32
/// products with a short side (``skinnySide``) are the exception: they run repprobe's own
/// kernel (below), split between the two cores by rows or columns.
///
/// A batch of small float32 products (attention's per-head products) is shared out between
/// the two cores instead, each product computed whole on one of them by repprobe's own
/// kernel (`repprobe_sgemm`, AVX-512). OpenBLAS could not do that: its results depend on
/// its process-wide thread count, so running small products side by side on a one-thread
/// BLAS changed the bits of any analysis running beside them. The own kernel gives every
/// element the same chain of operations whichever thread computes it.
package enum RowMajorGEMM {
    /// Whether the float32 products that suit it (skinny ones, batches of small ones) run
    /// the own kernel: on an AVX-512 CPU.
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
            // As in BLAS, C is not read when beta is zero.
            for row in 0..<m { for column in 0..<n { c[row * ldc + column] = beta == 0 ? 0 : beta * c[row * ldc + column] } }
            return
        }
        if T.self == Float.self, ownKernel, alpha == 1, beta == 0 || beta == 1, min(m, n, k) <= skinnySide {
            ownProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                       b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb, accumulate: beta == 1,
                       c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc: ldc)
            return
        }
        T._gemm(transA: transposeB, transB: transposeA, m: n, n: m, k: k, alpha: alpha,
                a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc)
    }

    /// Float32 products with a side this short or shorter run the own kernel: OpenBLAS
    /// copies both operands and scales `C` in passes of their own, which cost more than the
    /// arithmetic when one side is a few filters or channels (the training module's
    /// convolutions: 12 filters by 108 rows by 8192 positions).
    static let skinnySide = 32

    /// The kernel's strip sizes: parts of `C` are cut at multiples of them.
    static let stripRows = 12, stripColumns = 32

    /// The own kernel over `C`, in two parts on the two cores when the product is large
    /// enough: by rows when `op(A)` is the larger operand (each core then packs its own rows
    /// of it and all of `op(B)`), by columns otherwise. Every element has the same bits
    /// either way.
    private static func ownProduct(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, lines: UnsafePointer<Int>? = nil, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        typealias Part = (m: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, lines: UnsafePointer<Int>?,
                          c: UnsafeMutablePointer<Float>)
        func compute(_ part: Part) {
            kernelProduct(transposeA: transposeA, transposeB: transposeB, m: part.m, n: part.n, k: k, a: part.a, lda: lda,
                          b: part.b, ldb: ldb, lines: part.lines, accumulate: accumulate, c: part.c, ldc: ldc)
        }
        let parts: [Part]
        if m * n * k < parallelWork {
            parts = [(m, n, a, b, lines, c)]
        } else if m >= n, m >= 2 * stripRows {
            let split = (m / 2 + stripRows - 1) / stripRows * stripRows
            parts = [(split, n, a, b, lines, c),
                     (m - split, n, a + (transposeA ? split : split * lda), b, lines, c + split * ldc)]
        } else if n >= 2 * stripColumns {
            let split = (n / 2 + stripColumns - 1) / stripColumns * stripColumns
            // The right part's columns are later lines of B when it is transposed, later
            // elements of each line otherwise.
            let right: (b: UnsafePointer<Float>, lines: UnsafePointer<Int>?) =
                !transposeB ? (b + split, lines) : lines.map { (b, $0 + split) } ?? (b + split * ldb, nil)
            parts = [(m, split, a, b, lines, c), (m, n - split, a, right.b, right.lines, c + split)]
        } else {
            parts = [(m, n, a, b, lines, c)]
        }
        guard parts.count == 2 else { return compute(parts[0]) }
        let computePart = { (index: Int) in compute(parts[index]) }
        withoutActuallyEscaping(computePart) { computePart in
            let shared = UnsafeSendable(computePart)
            DispatchQueue.concurrentPerform(iterations: 2) { shared.value($0) }
        }
    }

    /// One product by the own kernel on the calling thread, or by BLAS if the kernel cannot
    /// allocate its packing buffers (BLAS needs none).
    private static func kernelProduct(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, lines: UnsafePointer<Int>? = nil, accumulate: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let done = repprobe_sgemm_lines(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, lines, c, ldc,
                                        accumulate ? 1 : 0)
        guard done == 0 else { return }
        if let lines {
            gatheringLines(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                           lines: lines, accumulate: accumulate, c: c, ldc: ldc)
        } else {
            Float._gemm(transA: transposeB, transB: transposeA, m: n, n: m, k: k, alpha: 1, a: b, lda: ldb, b: a, ldb: lda,
                        beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }

    /// `C = op(A)·op(B)`, or `C += op(A)·op(B)` when `accumulate`, all float32 and row-major,
    /// with B's lines (its rows as stored: the rows of `op(B)`, or its columns when
    /// `transposeB`) at `b + lines[i]` rather than a fixed distance apart: `lines` has `k`
    /// entries, or `n` when `transposeB`. A stride-1 convolution multiplies its weights by the
    /// padded image itself this way, each line of the unrolled matrix a shifted plane.
    ///
    /// The own kernel reads the lines where they lie, split between the cores as
    /// ``multiply(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` splits it;
    /// without it, the lines are copied into one matrix for BLAS.
    package static func multiply(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, lines: UnsafePointer<Int>, accumulate: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard k > 0 else {
            // No rows to sum: C as the general product leaves it.
            return multiply(m: m, n: n, k: 0, a: a, lda: lda, b: b, ldb: 0, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
        guard m > 0, n > 0 else { return }
        guard ownKernel else {
            return gatheringLines(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                                  lines: lines, accumulate: accumulate, c: c, ldc: ldc)
        }
        ownProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: 0,
                   lines: lines, accumulate: accumulate, c: c, ldc: ldc)
    }

    /// The product with B's lines copied one after another into a matrix first (`k` > 0).
    static func gatheringLines(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, lines: UnsafePointer<Int>, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (count, length) = transposeB ? (n, k) : (k, n)
        var dense: [Float] = ElementLoops.uninitialized(count * length)
        dense.withUnsafeMutableBufferPointer { dense in
            for i in 0..<count { (dense.baseAddress! + i * length).update(from: b + lines[i], count: length) }
            multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                     b: dense.baseAddress!, ldb: length, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
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
            kernelProduct(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                          accumulate: false, c: c, ldc: ldc)
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

import CVectorMath
import LinearAlgebra

/// Row-major matrix products over raw buffers.
///
/// Float32 products run repprobe's own kernel (`repprobe_sgemm`, AVX-512) where the CPU has
/// it, split between the runtime's threads (``Parallel``) by rows or columns. The own kernel
/// gives every element the same chain of operations whichever part or thread computes it,
/// so the results do not depend on the thread count; OpenBLAS's do (it splits the sums by
/// its process-wide thread count), and handing its workers a product, after they had gone
/// to sleep between the runtime's short products, cost tens of microseconds each time.
///
/// Other products go to the column-major BLAS kernels of LinearAlgebra: a row-major
/// `C = op(A)·op(B)` is the column-major `Cᵀ = op(B)ᵀ·op(A)ᵀ`, so the operands swap places
/// and nothing is copied.
///
/// A batch of small float32 products (attention's per-head products) is shared out whole
/// instead, each product (or band of its rows) computed by one thread.
package enum RowMajorGEMM {
    /// Whether float32 products run the own kernel: on an AVX-512 CPU.
    package static let ownKernel = repprobe_sgemm_available() != 0

    /// Products of at most this many multiply-adds are small: a product this size gains
    /// little from a second core, so a batch of them gains more from one product per core.
    package static let smallProduct = 1 << 23

    /// Products (or batches of small products) with fewer multiply-adds in all than this
    /// run on one thread: below it, handing parts to the helpers costs more than it saves.
    static let parallelWork = 1 << 20

    /// A product with fewer multiply-adds than ``parallelWork`` still takes the threads when
    /// its B has at least this many floats (1 MB): a few rows by a large matrix are bound by
    /// reading B from memory, which two cores do faster than one. ResNet-18's classifier at
    /// batch 1 (1 × 512 by 512 × 1000) took 0.16 ms this way against 0.26 ms.
    static let parallelOperand = 1 << 18

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
        if T.self == Float.self, ownKernel, alpha == 1, beta == 0 || beta == 1 {
            ownProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                       b: UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb, accumulate: beta == 1,
                       c: UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc: ldc)
            return
        }
        T._gemm(transA: transposeB, transB: transposeA, m: n, n: m, k: k, alpha: alpha,
                a: b, lda: ldb, b: a, ldb: lda, beta: beta, c: c, ldc: ldc)
    }

    /// `C = op(A)·op(B) + bias` for float32, `bias` (of `n` values) added to every row of
    /// `C`: a linear layer. The own kernel adds the bias to its sums as it stores them (no
    /// pass of its own over `C`), with the bits of `C` filled with the bias and then
    /// accumulated into, which is what runs without the kernel. `finish(segment, count)`,
    /// if given, then passes over every row of `C` in segments, each while the part of `C`
    /// that holds it is fresh from the kernel (a linear layer's activation).
    package static func multiply(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, bias: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
        finish: ((UnsafeMutablePointer<Float>, Int) -> Void)? = nil
    ) {
        guard m > 0, n > 0 else { return }
        guard ownKernel, k > 0 else {
            for row in 0..<m { (c + row * ldc).update(from: bias, count: n) }
            multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                     ldb: ldb, beta: 1, c: c, ldc: ldc)
            if let finish { for row in 0..<m { finish(c + row * ldc, n) } }
            return
        }
        ownProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                   bias: bias, accumulate: false, c: c, ldc: ldc, finish: finish)
    }

    /// The kernel's strip sizes: parts of `C` are cut at multiples of them.
    static let stripRows = 12, stripColumns = 32

    /// Part `index` of `parts` of `0..<length`, cut at multiples of `strip` with the strips
    /// shared out as evenly as they go.
    static func stripRange(_ index: Int, of parts: Int, length: Int, strip: Int) -> Range<Int> {
        let strips = (length + strip - 1) / strip
        return (strips * index / parts * strip)..<min(length, strips * (index + 1) / parts * strip)
    }

    /// Whether to cut an `m × n` product into `threads` parts by rows. By rows when `op(A)`
    /// is the larger operand (each part then reads its own rows of it and all of `op(B)`),
    /// by columns otherwise, unless the other way leaves the slowest part a tenth less to
    /// do: each part computes whole strips (12 rows or 32 columns), so the slowest has
    /// `⌈strips / threads⌉` of them. ViT-Tiny's patch embedding (192 filters, 196 positions)
    /// splits into 8 + 8 row strips where its 7 column strips would split 3 + 4.
    static func splitsByRows(m: Int, n: Int, threads: Int) -> Bool {
        func slowestPart(_ length: Int, _ strip: Int) -> Int {
            let strips = (length + strip - 1) / strip
            return (strips + threads - 1) / threads * strip
        }
        let byRows = slowestPart(m, stripRows) * n, byColumns = m * slowestPart(n, stripColumns)
        return m >= n ? 10 * byColumns >= 9 * byRows : 10 * byRows < 9 * byColumns
    }

    /// The own kernel over `C`, in parts on the runtime's threads when the product is large
    /// enough, cut by rows or by columns (``splitsByRows(m:n:threads:)``). Every element
    /// has the same bits either way.
    private static func ownProduct(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, lines: UnsafePointer<Int>? = nil, bias: UnsafePointer<Float>? = nil,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, finish: ((UnsafeMutablePointer<Float>, Int) -> Void)? = nil
    ) {
        let threads = m * n * k < parallelWork && n * k < parallelOperand ? 1 : Parallel.threads
        let byRows = splitsByRows(m: m, n: n, threads: threads)
        let (length, strip) = byRows ? (m, stripRows) : (n, stripColumns)
        let parts = min(threads, (length + strip - 1) / strip)
        Parallel.forEach(parts) { part in
            let range = stripRange(part, of: parts, length: length, strip: strip)
            let (start, end) = (range.lowerBound, range.upperBound)
            if byRows {
                kernelProduct(transposeA: transposeA, transposeB: transposeB, m: end - start, n: n, k: k,
                              a: a + (transposeA ? start : start * lda), lda: lda, b: b, ldb: ldb, lines: lines,
                              bias: bias, accumulate: accumulate, c: c + start * ldc, ldc: ldc)
                if let finish { for row in start..<end { finish(c + row * ldc, n) } }
            } else {
                // Later columns are later lines of B when it is transposed, later elements of
                // each line otherwise.
                let right: (b: UnsafePointer<Float>, lines: UnsafePointer<Int>?) =
                    !transposeB ? (b + start, lines) : lines.map { (b, $0 + start) } ?? (b + start * ldb, nil)
                kernelProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k, a: a, lda: lda,
                              b: right.b, ldb: ldb, lines: right.lines, bias: bias.map { $0 + start },
                              accumulate: accumulate, c: c + start, ldc: ldc)
                if let finish { for row in 0..<m { finish(c + row * ldc + start, end - start) } }
            }
        }
    }

    /// One product by the own kernel on the calling thread, or by BLAS if the kernel cannot
    /// allocate its packing buffers (BLAS needs none).
    static func kernelProduct(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, lines: UnsafePointer<Int>? = nil, bias: UnsafePointer<Float>? = nil,
        accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let done = repprobe_sgemm_lines(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, lines,
                                        accumulate ? nil : bias, c, ldc, accumulate ? 1 : 0)
        guard done == 0 else { return }
        var accumulate = accumulate
        if !accumulate, let bias {
            for row in 0..<m { (c + row * ldc).update(from: bias, count: n) }
            accumulate = true
        }
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
    /// Small products (``smallProduct``) run the own kernel where the CPU has it, shared
    /// between the threads whole or in bands of rows; the bits of each depend on its shape
    /// alone, not on the batch, the bands or the thread. Large ones run one after another,
    /// each split between the threads.
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
        /// Rows `rows` of product `i`.
        func band(_ i: Int, _ rows: Range<Int>) {
            let (a, b, c) = operands(i)
            kernelProduct(transposeA: false, transposeB: false, m: rows.count, n: n, k: k, a: a + rows.lowerBound * lda,
                          lda: lda, b: b, ldb: ldb, accumulate: false, c: c + rows.lowerBound * ldc, ldc: ldc)
        }
        forEachBand(count, rows: m, work: count * work, band)
    }

    /// `body(i, rows)` for every product `i < count` of `rows` rows, on the runtime's threads
    /// when the products' `work` (multiply-adds) is large enough: one product per part, or a
    /// band of its rows (whole strips) when the products alone would leave threads idle at
    /// the end (ViT-Tiny's 3 heads on 2 threads: 6 half products).
    static func forEachBand(_ count: Int, rows m: Int, work: Int, _ body: (Int, Range<Int>) -> Void) {
        guard work >= parallelWork else {
            for i in 0..<count { body(i, 0..<m) }
            return
        }
        let threads = Parallel.threads
        func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int { b == 0 ? a : greatestCommonDivisor(b, a % b) }
        let bands = max(1, min((m + stripRows - 1) / stripRows, threads / greatestCommonDivisor(count, threads)))
        Parallel.forEach(count * bands) { part in
            let (i, index) = part.quotientAndRemainder(dividingBy: bands)
            body(i, stripRange(index, of: bands, length: m, strip: stripRows))
        }
    }
}

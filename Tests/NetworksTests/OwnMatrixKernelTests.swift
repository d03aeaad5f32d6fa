import CVectorMath
import Testing
@testable import Networks

/// The own float32 matrix kernel (`repprobe_sgemm`, AVX-512 CPUs only) against a
/// double-precision product, across its strip and block edges (12 rows, 32 columns, 384
/// deep, 480 wide) and the sizes of its last strips, with and without transposed operands;
/// and the property the runtime relies on to share products between threads: any part of
/// `C` computed alone has the bits it has in the whole product.
@Suite(.enabled(if: RowMajorGEMM.ownKernel, "the CPU has no AVX-512"))
struct OwnMatrixKernelTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let m, n, k: Int
        var testDescription: String { "\(m)×\(n)×\(k)" }
    }

    /// Last strips of every height the kernel is specialised for (at most 4, 8 or 12 rows;
    /// at most 16 or 32 columns), and B read in place (a small A) or packed (300 × 384 of A).
    static let cases = [Case(m: 1, n: 1, k: 1), Case(m: 12, n: 32, k: 384), Case(m: 13, n: 33, k: 385),
                        Case(m: 25, n: 481, k: 800), Case(m: 197, n: 64, k: 197), Case(m: 5, n: 1000, k: 3),
                        Case(m: 20, n: 50, k: 7), Case(m: 4, n: 16, k: 5), Case(m: 11, n: 17, k: 9),
                        Case(m: 300, n: 45, k: 385)]

    /// op(A)·op(B) in double precision, from row-major `a` (m × k, or k × m when transposed)
    /// and `b` (k × n, or n × k).
    static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p * m + i] : a[i * k + p]
                let y = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(x) * Double(y)
            }
            c[i * n + j] = sum
        } }
        return c
    }

    /// The kernel's product into a fresh `C` (holding `initial` when accumulating).
    static func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeA: Bool = false,
                        transposeB: Bool = false, initial: [Float]? = nil) -> [Float] {
        var c = initial ?? [Float](repeating: .nan, count: m * n)
        let done = repprobe_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, transposeA ? m : k,
                                  b, transposeB ? k : n, &c, n, initial == nil ? 0 : 1)
        #expect(done == 1)
        return c
    }

    @Test(arguments: cases, [(false, false), (true, false), (false, true), (true, true)])
    func matchesADoublePrecisionProduct(shape: Case, transposes: (Bool, Bool)) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = ParallelKernelTests.values(m * k, seed: 11), b = ParallelKernelTests.values(k * n, seed: 12)
        let expected = Self.reference(a, b, m: m, n: n, k: k, transposeA: transposes.0, transposeB: transposes.1)
        let c = Self.product(a, b, m: m, n: n, k: k, transposeA: transposes.0, transposeB: transposes.1)
        // Each term is below 1 in size: float32 rounding of k of them.
        let tolerance = Double(k) * 1.2e-7 + 1e-7
        let worst = zip(c, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worst <= tolerance)
    }

    @Test(arguments: cases)
    func accumulatesIntoC(shape: Case) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let a = ParallelKernelTests.values(m * k, seed: 13), b = ParallelKernelTests.values(k * n, seed: 14)
        let initial = ParallelKernelTests.values(m * n, seed: 15)
        let expected = Self.reference(a, b, m: m, n: n, k: k, transposeA: false, transposeB: false)
        let c = Self.product(a, b, m: m, n: n, k: k, initial: initial)
        let worst = zip(c, zip(initial, expected)).map { abs(Double($0) - (Double($1.0) + $1.1)) }.max() ?? .infinity
        #expect(worst <= Double(k + 1) * 1.2e-7 + 1e-7)
    }

    @Test func nothingToSumOverGivesZeroOrLeavesC() {
        var c: [Float] = [1, 2, 3, 4, 5, 6]
        #expect(repprobe_sgemm(0, 0, 2, 3, 0, [], 1, [], 3, &c, 3, 1) == 1)
        #expect(c == [1, 2, 3, 4, 5, 6])
        #expect(repprobe_sgemm(0, 0, 2, 3, 0, [], 1, [], 3, &c, 3, 0) == 1)
        #expect(c == [0, 0, 0, 0, 0, 0])
    }

    /// Rows and columns cut anywhere (not at strip edges) and computed as separate products
    /// have the bits of the whole product: what makes sharing products between threads
    /// leave every result unchanged.
    @Test(arguments: [(false, false), (true, true)])
    func partsHaveTheBitsOfTheWhole(transposes: (Bool, Bool)) {
        let (m, n, k) = (50, 530, 700)
        let (ta, tb) = transposes
        let a = ParallelKernelTests.values(m * k, seed: 16), b = ParallelKernelTests.values(k * n, seed: 17)
        let lda = ta ? m : k, ldb = tb ? k : n
        let whole = Self.product(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
        var parts = [Float](repeating: .nan, count: m * n)
        let rowCuts = [0, 7, 31, m], columnCuts = [0, 19, 100, 501, n]
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                parts.withUnsafeMutableBufferPointer { c in
                    for (top, bottom) in zip(rowCuts, rowCuts.dropFirst()) {
                        for (left, right) in zip(columnCuts, columnCuts.dropFirst()) {
                            let aPart = a.baseAddress! + (ta ? top : top * lda)
                            let bPart = b.baseAddress! + (tb ? left * ldb : left)
                            _ = repprobe_sgemm(ta ? 1 : 0, tb ? 1 : 0, bottom - top, right - left, k, aPart, lda,
                                               bPart, ldb, c.baseAddress! + top * n + left, n, 0)
                        }
                    }
                }
            }
        }
        #expect(parts.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    /// Float32 products go to the own kernel, split between the threads by rows or columns
    /// when large: their bits are those of one whole call, for every transpose, for skinny
    /// products (the training module's convolutions), for a transformer's linear layers and
    /// for a classifier at batch 1, split for the size of its weights.
    @Test(arguments: [(false, false, 12, 8192, 108), (true, false, 108, 8192, 12), (false, true, 12, 108, 8192),
                      (false, false, 3000, 40, 20), (false, false, 197, 768, 192), (false, true, 197, 1000, 192),
                      (true, true, 300, 100, 500), (false, true, 1, 1000, 512)])
    func productsSplitBetweenThreadsKeepTheirBits(shape: (Bool, Bool, Int, Int, Int)) {
        let (ta, tb, m, n, k) = shape
        let a = ParallelKernelTests.values(m * k, seed: 20), b = ParallelKernelTests.values(k * n, seed: 21)
        let whole = Self.product(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb)
        var split = [Float](repeating: .nan, count: m * n)
        RowMajorGEMM.multiply(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: b,
                              ldb: tb ? k : n, c: &split, ldc: n)
        #expect(m * n * k >= RowMajorGEMM.parallelWork || n * k >= RowMajorGEMM.parallelOperand)
        #expect(split.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    /// A linear layer's product with its bias added as the kernel stores its sums has the
    /// bits of C filled with the bias and accumulated into: on the direct path (at most 24
    /// rows) and the packed one, over several blocks of 384 rows to sum, split between the
    /// threads by rows and by columns; with k = 0, every row is the bias.
    @Test(arguments: [(false, false, 197, 768, 192), (false, false, 20, 700, 800), (false, true, 1, 1000, 192),
                      (true, false, 300, 100, 500), (false, false, 2, 3, 0)])
    func biasAddedInTheKernelHasTheBitsOfAccumulating(shape: (Bool, Bool, Int, Int, Int)) {
        let (ta, tb, m, n, k) = shape
        let a = ParallelKernelTests.values(m * k, seed: 25), b = ParallelKernelTests.values(k * n, seed: 26)
        var bias = ParallelKernelTests.values(n, seed: 27)
        bias[0] = -0.0
        let filled = (0..<m).flatMap { _ in bias }
        let accumulated = k == 0 ? filled : Self.product(a, b, m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                                         initial: filled)
        var biased = [Float](repeating: .nan, count: m * n)
        RowMajorGEMM.multiply(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a + [0], lda: ta ? m : max(k, 1),
                              b: b + [0], ldb: tb ? max(k, 1) : n, bias: bias, c: &biased, ldc: n)
        #expect(biased.map(\.bitPattern) == accumulated.map(\.bitPattern))
    }

    /// Products whose B lines lie anywhere in a buffer (overlapping, out of order) have the
    /// bits of the kernel's product of B copied out line by line, whole or split between the
    /// cores, accumulating or not: the direct path (at most 24 rows), the packed one, and
    /// transposed B whose lines are columns of op(B).
    @Test(arguments: [(false, false, 12, 10368, 108), (false, true, 12, 108, 10368), (false, false, 100, 700, 50),
                      (true, false, 40, 500, 30), (true, true, 30, 200, 300), (false, false, 3, 5, 7)])
    func productsOfPlacedLinesHaveTheBitsOfCopiedOnes(shape: (Bool, Bool, Int, Int, Int)) {
        let (ta, tb, m, n, k) = shape
        let (count, length) = tb ? (n, k) : (k, n)
        let source = ParallelKernelTests.values(length + 3 * count, seed: 22)
        // Line i starts 3·(count − 1 − i) floats in: lines overlap and run backwards.
        let lines = (0..<count).map { 3 * (count - 1 - $0) }
        let dense = lines.flatMap { source[$0..<($0 + length)] }
        let a = ParallelKernelTests.values(m * k, seed: 23)
        let initial = ParallelKernelTests.values(m * n, seed: 24)
        for accumulate in [false, true] {
            let copied = Self.product(a, dense, m: m, n: n, k: k, transposeA: ta, transposeB: tb,
                                      initial: accumulate ? initial : nil)
            var placed = accumulate ? initial : [Float](repeating: .nan, count: m * n)
            RowMajorGEMM.multiply(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: source,
                                  lines: lines, accumulate: accumulate, c: &placed, ldc: n)
            #expect(placed.map(\.bitPattern) == copied.map(\.bitPattern))
            // What CPUs without the kernel run: the lines copied out for BLAS.
            var gathered = accumulate ? initial : [Float](repeating: .nan, count: m * n)
            RowMajorGEMM.gatheringLines(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, lda: ta ? m : k, b: source,
                                        lines: lines, accumulate: accumulate, c: &gathered, ldc: n)
            let worst = zip(gathered, copied).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= Float(k) * 2.4e-7 + 1e-6)
        }
        // No rows to sum: C is zeroed, or left as it is when accumulating.
        var empty = [Float](repeating: .nan, count: 6)
        RowMajorGEMM.multiply(m: 2, n: 3, k: 0, a: [], lda: 1, b: [], lines: [], c: &empty, ldc: 3)
        #expect(empty == [Float](repeating: 0, count: 6))
        var kept = initial
        RowMajorGEMM.multiply(m: 2, n: 3, k: 0, a: [], lda: 1, b: [], lines: [], accumulate: true, c: &kept, ldc: 3)
        #expect(kept == initial)
    }

    /// A batched MatMul's products, shared between the threads whole (24 of them) or in
    /// bands of rows (3, or 1, on two threads), have the bits of each product run alone.
    @Test(arguments: [24, 3, 1])
    func batchedProductsHaveTheBitsOfSingleOnes(batch: Int) throws {
        let (m, k, n) = (197, 64, 197)
        let a = ParallelKernelTests.values(batch * m * k, seed: 18), b = ParallelKernelTests.values(batch * k * n, seed: 19)
        let y = try #require(try ShapeOperatorTests.run("MatMul", [Tensor(shape: [batch, m, k], elements: a),
                                                                   Tensor(shape: [batch, k, n], elements: b)])[0].floats)
        for p in Set([0, batch / 2, batch - 1]) {
            let alone = Self.product(Array(a[(p * m * k)..<((p + 1) * m * k)]), Array(b[(p * k * n)..<((p + 1) * k * n)]),
                                     m: m, n: n, k: k)
            #expect(Array(y[(p * m * n)..<((p + 1) * m * n)]).map(\.bitPattern) == alone.map(\.bitPattern))
        }
    }
}

import LinearAlgebra

/// A bootstrap percentile interval for CKA.
public struct BootstrapInterval: Sendable, Codable, Equatable {
    /// CKA on the original samples.
    public var estimate: Double
    public var lower: Double
    public var upper: Double
    /// The confidence level, e.g. 0.95.
    public var confidence: Double
    /// Resamples whose CKA was finite (all of them unless a resample repeated one sample).
    public var resamples: Int
    /// Standard deviation of the bootstrap replicates.
    public var standardError: Double
}

/// A permutation test of "x and y are unrelated" for CKA.
public struct PermutationTest: Sendable, Codable, Equatable {
    public var observed: Double
    /// `(1 + #{null ≥ observed}) / (1 + permutations)`.
    public var pValue: Double
    public var permutations: Int
    /// Mean and largest CKA under the null.
    public var nullMean: Double
    public var nullMaximum: Double
}

/// Resampling statistics for CKA, on Gram matrices computed once.
///
/// Both work on the `n × n` Gram matrices of the inputs (the RBF bandwidth is fixed from the
/// full sample), so each replicate costs `O(n²)` with no new products.
public enum CKAResampling {
    /// Bootstrap over samples (the same resampled rows in `x` and `y`), percentile interval,
    /// for the CKA that `kernel` and `estimator` select.
    ///
    /// With the unbiased estimator, a resample that draws one sample twice would pair the
    /// sample with itself off the diagonal, the very term the estimator leaves out; so every
    /// pair of draws of the same sample counts as diagonal (zeroed), and each replicate is
    /// the unbiased CKA over pairs of distinct samples. The estimate is
    /// `CKA.similarity(x, y)` with the same options.
    public static func bootstrap(
        _ x: Matrix<Double>, _ y: Matrix<Double>, kernel: CKAKernel = .linear, estimator: CKAEstimator = .biased,
        resamples: Int = 1000, confidence: Double = 0.95, seed: UInt64 = 0
    ) throws -> BootstrapInterval {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "CKA bootstrap")
        guard resamples >= 2, confidence > 0, confidence < 1 else {
            throw AnalysisError.invalidArgument("CKA bootstrap: need at least 2 resamples and a confidence in (0, 1)")
        }
        let n = x.rows
        if estimator == .unbiased && n < 4 { throw AnalysisError.tooFewSamples(needed: 4, got: n, context: "unbiased CKA bootstrap") }
        let (k, l) = try grams(x, y, kernel: kernel)
        let resampled = ResampledCKA(k, l, estimator: estimator)
        let estimate = resampled.values(counts: Matrix(rows: n, columns: 1, repeating: 1))[0]
        var generator = SeededGenerator(seed: seed)
        var replicates = [Double]()
        replicates.reserveCapacity(resamples)
        // Blocks of resamples whose count matrix stays within 32 MB.
        let block = Swift.max(1, Swift.min(resamples, (1 << 22) / n))
        for start in stride(from: 0, to: resamples, by: block) {
            var counts = Matrix<Double>(rows: n, columns: Swift.min(block, resamples - start))
            for b in 0..<counts.columns {
                for i in generator.resample(n, count: n) { counts[i, b] += 1 }
            }
            replicates.append(contentsOf: resampled.values(counts: counts).filter(\.isFinite))
        }
        guard replicates.count >= 2 else {
            throw AnalysisError.nonFinite(context: "CKA bootstrap: fewer than 2 of \(resamples) resamples gave a finite CKA")
        }
        replicates.sort()
        let tail = (1 - confidence) / 2
        let mean = replicates.reduce(0, +) / Double(replicates.count)
        let sd = (replicates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(replicates.count - 1, 1))).squareRoot()
        return BootstrapInterval(
            estimate: estimate, lower: quantile(replicates, tail), upper: quantile(replicates, 1 - tail),
            confidence: confidence, resamples: replicates.count, standardError: sd)
    }

    /// Permutes the rows of `y` against `x` and counts how often CKA reaches the observed value.
    public static func permutationTest(
        _ x: Matrix<Double>, _ y: Matrix<Double>, kernel: CKAKernel = .linear, estimator: CKAEstimator = .biased,
        permutations: Int = 1000, seed: UInt64 = 0
    ) throws -> PermutationTest {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "CKA permutation test")
        guard permutations >= 1 else { throw AnalysisError.invalidArgument("CKA permutation test: need at least 1 permutation") }
        let n = x.rows
        if estimator == .unbiased && n < 4 { throw AnalysisError.tooFewSamples(needed: 4, got: n, context: "unbiased CKA") }
        var (k, l) = try grams(x, y, kernel: kernel)
        switch estimator {
        case .biased:
            k.doubleCenter()
            l.doubleCenter()
        case .unbiased:
            k = HSIC.zeroingDiagonal(k)
            l = HSIC.zeroingDiagonal(l)
        }
        // The HSIC terms that do not depend on the pairing are computed once.
        let rk = k.rowSums, rl = l.rowSums
        let sk = rk.reduce(0, +), sl = rl.reduce(0, +)
        func hsic(_ a: Matrix<Double>, _ b: Matrix<Double>, _ ra: [Double], _ rb: [Double], _ sa: Double, _ sb: Double, _ p: [Int]) -> Double {
            var trace = 0.0
            a.storage.withUnsafeBufferPointer { ap in
                b.storage.withUnsafeBufferPointer { bp in
                    for j in 0..<n {
                        let pj = p[j] * n
                        for i in 0..<n { trace += ap[i + j * n] * bp[p[i] + pj] }
                    }
                }
            }
            switch estimator {
            case .biased: return trace
            case .unbiased:
                var dot = 0.0
                for i in 0..<n { dot += ra[i] * rb[p[i]] }
                return HSIC.unbiasedFromTerms(trace: trace, sumK: sa, sumL: sb, rowSumsDot: dot, n: n)
            }
        }
        let identity = Array(0..<n)
        let denominator = (hsic(k, k, rk, rk, sk, sk, identity) * hsic(l, l, rl, rl, sl, sl, identity)).squareRoot()
        guard denominator > 0 && denominator.isFinite else {
            throw AnalysisError.invalidArgument(
                "CKA permutation test: the HSIC of an input with itself is not positive (\(estimator.rawValue) estimator on \(n) samples), so CKA is undefined")
        }
        let observed = hsic(k, l, rk, rl, sk, sl, identity) / denominator
        var generator = SeededGenerator(seed: seed)
        var exceed = 0, sum = 0.0, maximum = -Double.infinity
        for _ in 0..<permutations {
            let value = hsic(k, l, rk, rl, sk, sl, generator.permutation(n)) / denominator
            if value >= observed { exceed += 1 }
            sum += value
            maximum = Swift.max(maximum, value)
        }
        return PermutationTest(
            observed: observed, pValue: Double(1 + exceed) / Double(1 + permutations), permutations: permutations,
            nullMean: sum / Double(permutations), nullMaximum: maximum)
    }

    /// CKA without each sample in turn: entry `i` is the CKA (`kernel`, `estimator`) of `x`
    /// and `y` with row `i` of both left out. Single samples can move CKA a lot (Davari et
    /// al. 2022); the largest `full − entry` flags the samples a conclusion leans on.
    ///
    /// Costs `O(n²)` after the Gram matrices, not `O(n³)`: with `r` the row sums, `s = 1ᵀK1`
    /// and `c_i = Σ_j K_ij L_ij`, leaving out sample `i` changes the terms `⟨K, L⟩`,
    /// `r_Kᵀr_L`, `s_K` and `s_L` that both estimators are assembled from
    /// (`tr(KHLH) = ⟨K, L⟩ − (2/m)·r_Kᵀr_L + s_K s_L/m²` for the biased one; the unbiased one
    /// takes them from the Gram matrices with zeroed diagonals) by amounts that need only
    /// row `i` and the products `K r_L` and `L r_K`. The RBF bandwidth stays the full sample's.
    public static func leaveOneOut(
        _ x: Matrix<Double>, _ y: Matrix<Double>, kernel: CKAKernel = .linear, estimator: CKAEstimator = .biased
    ) throws -> [Double] {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "CKA leave-one-out")
        let n = x.rows
        let needed = estimator == .biased ? 3 : 5
        guard n >= needed else {
            throw AnalysisError.invalidArgument("\(estimator.rawValue) CKA leave-one-out needs at least \(needed) samples, got \(n)")
        }
        var (k, l) = try grams(x, y, kernel: kernel)
        if estimator == .unbiased {
            k = HSIC.zeroingDiagonal(k)
            l = HSIC.zeroingDiagonal(l)
        }
        let rk = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + k[i, $1] } }
        let rl = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + l[i, $1] } }
        func times(_ a: Matrix<Double>, _ v: [Double]) -> [Double] {
            a.multiplied(by: Matrix(rows: n, columns: 1, columnMajor: v)).storage
        }
        let kRl = times(k, rl), lRk = times(l, rk), kRk = times(k, rk), lRl = times(l, rl)
        let m = Double(n - 1)
        /// The HSIC terms of the pair (A, B): ⟨A, B⟩, r_Aᵀr_B, 1ᵀA1 and 1ᵀB1.
        struct Terms {
            var product: Double, rowSums: Double, sumA: Double, sumB: Double
        }
        /// The HSIC of the pair (A, B) without sample i, from A's and B's whole-matrix terms
        /// and the row-i quantities.
        func without(_ i: Int, _ a: Matrix<Double>, _ b: Matrix<Double>, _ ra: [Double], _ rb: [Double],
                     _ whole: Terms, _ bRa: [Double], _ aRb: [Double]) -> Double {
            var c = 0.0
            for j in 0..<n { c += a[i, j] * b[i, j] }
            let (aii, bii) = (a[i, i], b[i, i])
            let product = whole.product - 2 * c + aii * bii
            let rowSums = whole.rowSums - ra[i] * rb[i] - (bRa[i] - ra[i] * bii) - (aRb[i] - aii * rb[i]) + (c - aii * bii)
            let sumA = whole.sumA - 2 * ra[i] + aii, sumB = whole.sumB - 2 * rb[i] + bii
            switch estimator {
            case .biased:
                return product - 2 / m * rowSums + sumA * sumB / (m * m)
            case .unbiased:
                return HSIC.unbiasedFromTerms(trace: product, sumK: sumA, sumL: sumB, rowSumsDot: rowSums, n: n - 1)
            }
        }
        func whole(_ a: Matrix<Double>, _ b: Matrix<Double>, _ ra: [Double], _ rb: [Double]) -> Terms {
            var product = 0.0
            for (u, v) in zip(a.storage, b.storage) { product += u * v }
            return Terms(product: product, rowSums: zip(ra, rb).reduce(0) { $0 + $1.0 * $1.1 },
                         sumA: ra.reduce(0, +), sumB: rb.reduce(0, +))
        }
        let kl = whole(k, l, rk, rl), kk = whole(k, k, rk, rk), ll = whole(l, l, rl, rl)
        return (0..<n).map { i in
            let hkl = without(i, k, l, rk, rl, kl, lRk, kRl)
            let hkk = without(i, k, k, rk, rk, kk, kRk, kRk)
            let hll = without(i, l, l, rl, rl, ll, lRl, lRl)
            return hkl / (hkk * hll).squareRoot()
        }
    }

    private static func grams(_ x: Matrix<Double>, _ y: Matrix<Double>, kernel: CKAKernel) throws -> (Matrix<Double>, Matrix<Double>) {
        let a = try HSICTable.centeredUnitNorm(x, name: "x")
        let b = try HSICTable.centeredUnitNorm(y, name: "y")
        switch kernel {
        case .linear: return (a.outerGram(), b.outerGram())
        case let .rbf(threshold): return (KernelMatrix.rbf(a, threshold: threshold), KernelMatrix.rbf(b, threshold: threshold))
        }
    }

    /// Linear-interpolated quantile of sorted values (NumPy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}

/// CKA on resamples of the samples behind two Gram matrices, many resamples in one pass.
///
/// A resample is a vector of counts `c` (sample `a` drawn `c_a` times, `m = Σc` draws). The
/// Gram sub-matrix at the draws is never formed: its HSIC terms are quadratic forms in `c`,
/// `⟨K_S, L_S⟩ = cᵀ(K∘L)c`, the row sum of each draw of `a` is `(Kc)_a` so that
/// `r_Kᵀr_L = Σ_a c_a (Kc)_a (Lc)_a`, and `1ᵀK_S1 = cᵀKc`; the biased HSIC is
/// `⟨K_S, L_S⟩ − (2/m)·r_Kᵀr_L + (1ᵀK_S1)(1ᵀL_S1)/m²`. With the unbiased estimator every pair
/// of draws of one sample is a self-pair, which the estimator leaves out: `K` and `L` have
/// zeroed diagonals. For a matrix of counts (one resample a column) the products with `K`,
/// `L`, `K∘L`, `K∘K` and `L∘L` are one matrix product per panel of rows, `10·n²` flops a
/// resample at BLAS speed, instead of `n²` gathers at scattered indices.
struct ResampledCKA {
    private let k: Matrix<Double>
    private let l: Matrix<Double>
    private let estimator: CKAEstimator

    init(_ k: Matrix<Double>, _ l: Matrix<Double>, estimator: CKAEstimator) {
        precondition(k.rows == k.columns && l.rows == k.rows && l.columns == k.rows, "Gram matrices of different sizes")
        switch estimator {
        case .biased: (self.k, self.l) = (k, l)
        case .unbiased: (self.k, self.l) = (HSIC.zeroingDiagonal(k), HSIC.zeroingDiagonal(l))
        }
        self.estimator = estimator
    }

    /// The CKA of each resample, `counts` being `n × resamples`.
    func values(counts: Matrix<Double>) -> [Double] {
        let n = k.rows, resamples = counts.columns
        precondition(counts.rows == n, "counts for \(counts.rows) samples, Gram matrices of \(n)")
        /// Per resample: ⟨K,L⟩, ⟨K,K⟩, ⟨L,L⟩, 1ᵀK1, 1ᵀL1, r_Kᵀr_L, r_Kᵀr_K, r_Lᵀr_L.
        var terms = [Double](repeating: 0, count: 8 * resamples)
        let panelRows = Swift.min(n, 64)
        let panel = UnsafeMutablePointer<Double>.allocate(capacity: n * 5 * panelRows)
        let product = UnsafeMutablePointer<Double>.allocate(capacity: 5 * panelRows * resamples)
        defer { panel.deallocate(); product.deallocate() }
        k.storage.withUnsafeBufferPointer { kp in
            l.storage.withUnsafeBufferPointer { lp in
                counts.storage.withUnsafeBufferPointer { cp in
                    for first in stride(from: 0, to: n, by: panelRows) {
                        let w = Swift.min(panelRows, n - first)
                        // Columns first..<first+w of K, L, K∘L, K∘K, L∘L; by symmetry their
                        // transposes are those rows.
                        for j in 0..<w {
                            let source = (first + j) * n
                            for i in 0..<n {
                                let a = kp[source + i], b = lp[source + i]
                                panel[i + j * n] = a
                                panel[i + (w + j) * n] = b
                                panel[i + (2 * w + j) * n] = a * b
                                panel[i + (3 * w + j) * n] = a * a
                                panel[i + (4 * w + j) * n] = b * b
                            }
                        }
                        Double._gemm(transA: true, transB: false, m: 5 * w, n: resamples, k: n, alpha: 1,
                                     a: panel, lda: n, b: cp.baseAddress!, ldb: n, beta: 0, c: product, ldc: 5 * w)
                        for r in 0..<resamples {
                            let column = r * 5 * w
                            var t = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                            for i in 0..<w {
                                let c = cp[first + i + r * n]
                                if c == 0 { continue }
                                let kc = product[column + i], lc = product[column + w + i]
                                t.0 += c * product[column + 2 * w + i]
                                t.1 += c * product[column + 3 * w + i]
                                t.2 += c * product[column + 4 * w + i]
                                t.3 += c * kc
                                t.4 += c * lc
                                t.5 += c * kc * lc
                                t.6 += c * kc * kc
                                t.7 += c * lc * lc
                            }
                            let base = 8 * r
                            terms[base] += t.0; terms[base + 1] += t.1; terms[base + 2] += t.2; terms[base + 3] += t.3
                            terms[base + 4] += t.4; terms[base + 5] += t.5; terms[base + 6] += t.6; terms[base + 7] += t.7
                        }
                    }
                }
            }
        }
        return (0..<resamples).map { r in
            let t = terms[(8 * r)..<(8 * r + 8)].map { $0 }
            let m = (0..<n).reduce(0.0) { $0 + counts[$1, r] }
            func hsic(_ product: Double, _ sumA: Double, _ sumB: Double, _ rowSums: Double) -> Double {
                switch estimator {
                case .biased: return product - 2 / m * rowSums + sumA * sumB / (m * m)
                case .unbiased: return HSIC.unbiasedFromTerms(trace: product, sumK: sumA, sumL: sumB, rowSumsDot: rowSums, n: Int(m))
                }
            }
            return hsic(t[0], t[3], t[4], t[5]) / (hsic(t[1], t[3], t[3], t[6]) * hsic(t[2], t[4], t[4], t[7])).squareRoot()
        }
    }
}

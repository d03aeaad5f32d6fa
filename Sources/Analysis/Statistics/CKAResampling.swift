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
        let estimate = alignment(k, l, indices: Array(0..<n), estimator: estimator)
        var generator = SeededGenerator(seed: seed)
        var replicates = [Double]()
        replicates.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let value = alignment(k, l, indices: generator.resample(n, count: n), estimator: estimator)
            if value.isFinite { replicates.append(value) }
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

    /// CKA of the Gram sub-matrices at `indices` (rows and columns), without forming them.
    ///
    /// For `m` indices the biased HSIC is `tr(KHLH) = ⟨K, L⟩ − (2/m)·r_Kᵀr_L + (1ᵀK1)(1ᵀL1)/m²`
    /// with `r` the row sums of the sub-matrix; the unbiased one is assembled from the same
    /// terms with every entry that pairs a sample with itself (the diagonal, and the pairs of
    /// repeated indices) set to zero.
    static func alignment(_ k: Matrix<Double>, _ l: Matrix<Double>, indices: [Int], estimator: CKAEstimator) -> Double {
        let m = indices.count, n = k.rows
        let skipsSelfPairs = estimator == .unbiased
        var kl = 0.0, kk = 0.0, ll = 0.0
        var rowK = [Double](repeating: 0, count: m), rowL = [Double](repeating: 0, count: m)
        k.storage.withUnsafeBufferPointer { kp in
            l.storage.withUnsafeBufferPointer { lp in
                for (jj, j) in indices.enumerated() {
                    var columnK = 0.0, columnL = 0.0
                    let base = j * n
                    for i in indices where !(skipsSelfPairs && i == j) {
                        let a = kp[base + i], b = lp[base + i]
                        kl += a * b
                        kk += a * a
                        ll += b * b
                        columnK += a
                        columnL += b
                    }
                    rowK[jj] = columnK  // symmetric: column sums are row sums
                    rowL[jj] = columnL
                }
            }
        }
        let md = Double(m)
        let sumK = rowK.reduce(0, +), sumL = rowL.reduce(0, +)
        func centred(_ product: Double, _ r1: [Double], _ r2: [Double], _ s1: Double, _ s2: Double) -> Double {
            var dot = 0.0
            for i in 0..<m { dot += r1[i] * r2[i] }
            switch estimator {
            case .biased: return product - 2 / md * dot + s1 * s2 / (md * md)
            case .unbiased: return HSIC.unbiasedFromTerms(trace: product, sumK: s1, sumL: s2, rowSumsDot: dot, n: m)
            }
        }
        let hkl = centred(kl, rowK, rowL, sumK, sumL)
        return hkl / (centred(kk, rowK, rowK, sumK, sumK) * centred(ll, rowL, rowL, sumL, sumL)).squareRoot()
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

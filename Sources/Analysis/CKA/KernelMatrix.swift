import LinearAlgebra

/// Gram matrices of samples under a kernel.
public enum KernelMatrix {
    /// The `n × n` linear Gram `XXᵀ` of a samples × features matrix.
    public static func linear(_ x: Matrix<Double>) -> Matrix<Double> { x.outerGram() }

    /// Squared Euclidean distances between the rows of `x` (samples × features), from the
    /// Gram matrix; tiny negative values from cancellation are clamped to 0 and the diagonal
    /// is exactly 0.
    public static func squaredDistances(_ x: Matrix<Double>) -> Matrix<Double> {
        squaredDistances(gram: x.outerGram())
    }

    static func squaredDistances(gram k: Matrix<Double>) -> Matrix<Double> {
        let n = k.rows
        let norms = (0..<n).map { k[$0, $0] }
        var d = Matrix<Double>(rows: n, columns: n)
        d.storage.withUnsafeMutableBufferPointer { dp in
            k.storage.withUnsafeBufferPointer { kp in
                for j in 0..<n {
                    for i in 0..<n {
                        dp[i + j * n] = i == j ? 0 : Swift.max(0, norms[i] + norms[j] - 2 * kp[i + j * n])
                    }
                }
            }
        }
        return d
    }

    /// The median of all `n²` entries of a symmetric squared-distance matrix with zero
    /// diagonal, computed from its upper triangle (each off-diagonal value appears twice in
    /// the full matrix, the `n` zeros once each).
    public static func medianOfSquaredDistances(_ d: Matrix<Double>) -> Double {
        let n = d.rows
        if n < 2 { return 0 }
        var upper = [Double]()
        upper.reserveCapacity(n * (n - 1) / 2)
        for j in 1..<n { for i in 0..<j { upper.append(d[i, j]) } }
        // Position p (0-based) of the sorted n² entries: the first n are the diagonal zeros
        // (distances are ≥ 0), then each upper-triangle value twice.
        func entry(_ p: Int, _ sorted: inout [Double]) -> Double {
            if p < n { return 0 }
            let k = (p - n) / 2
            Selection.nthElement(&sorted, k)
            return sorted[k]
        }
        let total = n * n
        if total % 2 == 1 { return entry(total / 2, &upper) }
        let a = entry(total / 2 - 1, &upper)
        let b = entry(total / 2, &upper)
        return (a + b) / 2
    }

    /// The RBF Gram `exp(−D/(2σ²))` with `σ² = threshold² × median(D)` over the full
    /// squared-distance matrix `D` (Kornblith et al. 2019's bandwidth rule).
    public static func rbf(_ x: Matrix<Double>, threshold: Double) -> Matrix<Double> {
        rbf(squaredDistances: squaredDistances(x), threshold: threshold)
    }

    static func rbf(squaredDistances d: Matrix<Double>, threshold: Double) -> Matrix<Double> {
        let median = medianOfSquaredDistances(d)
        let denominator = 2 * threshold * threshold * median
        var k = d
        k.storage.withUnsafeMutableBufferPointer { p in
            if denominator > 0 {
                for i in p.indices { p[i] = _exp(-p[i] / denominator) }
            } else {
                // Every distance's median is zero (most samples identical): only identical
                // samples are similar.
                for i in p.indices { p[i] = p[i] == 0 ? 1 : 0 }
            }
        }
        return k
    }
}

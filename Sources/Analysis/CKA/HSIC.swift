import LinearAlgebra

/// Hilbert–Schmidt independence criterion estimators on Gram matrices.
///
/// Both take two `n × n` Gram matrices of the same samples (see ``KernelMatrix``).
public enum HSIC {
    /// The biased estimator `HSIC₀(K, L) = tr(KHLH)/(n−1)²` with `H = I − 11ᵀ/n`
    /// (Gretton et al. 2005).
    public static func biased(_ k: Matrix<Double>, _ l: Matrix<Double>) -> Double {
        precondition(k.rows == l.rows && k.rows == k.columns && l.rows == l.columns, "Gram shapes differ")
        let n = Double(k.rows)
        var kc = k
        kc.doubleCenter()
        return kc.frobeniusDot(l) / ((n - 1) * (n - 1))
    }

    /// The unbiased estimator of Song et al. (2012):
    ///
    ///     HSIC₁ = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3))
    ///
    /// where `K̃` and `L̃` are `K` and `L` with their diagonals set to zero — zeroed, not
    /// subtracted from the off-diagonal terms (a bug in some published code). Needs `n ≥ 4`.
    public static func unbiased(_ k: Matrix<Double>, _ l: Matrix<Double>) throws -> Double {
        precondition(k.rows == l.rows && k.rows == k.columns && l.rows == l.columns, "Gram shapes differ")
        let n = k.rows
        if n < 4 { throw AnalysisError.tooFewSamples(needed: 4, got: n, context: "unbiased HSIC") }
        let kt = zeroingDiagonal(k), lt = zeroingDiagonal(l)
        let rk = kt.rowSums, rl = lt.rowSums
        return unbiasedFromTerms(
            trace: kt.frobeniusDot(lt), sumK: rk.reduce(0, +), sumL: rl.reduce(0, +),
            rowSumsDot: zip(rk, rl).reduce(0) { $0 + $1.0 * $1.1 }, n: n)
    }

    static func zeroingDiagonal(_ k: Matrix<Double>) -> Matrix<Double> {
        var m = k
        for i in 0..<m.rows { m[i, i] = 0 }
        return m
    }

    /// Assembles `HSIC₁` from `tr(K̃L̃)`, `1ᵀK̃1`, `1ᵀL̃1` and `(K̃1)ᵀ(L̃1)`.
    static func unbiasedFromTerms(trace: Double, sumK: Double, sumL: Double, rowSumsDot: Double, n: Int) -> Double {
        let nd = Double(n)
        return (trace + sumK * sumL / ((nd - 1) * (nd - 2)) - 2 / (nd - 2) * rowSumsDot) / (nd * (nd - 3))
    }
}

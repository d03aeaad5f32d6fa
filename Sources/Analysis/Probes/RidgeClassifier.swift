import LinearAlgebra

/// A linear classifier fitted by ridge regression on ±1 class indicators, as
/// scikit-learn's `RidgeClassifier`.
///
/// Targets are `+1` for the sample's class and `−1` otherwise (one column per class; a
/// single column for two classes). With `X̄`, `Ȳ` the training means, the weights minimise
/// `‖(X − X̄)W − (Y − Ȳ)‖²_F + α‖W‖²_F`, the intercept is `Ȳ − X̄W`, and a sample goes to the
/// class with the largest decision value (for two classes: the second class when positive).
///
/// From the thin SVD `X − X̄ = U S Vᵀ`, `W = V diag(s/(s² + α)) Uᵀ(Y − Ȳ)`: one
/// factorisation serves every α. The corresponding LAPACK routine is `dgesdd`, or `dsyevr`
/// for more features than samples (see ``RidgePath``).
public struct RidgeClassifier: Sendable {
    public let classes: [Int]
    public let alpha: Double
    /// `d × m` weights (`m = 1` for two classes, else the class count).
    public let weights: Matrix<Double>
    public let intercept: [Double]

    /// Fits on samples × features `x` with one label per row.
    public init(x: Matrix<Double>, labels: [Int], alpha: Double) throws {
        try AnalysisError.checkSameSamples(x.rows, labels.count, "ridge classifier labels")
        let encoding = try ClassEncoding(labels, context: "ridge classifier")
        let path = try RidgePath(x: x, codes: encoding.codes, classCount: encoding.classes.count)
        classes = encoding.classes
        self.alpha = alpha
        (weights, intercept) = path.coefficients(alpha: alpha)
    }

    /// Decision values, `n × m`.
    public func decisionFunction(_ x: Matrix<Double>) -> Matrix<Double> {
        x.affine(weights, bias: intercept)
    }

    /// Predicted labels.
    public func predict(_ x: Matrix<Double>) -> [Int] {
        RidgePath.decide(decisionFunction(x)).map { classes[$0] }
    }
}

/// One centred factorisation of a training set, reused for every regularisation strength.
///
/// With at least as many samples as features it is the thin SVD `X − X̄ = U S Vᵀ`. With
/// more features than samples (wide activations, the usual case for a hidden layer) it is
/// the eigen-decomposition of the `n × n` Gram matrix `(X − X̄)(X − X̄)ᵀ = U S² Uᵀ`, which
/// gives `V = (X − X̄)ᵀ U S⁻¹` without ever forming it: one `dsyrk` and one `n × n` `dsyevr`
/// instead of an SVD of the `n × d` matrix (whose LQ factorisation and explicit `Q` cost
/// three times the products and run largely on level-2 BLAS). This is the kernel form that
/// scikit-learn's ridge solvers take for wide data. Squaring the singular values costs
/// their relative accuracy below `√ε·s₁`; those directions hold less than `ε·s₁²` of the
/// training variance, and eigenvalues below `n·ε·s₁²`, which rounding cannot tell from the
/// zero that centring always leaves, are dropped.
struct RidgePath {
    let mean: [Double]
    private(set) var targetMean: [Double]
    let u: Matrix<Double>
    let s: [Double]
    /// `V = basisᵀ·mixing` (`d × r`): `basis` is `Vᵀ` itself with no mixing (SVD), or the
    /// centred training set with mixing `U S⁻¹` (`n × r`, Gram); nil when the path was made
    /// from a Gram matrix alone, which gives decisions from cross-Gram matrices only.
    private let basis: Matrix<Double>?
    private let mixing: Matrix<Double>?
    /// `Uᵀ(Y − Ȳ)`, `r × m`.
    private(set) var projectedTargets: Matrix<Double>

    init(x: Matrix<Double>, codes: [Int], classCount: Int) throws {
        var centred = x
        mean = centred.centerColumns()
        if centred.columns > centred.rows {
            (u, s, mixing) = try Self.eigen(centred.outerGram())
            basis = centred
        } else {
            let svd = try centred.svd()
            guard let u = svd.u, let vt = svd.vt else { throw AnalysisError.invalidArgument("ridge: SVD returned no vectors") }
            self.u = u
            s = svd.singularValues
            basis = vt
            mixing = nil
        }
        (targetMean, projectedTargets) = Self.targets(u, codes: codes, classCount: classCount)
    }

    /// The path of a training set known only by its centred Gram matrix
    /// `(X − X̄)(X − X̄)ᵀ`: its decisions come from ``decisions(cross:alphas:)``.
    init(centredGram gram: Matrix<Double>, codes: [Int], classCount: Int) throws {
        (u, s, mixing) = try Self.eigen(gram)
        mean = []
        basis = nil
        (targetMean, projectedTargets) = Self.targets(u, codes: codes, classCount: classCount)
    }

    /// `U`, `s` and `U S⁻¹` from the eigen-decomposition `U S² Uᵀ` of a centred Gram matrix,
    /// without the eigenvalues that rounding cannot tell from zero.
    private static func eigen(_ gram: Matrix<Double>) throws -> (Matrix<Double>, [Double], Matrix<Double>) {
        let eigen = try gram.symmetricEigen()
        guard let vectors = eigen.vectors else { throw AnalysisError.invalidArgument("ridge: eigen-decomposition returned no vectors") }
        let cutoff = Swift.max(eigen.values.first ?? 0, 0) * Double(gram.rows) * .ulpOfOne
        let kept = eigen.values.indices.filter { eigen.values[$0] > cutoff }
        let u = vectors.selectingColumns(kept)
        let s = kept.map { eigen.values[$0].squareRoot() }
        var scaled = u
        for (j, value) in s.enumerated() { for i in 0..<scaled.rows { scaled[i, j] /= value } }
        return (u, s, scaled)
    }

    /// The same factorisation of the training features with other targets (the shuffled
    /// labels of a control): only `Uᵀy` changes, so no new SVD is needed.
    func retargeted(codes: [Int], classCount: Int) -> RidgePath {
        var copy = self
        (copy.targetMean, copy.projectedTargets) = Self.targets(u, codes: codes, classCount: classCount)
        return copy
    }

    /// The ±1 one-vs-rest targets (one column for two classes), centred, and `Uᵀ(Y − Ȳ)`.
    private static func targets(_ u: Matrix<Double>, codes: [Int], classCount: Int) -> ([Double], Matrix<Double>) {
        let n = codes.count
        let m = classCount == 2 ? 1 : classCount
        var y = Matrix<Double>(rows: n, columns: m, repeating: -1)
        for i in 0..<n {
            if m == 1 { if codes[i] == 1 { y[i, 0] = 1 } } else { y[i, codes[i]] = 1 }
        }
        let targetMean = y.centerColumns()
        return (targetMean, u.transposedTimes(y))
    }

    /// `diag(s/(s² + α))`, with singular values below rounding level dropped when `α = 0`.
    func shrinkage(_ alpha: Double) -> [Double] {
        let cutoff = (s.first ?? 0) * 1e-15
        return s.map { $0 > cutoff ? $0 / ($0 * $0 + alpha) : 0 }
    }

    /// `diag(s/(s² + α))·Uᵀ(Y − Ȳ)`, `r × m`: the weights in the basis of `V`.
    func shrunkTargets(_ alpha: Double) -> Matrix<Double> {
        var scaled = projectedTargets
        let f = shrinkage(alpha)
        for j in 0..<scaled.columns { for i in 0..<scaled.rows { scaled[i, j] *= f[i] } }
        return scaled
    }

    /// Weights and intercept for `alpha`; not for a path made from a Gram matrix alone.
    func coefficients(alpha: Double) -> (Matrix<Double>, [Double]) {
        guard let basis else { preconditionFailure("ridge: a path from a Gram matrix has no weights") }
        let shrunk = shrunkTargets(alpha)
        let w = basis.multiplied(by: mixing.map { $0.multiplied(by: shrunk) } ?? shrunk, transposingSelf: true)
        let shift = w.transposedTimes(mean)
        return (w, zip(targetMean, shift).map { $0 - $1 })
    }

    /// Decision values of test samples for each α, reusing `(X_test − X̄)V`.
    func decisions(test: Matrix<Double>, alphas: [Double]) -> [Matrix<Double>] {
        guard let basis else { preconditionFailure("ridge: a path from a Gram matrix takes cross-Gram matrices") }
        var centred = test
        centred.subtractColumnMeans(mean)
        let onBasis = centred.multiplied(by: basis, transposingOther: true)
        return decisions(projected: mixing.map { onBasis.multiplied(by: $0) } ?? onBasis, alphas: alphas)
    }

    /// Decision values of test samples for each α from their centred cross-Gram matrix with
    /// the training set, `(X_test − X̄)(X − X̄)ᵀ` (`n_test × n`), for a path with a Gram form.
    func decisions(cross: Matrix<Double>, alphas: [Double]) -> [Matrix<Double>] {
        guard let mixing else { preconditionFailure("ridge: an SVD path takes test samples") }
        return decisions(projected: cross.multiplied(by: mixing), alphas: alphas)
    }

    /// Decision values from `(X_test − X̄)V` (`n_test × r`).
    private func decisions(projected: Matrix<Double>, alphas: [Double]) -> [Matrix<Double>] {
        alphas.map { projected.affine(shrunkTargets($0), bias: targetMean) }
    }

    /// Class codes from decision values: the sign for one column, else the first maximum.
    static func decide(_ z: Matrix<Double>) -> [Int] {
        (0..<z.rows).map { i in
            if z.columns == 1 { return z[i, 0] > 0 ? 1 : 0 }
            var best = 0
            for j in 1..<z.columns where z[i, j] > z[i, best] { best = j }
            return best
        }
    }
}

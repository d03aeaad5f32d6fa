import LinearAlgebra

/// Canonical correlations between two representations of the same samples, with the mean
/// correlation `ρ̄` and `R²_CCA` of Kornblith et al. (2019).
public struct CCAResult: Sendable, Equatable {
    /// Canonical correlations, descending; `min(rank X, rank Y)` of them.
    public var correlations: [Double]
    /// `ρ̄ = mean(ρᵢ)`.
    public var meanCorrelation: Double
    /// `R²_CCA = mean(ρᵢ²)`.
    public var meanSquaredCorrelation: Double

    init(_ rho: [Double]) {
        correlations = rho
        meanCorrelation = rho.isEmpty ? 0 : rho.reduce(0, +) / Double(rho.count)
        meanSquaredCorrelation = rho.isEmpty ? 0 : rho.reduce(0) { $0 + $1 * $1 } / Double(rho.count)
    }
}

/// SVCCA (Raghu et al. 2017): CCA after keeping, in each representation, the leading
/// singular directions that explain a given fraction of its variance.
public struct SVCCAResult: Sendable, Equatable {
    /// Dimensions kept in `x` and in `y`.
    public var keptX: Int
    public var keptY: Int
    /// CCA of the two reduced representations; the SVCCA similarity is its mean correlation.
    public var cca: CCAResult
    public var similarity: Double { cca.meanCorrelation }
}

/// PWCCA (Morcos et al. 2018): canonical correlations weighted by how much of `x` each
/// canonical variate accounts for.
public struct PWCCAResult: Sendable, Equatable {
    /// `Σᵢ αᵢρᵢ`.
    public var similarity: Double
    /// The normalised weights `αᵢ`, in the order of ``correlations``.
    public var weights: [Double]
    public var correlations: [Double]
}

/// Canonical correlation analysis and its variants for samples × features matrices.
///
/// Each input is centred, then represented by an orthonormal basis of its column space
/// from a thin SVD (directions whose singular value is below `max(n, p)·ε·σ₁` are dropped,
/// so rank-deficient inputs are handled). The canonical correlations are the singular
/// values of `Q_xᵀQ_y`. This is the QR/SVD route (Björck & Golub 1973), which never forms
/// or inverts a covariance matrix.
///
/// CCA needs more samples than features: with `n ≤ p` every canonical correlation is 1,
/// so ``canonicalCorrelations(_:_:)`` throws ``AnalysisError/tooFewSamplesForCCA(samples:features:context:)``
/// instead of returning a meaningless number; ``svcca(_:_:varianceKept:)`` reduces first
/// and needs only `n` larger than the kept dimensions.
///
/// The corresponding LAPACK routine is `dgesdd`.
public enum CCA {
    /// Canonical correlations of `x` and `y` (samples × features each).
    public static func canonicalCorrelations(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> CCAResult {
        try fit(x, y).result
    }

    /// SVCCA keeping `varianceKept` (default 99%) of each input's variance.
    public static func svcca(_ x: Matrix<Double>, _ y: Matrix<Double>, varianceKept: Double = 0.99) throws -> SVCCAResult {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "SVCCA")
        guard varianceKept > 0 && varianceKept <= 1 else {
            throw AnalysisError.invalidArgument("SVCCA: the variance fraction to keep must be in (0, 1], got \(varianceKept)")
        }
        let rx = try reduce(x, keeping: varianceKept, name: "x")
        let ry = try reduce(y, keeping: varianceKept, name: "y")
        let result = try fit(rx, ry, context: "SVCCA after reduction to \(rx.columns) and \(ry.columns) dimensions").result
        return SVCCAResult(keptX: rx.columns, keptY: ry.columns, cca: result)
    }

    /// PWCCA with weights from `x` (the measure is not symmetric).
    public static func pwcca(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> PWCCAResult {
        let f = try fit(x, y, context: "PWCCA")
        let c = f.result.correlations.count
        guard let u = f.u else { return PWCCAResult(similarity: 0, weights: [], correlations: []) }
        // Canonical variates H = Q_x U (n × c); αᵢ = Σⱼ |⟨hᵢ, xⱼ⟩| over centred columns xⱼ.
        let h = f.qx.multiplied(by: u.leadingColumns(c))
        let projections = h.transposedTimes(f.centeredX)  // c × p
        var alpha = [Double](repeating: 0, count: c)
        for j in 0..<projections.columns { for i in 0..<c { alpha[i] += Swift.abs(projections[i, j]) } }
        let total = alpha.reduce(0, +)
        let weights = alpha.map { $0 / total }
        let value = zip(weights, f.result.correlations).reduce(0) { $0 + $1.0 * $1.1 }
        return PWCCAResult(similarity: value, weights: weights, correlations: f.result.correlations)
    }

    private struct Fit {
        var result: CCAResult
        var qx: Matrix<Double>
        var u: Matrix<Double>?
        var centeredX: Matrix<Double>
    }

    private static func fit(_ x: Matrix<Double>, _ y: Matrix<Double>, context: String = "CCA") throws -> Fit {
        try AnalysisError.checkSameSamples(x.rows, y.rows, context)
        let n = x.rows
        for width in [x.columns, y.columns] where n <= width {
            throw AnalysisError.tooFewSamplesForCCA(samples: n, features: width, context: context)
        }
        let cx = x.centeringColumns()
        let qx = try orthonormalBasis(cx, context: context)
        let qy = try orthonormalBasis(y.centeringColumns(), context: context)
        let c = Swift.min(qx.columns, qy.columns)
        if c == 0 { throw AnalysisError.constantRepresentation(context: context) }
        let svd = try qx.transposedTimes(qy).svd()
        let rho = svd.singularValues.prefix(c).map { Swift.min(1, $0) }
        return Fit(result: CCAResult(Array(rho)), qx: qx, u: svd.u, centeredX: cx)
    }

    /// Left singular vectors of a centred matrix for its non-negligible singular values.
    static func orthonormalBasis(_ centered: Matrix<Double>, context: String) throws -> Matrix<Double> {
        let svd = try centered.svd()
        guard let u = svd.u, let top = svd.singularValues.first, top > 0 else {
            return Matrix(rows: centered.rows, columns: 0)
        }
        let tolerance = Double(Swift.max(centered.rows, centered.columns)) * Double.ulpOfOne * top
        let rank = svd.singularValues.filter { $0 > tolerance }.count
        return u.leadingColumns(rank)
    }

    /// The centred input projected on its leading singular directions, `U_k·diag(s_k)`, with
    /// the smallest `k` whose squared singular values reach `fraction` of the total.
    static func reduce(_ x: Matrix<Double>, keeping fraction: Double, name: String) throws -> Matrix<Double> {
        let svd = try x.centeringColumns().svd()
        let energy = svd.singularValues.map { $0 * $0 }
        let total = energy.reduce(0, +)
        guard total > 0, let u = svd.u else { throw AnalysisError.constantRepresentation(context: "SVCCA input \(name)") }
        var k = 0, running = 0.0
        while k < energy.count {
            running += energy[k]
            k += 1
            if running / total >= fraction { break }
        }
        var reduced = u.leadingColumns(k)
        for j in 0..<k {
            for i in 0..<reduced.rows { reduced[i, j] *= svd.singularValues[j] }
        }
        return reduced
    }
}

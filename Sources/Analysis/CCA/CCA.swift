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
        try AnalysisError.checkSameSamples(x.rows, y.rows, "CCA")
        return try canonicalCorrelations(CCARepresentation(x), CCARepresentation(y))
    }

    /// Canonical correlations of two prepared representations of the same samples.
    public static func canonicalCorrelations(_ x: CCARepresentation, _ y: CCARepresentation) throws -> CCAResult {
        try fit(x, y, context: "CCA").result
    }

    /// SVCCA keeping `varianceKept` (default 99%) of each input's variance.
    public static func svcca(_ x: Matrix<Double>, _ y: Matrix<Double>, varianceKept: Double = 0.99) throws -> SVCCAResult {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "SVCCA")
        return try svcca(
            CCARepresentation.reducing(x, varianceKept: varianceKept, name: "x"),
            CCARepresentation.reducing(y, varianceKept: varianceKept, name: "y"))
    }

    /// SVCCA of two representations already reduced by ``CCARepresentation/reducing(_:varianceKept:name:)``.
    public static func svcca(_ x: CCARepresentation, _ y: CCARepresentation) throws -> SVCCAResult {
        let context = "SVCCA after reduction to \(x.dimensions) and \(y.dimensions) dimensions"
        return SVCCAResult(keptX: x.dimensions, keptY: y.dimensions, cca: try fit(x, y, context: context).result)
    }

    /// PWCCA with weights from `x` (the measure is not symmetric).
    public static func pwcca(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> PWCCAResult {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "PWCCA")
        return try pwcca(CCARepresentation(x, context: "PWCCA"), CCARepresentation(y, context: "PWCCA"))
    }

    /// PWCCA of two prepared representations, with weights from `x`.
    public static func pwcca(_ x: CCARepresentation, _ y: CCARepresentation) throws -> PWCCAResult {
        let f = try fit(x, y, context: "PWCCA")
        let c = f.result.correlations.count
        // Canonical variates H = Q_x U (n × c); αᵢ = Σⱼ |⟨hᵢ, xⱼ⟩| over centred columns xⱼ.
        let h = x.basis.multiplied(by: f.u.leadingColumns(c))
        let projections = h.transposedTimes(x.centered)  // c × p
        var alpha = [Double](repeating: 0, count: c)
        for j in 0..<projections.columns { for i in 0..<c { alpha[i] += Swift.abs(projections[i, j]) } }
        let total = alpha.reduce(0, +)
        let weights = alpha.map { $0 / total }
        let value = zip(weights, f.result.correlations).reduce(0) { $0 + $1.0 * $1.1 }
        return PWCCAResult(similarity: value, weights: weights, correlations: f.result.correlations)
    }

    private struct Fit {
        var result: CCAResult
        /// Left singular vectors of `Q_xᵀQ_y`.
        var u: Matrix<Double>
    }

    private static func fit(_ x: CCARepresentation, _ y: CCARepresentation, context: String) throws -> Fit {
        try AnalysisError.checkSameSamples(x.centered.rows, y.centered.rows, context)
        let c = Swift.min(x.basis.columns, y.basis.columns)
        if c == 0 { throw AnalysisError.constantRepresentation(context: context) }
        let svd = try x.basis.transposedTimes(y.basis).svd()
        guard let u = svd.u else { throw AnalysisError.invalidArgument("\(context): SVD returned no vectors") }
        let rho = svd.singularValues.prefix(c).map { Swift.min(1, $0) }
        return Fit(result: CCAResult(Array(rho)), u: u)
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

/// One representation prepared for CCA: centred, with an orthonormal basis of its column
/// space. Preparing each layer once lets every pair of layers reuse its SVD.
public struct CCARepresentation: Sendable {
    /// The centred samples × features matrix.
    public let centered: Matrix<Double>
    /// Orthonormal basis of the centred columns (`n × rank`).
    public let basis: Matrix<Double>
    /// Columns of `centered` (the kept dimensions, after an SVCCA reduction).
    public var dimensions: Int { centered.columns }

    /// Prepares `x` (samples × features); CCA needs more samples than features.
    public init(_ x: Matrix<Double>, context: String = "CCA") throws {
        if x.rows <= x.columns {
            throw AnalysisError.tooFewSamplesForCCA(samples: x.rows, features: x.columns, context: context)
        }
        centered = x.centeringColumns()
        basis = try CCA.orthonormalBasis(centered, context: context)
    }

    /// SVCCA's first step: `x` reduced to the leading singular directions that explain
    /// `varianceKept` of its variance, then prepared.
    public static func reducing(_ x: Matrix<Double>, varianceKept: Double = 0.99, name: String = "x") throws -> CCARepresentation {
        guard varianceKept > 0 && varianceKept <= 1 else {
            throw AnalysisError.invalidArgument("SVCCA: the variance fraction to keep must be in (0, 1], got \(varianceKept)")
        }
        let reduced = try CCA.reduce(x, keeping: varianceKept, name: name)
        return try CCARepresentation(reduced, context: "SVCCA after reducing \(name) to \(reduced.columns) dimensions")
    }
}

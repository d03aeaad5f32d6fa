import LinearAlgebra

/// How principal components are computed.
public enum PCAMethod: Sendable, Equatable {
    /// All components, from the covariance eigen-decomposition (`dsyevd`'s divide and conquer) when `n ≥ d`,
    /// from the thin SVD of the data (`dgesdd`) when `n < d`.
    case exact
    /// The leading components by randomized SVD (Halko, Martinsson & Tropp 2011):
    /// `oversampling` extra directions and `powerIterations` subspace iterations (nil: 7
    /// when fewer than 10% of the dimensions are asked for, else 4, as scikit-learn does).
    case randomized(oversampling: Int = 10, powerIterations: Int? = nil, seed: UInt64 = 0)
}

/// Principal components of a samples × features matrix.
public struct PCAResult: Sendable {
    /// Feature means that were subtracted.
    public var mean: [Double]
    /// Components as rows (`k × d`), in order of decreasing variance. Signs follow
    /// scikit-learn: each component's largest-magnitude entry is positive.
    public var components: Matrix<Double>
    /// Variance along each component (eigenvalues of the covariance with `n − 1`).
    public var explainedVariance: [Double]
    /// `explainedVariance / totalVariance`.
    public var explainedVarianceRatio: [Double]
    /// Singular values of the centred data, `√((n − 1)·λ)`.
    public var singularValues: [Double]
    /// Total variance `‖X − x̄‖²_F / (n − 1)`.
    public var totalVariance: Double
    /// Effective dimensionality `(Σλ)² / Σλ²` over *all* eigenvalues (nil for randomized
    /// PCA, which does not see them all).
    public var participationRatio: Double?

    /// Projects samples × features data onto the components (`n × k`).
    public func transform(_ x: Matrix<Double>) -> Matrix<Double> {
        var c = x
        c.subtractColumnMeans(mean)
        return c.multiplied(by: components, transposingOther: true)
    }
}

/// Principal component analysis.
///
/// The exact path rests on `dsyevd`'s divide and conquer (n ≥ d) and on `dgesdd` (n < d); the
/// randomized one on `dgeqrf` and `dgesdd`.
public enum PCA {
    /// Fits `components` principal components (nil: all `min(n, d)`) to `x`
    /// (samples × features, at least 2 samples).
    ///
    /// - Throws: ``AnalysisError/constantRepresentation(context:)`` when every feature is
    ///   constant: its explained-variance ratios would be 0/0.
    public static func fit(_ x: Matrix<Double>, components: Int? = nil, method: PCAMethod = .exact) throws -> PCAResult {
        let n = x.rows, d = x.columns
        let k = try componentCount(components, samples: n, features: d)
        let available = Swift.min(n, d)
        if case .exact = method, d <= n {
            // The covariance from blocks of centred rows: no centred copy of the data.
            let mean = x.columnMeans
            let covariance = x.centredGram(means: mean, scale: 1 / Double(n - 1))
            return try fromCovariance(covariance, mean: mean, samples: n, k: k, total: varying(covariance.trace))
        }
        var c = x
        let mean = c.centerColumns()
        switch method {
        case .exact:
            return try wide(c, mean: mean, k: k)
        case let .randomized(oversampling, powerIterations, seed):
            let iterations = powerIterations ?? (Double(k) < 0.1 * Double(available) ? 7 : 4)
            return try randomized(c, mean: mean, k: k, total: try varying(c.frobeniusDot(c) / Double(n - 1)), oversampling: oversampling,
                                  iterations: iterations, seed: seed)
        }
    }

    /// The components asked for (`nil`: all `min(n, d)`), checked against what `n` samples of
    /// `d` features have.
    private static func componentCount(_ components: Int?, samples n: Int, features d: Int) throws -> Int {
        if n < 2 { throw AnalysisError.tooFewSamples(needed: 2, got: n, context: "PCA") }
        let available = Swift.min(n, d)
        let k = components ?? available
        guard k >= 1 && k <= available else {
            throw AnalysisError.invalidArgument("PCA: asked for \(k) components; between 1 and min(samples, features) = \(available) are possible")
        }
        return k
    }

    /// `total`, the total variance of a representation, unless it is zero: every feature constant.
    static func varying(_ total: Double) throws -> Double {
        if total == 0 { throw AnalysisError.constantRepresentation(context: "PCA") }
        return total
    }

    /// The participation ratio of samples × features `x`, from its column-centred Gram
    /// matrix `K = XcXcᵀ` (`n × n`): `tr(K)² / ‖K‖²_F`, which is `(Σλ)² / Σλ²` over the
    /// covariance's eigenvalues without decomposing anything.
    public static func participationRatio(centeredGram k: Matrix<Double>) -> Double {
        var trace = 0.0
        for i in 0..<min(k.rows, k.columns) { trace += k[i, i] }
        let squares = k.frobeniusDot(k)
        return squares > 0 ? trace * trace / squares : 0
    }

    /// `(Σλ)² / Σλ²`: how many dimensions a spectrum effectively uses (1 for a single
    /// direction, `d` for isotropic data).
    public static func participationRatio(_ eigenvalues: [Double]) -> Double {
        let sum = eigenvalues.reduce(0, +)
        let squares = eigenvalues.reduce(0) { $0 + $1 * $1 }
        return squares > 0 ? sum * sum / squares : 0
    }

    /// PCA of a stream of samples from its ``CoMoments``, for data seen a batch at a time or
    /// on several machines: the covariance `M / (n − 1)` decomposed as the exact path
    /// decomposes that of data in memory (divide and conquer), `components` of them (nil: all
    /// `min(n, d)`).
    public static func fit(_ statistics: CoMoments, components: Int? = nil) throws -> PCAResult {
        let n = statistics.samples, d = statistics.width
        let k = try componentCount(components, samples: n, features: d)
        let (covariance, trace) = covarianceAndTrace(statistics)
        return try fromCovariance(covariance, mean: statistics.means, samples: n, k: k, total: varying(trace))
    }

    /// The covariance `M / (n − 1)` of a stream's ``CoMoments`` (at least 2 samples) and its
    /// trace, the total variance.
    private static func covarianceAndTrace(_ statistics: CoMoments) -> (Matrix<Double>, Double) {
        var covariance = statistics.symmetric()
        covariance.scale(by: 1 / Double(statistics.samples - 1))
        return (covariance, covariance.trace)
    }

    /// The variance along every component of `x` (samples × features, at least 2 samples),
    /// descending, without the components: the eigenvalues of the `d × d` covariance, or of
    /// the `n × n` Gram matrix of the centred samples divided by `n − 1` when that is smaller
    /// (the two share their nonzero eigenvalues), by `dsyevr` without eigenvectors; and the
    /// total variance. What a spectrum, its participation ratio and the components needed
    /// for a share of the variance take, at a fraction of ``fit(_:components:method:)``'s cost
    /// on layers wider than their samples.
    public static func spectrum(_ x: Matrix<Double>) throws -> (variances: [Double], total: Double) {
        let n = x.rows, d = x.columns
        if n < 2 { throw AnalysisError.tooFewSamples(needed: 2, got: n, context: "PCA") }
        var c = x
        _ = c.centerColumns()
        let scale = 1 / Double(n - 1)
        let product = d <= n ? c.gram(scale: scale) : c.outerGram(scale: scale)
        let total = try varying(product.trace)
        return (try product.symmetricEigen(vectors: false).values.map { Swift.max(0, $0) }, total)
    }

    /// ``spectrum(_:)`` of a stream of samples, from the covariance of its ``CoMoments``.
    public static func spectrum(_ statistics: CoMoments) throws -> (variances: [Double], total: Double) {
        let n = statistics.samples
        if n < 2 { throw AnalysisError.tooFewSamples(needed: 2, got: n, context: "PCA") }
        let (covariance, trace) = covarianceAndTrace(statistics)
        let total = try varying(trace)
        return (try covariance.symmetricEigen(vectors: false).values.map { Swift.max(0, $0) }, total)
    }

    /// The leading `k` components of a `d × d` covariance of `samples` samples.
    private static func fromCovariance(_ covariance: Matrix<Double>, mean: [Double], samples n: Int, k: Int,
                                       total: Double) throws -> PCAResult {
        let e = try covariance.symmetricEigen()
        let values = e.values.map { Swift.max(0, $0) }
        let components = (e.vectors ?? Matrix(rows: covariance.rows, columns: 0)).transposed()
        return finish(values: values, components: components, mean: mean, samples: n, k: k, total: total)
    }

    /// Exact PCA of centred data with more features than samples; the total variance is
    /// `‖Xc‖²_F / (n − 1)`.
    private static func wide(_ c: Matrix<Double>, mean: [Double], k: Int) throws -> PCAResult {
        let n = c.rows, d = c.columns
        let scale = 1 / Double(n - 1)
        // The thin SVD X = U S Vᵀ gives the components as the rows of Vᵀ without forming the
        // d × d covariance.
        let total = try varying(c.frobeniusDot(c) * scale)
        let svd = try c.svd()
        return finish(values: svd.singularValues.map { $0 * $0 * scale }, components: svd.vt ?? Matrix(rows: 0, columns: d),
                      mean: mean, samples: n, k: k, total: total)
    }

    /// The result from every eigenvalue (descending) and component (rows): the participation
    /// ratio over all of them, the first `k` kept with scikit-learn's signs.
    private static func finish(values allValues: [Double], components allComponents: Matrix<Double>, mean: [Double],
                               samples n: Int, k: Int, total: Double) -> PCAResult {
        let participation = participationRatio(allValues)
        let values = Array(allValues.prefix(k))
        var components = k == allComponents.rows ? allComponents : allComponents.selectingRows(Array(0..<k))
        flipSigns(&components)
        return PCAResult(
            mean: mean, components: components, explainedVariance: values,
            explainedVarianceRatio: values.map { $0 / total },
            singularValues: values.map { ($0 * Double(n - 1)).squareRoot() },
            totalVariance: total, participationRatio: participation)
    }

    private static func randomized(
        _ c: Matrix<Double>, mean: [Double], k: Int, total: Double, oversampling: Int, iterations: Int, seed: UInt64
    ) throws -> PCAResult {
        let n = c.rows, d = c.columns
        let l = Swift.min(k + Swift.max(0, oversampling), Swift.min(n, d))
        var generator = SeededGenerator(seed: seed)
        var omega = Matrix<Double>(rows: d, columns: l)
        for i in omega.storage.indices { omega.storage[i] = generator.nextGaussian() }
        var q = c.multiplied(by: omega).orthonormalQ()
        for _ in 0..<iterations {
            let z = c.multiplied(by: q, transposingSelf: true).orthonormalQ()  // d × l
            q = c.multiplied(by: z).orthonormalQ()
        }
        let b = q.multiplied(by: c, transposingSelf: true)  // l × d
        let svd = try b.svd()
        guard let vt = svd.vt else { throw AnalysisError.invalidArgument("PCA: SVD returned no vectors") }
        let s = Array(svd.singularValues.prefix(k))
        var components = vt.selectingRows(Array(0..<k))
        flipSigns(&components)
        let values = s.map { $0 * $0 / Double(n - 1) }
        return PCAResult(
            mean: mean, components: components, explainedVariance: values,
            explainedVarianceRatio: values.map { $0 / total },
            singularValues: s, totalVariance: total, participationRatio: nil)
    }

    /// Makes the largest-magnitude entry of each component (row) positive (the first such
    /// entry on ties), reading the column-major matrix column by column.
    static func flipSigns(_ components: inout Matrix<Double>) {
        let (rows, columns) = (components.rows, components.columns)
        var largest = [Double](repeating: 0, count: rows)
        components.storage.withUnsafeMutableBufferPointer { p in
            for j in 0..<columns {
                for i in 0..<rows where Swift.abs(p[i + j * rows]) > Swift.abs(largest[i]) { largest[i] = p[i + j * rows] }
            }
            let flip = largest.map { $0 < 0 }
            guard flip.contains(true) else { return }
            for j in 0..<columns {
                for i in 0..<rows where flip[i] { p[i + j * rows] = -p[i + j * rows] }
            }
        }
    }
}

import LinearAlgebra

/// Orthogonal Procrustes comparison of two representations (Ding et al. 2021; Williams
/// et al. 2021).
///
/// Each input (samples × features) is centred and scaled to unit Frobenius norm; then
///
///     ν = ‖XᵀY‖_*  (nuclear norm: the best alignment over orthogonal maps, in [0, 1])
///     d² = min_Q ‖X − YQ‖²_F = 2 − 2ν        (squared Procrustes distance, in [0, 2])
///     θ = arccos ν                            (angular shape distance, in [0, π/2])
///
/// Inputs may differ in width (the narrower is implicitly zero-padded). `d²` and `θ` are
/// distances (0 for identical shapes); `ν` is a similarity (1 for identical shapes).
///
/// The corresponding LAPACK routine is `dgesdd`.
public struct ProcrustesResult: Sendable, Equatable {
    /// `ν = ‖XᵀY‖_*`, a similarity.
    public var nuclearNorm: Double
    /// `2 − 2ν`, a distance.
    public var squaredDistance: Double
    /// `arccos ν`, a distance in radians.
    public var angularDistance: Double
}

public enum Procrustes {
    public static func compare(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> ProcrustesResult {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "Procrustes")
        let a = try HSICTable.centeredUnitNorm(x, name: "x")
        let b = try HSICTable.centeredUnitNorm(y, name: "y")
        let s = try a.transposedTimes(b).svd(vectors: false).singularValues
        let nu = Swift.min(1, s.reduce(0, +))
        return ProcrustesResult(nuclearNorm: nu, squaredDistance: 2 - 2 * nu, angularDistance: _acos(nu))
    }
}

/// The kernel that turns a representation into a similarity between samples.
public enum CKAKernel: Sendable, Equatable, CustomStringConvertible {
    /// `k(x, x') = xᵀx'`.
    case linear
    /// `k(x, x') = exp(−‖x − x'‖² / (2σ²))` with `σ = threshold × √median` of the squared
    /// distances between samples (the full `n × n` matrix, zero diagonal included, as in
    /// Kornblith et al. 2019).
    case rbf(threshold: Double)

    public var description: String {
        switch self {
        case .linear: return "linear"
        case let .rbf(threshold): return "rbf(threshold: \(threshold))"
        }
    }
}

/// Which estimator of HSIC the CKA ratio is built from.
public enum CKAEstimator: String, Sendable, CaseIterable {
    /// `HSIC₀ = tr(KHLH)/(n−1)²` (Gretton et al. 2005), as in Kornblith et al. 2019.
    case biased
    /// The unbiased U-statistic `HSIC₁` of Song et al. (2012), which zeroes the Gram
    /// diagonals; its CKA is "debiased CKA". Needs at least 4 samples.
    case unbiased
}

/// How linear CKA is evaluated. Both forms give the same number to rounding.
public enum CKAForm: String, Sendable, CaseIterable {
    /// The cheaper of the two for the shapes at hand.
    case automatic
    /// Through `n × n` Gram matrices: cost ∝ n²·d.
    case gram
    /// Through `d × d` feature cross-products `XᵀY`: cost ∝ n·d².
    case feature
}

/// The element type the products of CKA run in.
///
/// Float32 products run at twice the rate of float64 ones and agree with them to about
/// 1e-6 on centred, unit-norm layers; the table of HSICs is always assembled in float64.
public enum CKAPrecision: String, Sendable, CaseIterable {
    /// The inputs' own element type.
    case automatic
    /// Single precision, whatever the inputs (float64 inputs are rounded once).
    case float32
    /// Double precision, whatever the inputs.
    case float64
}

/// Everything that selects one member of the CKA family, and how it is evaluated.
public struct CKAOptions: Sendable, Equatable {
    public var kernel: CKAKernel
    public var estimator: CKAEstimator
    /// Ignored for non-linear kernels, which always use the Gram form.
    public var form: CKAForm
    public var precision: CKAPrecision

    public init(kernel: CKAKernel = .linear, estimator: CKAEstimator = .biased, form: CKAForm = .automatic,
                precision: CKAPrecision = .automatic) {
        self.kernel = kernel
        self.estimator = estimator
        self.form = form
        self.precision = precision
    }
}

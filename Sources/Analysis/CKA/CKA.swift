import LinearAlgebra

/// Centred kernel alignment (Kornblith et al. 2019) between two representations of the
/// same samples.
///
///     CKA(K, L) = HSIC(K, L) / √(HSIC(K, K) · HSIC(L, L))
///
/// where `K` and `L` are the Gram matrices of `x` and `y` under ``CKAOptions/kernel``, and
/// HSIC is the biased or unbiased estimator (``CKAEstimator``). Inputs are *samples ×
/// features* and must have the same number of rows (their widths may differ).
///
/// Properties: symmetric; 1 for identical inputs; invariant to orthogonal transforms and
/// isotropic scaling of either input (and to translation); *not* invariant to arbitrary
/// invertible linear maps. With the linear kernel and the biased estimator,
/// `CKA = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)` for centred `X`, `Y`.
///
/// Linear CKA is evaluated in the Gram form (cost ∝ n²d) or the feature form
/// (cost ∝ nd²), whichever is cheaper (``CKAForm``). The corresponding BLAS routine is `?syrk`.
public enum CKA {
    /// CKA between `x` and `y` (samples × features each).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func similarity<S: BLASScalar>(
        _ x: Matrix<S>, _ y: Matrix<S>, options: CKAOptions = CKAOptions()
    ) throws -> Double {
        let table = try HSICTable([x, y], names: ["x", "y"], options: options)
        return table.values[0, 1] / (table.values[0, 0] * table.values[1, 1]).squareRoot()
    }

    /// Linear CKA, biased estimator unless told otherwise.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func linear<S: BLASScalar>(
        _ x: Matrix<S>, _ y: Matrix<S>, estimator: CKAEstimator = .biased, form: CKAForm = .automatic
    ) throws -> Double {
        try similarity(x, y, options: CKAOptions(kernel: .linear, estimator: estimator, form: form))
    }

    /// RBF CKA with `σ = threshold × √median` of squared distances.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func rbf<S: BLASScalar>(
        _ x: Matrix<S>, _ y: Matrix<S>, threshold: Double = 0.5, estimator: CKAEstimator = .biased
    ) throws -> Double {
        try similarity(x, y, options: CKAOptions(kernel: .rbf(threshold: threshold), estimator: estimator))
    }

    /// CKA from two precomputed `n × n` Gram matrices of the same samples.
    public static func fromGrams(_ k: Matrix<Double>, _ l: Matrix<Double>, estimator: CKAEstimator = .biased) throws -> Double {
        try AnalysisError.checkSameSamples(k.rows, l.rows, "CKA from Gram matrices")
        if k.rows < 2 { throw AnalysisError.tooFewSamples(needed: 2, got: k.rows, context: "CKA from Gram matrices") }
        switch estimator {
        case .biased:
            return HSIC.biased(k, l) / (HSIC.biased(k, k) * HSIC.biased(l, l)).squareRoot()
        case .unbiased:
            return try HSIC.unbiased(k, l) / (HSIC.unbiased(k, k) * HSIC.unbiased(l, l)).squareRoot()
        }
    }
}

/// CKA between every pair of layers, with each layer's Gram matrix or feature statistics
/// computed once (the pairwise loop that recomputes them is the slow path of most tools).
///
/// The whole matrix comes from one `syrk` over the stacked layers (feature form) or over the
/// stacked Gram matrices (Gram form); see ``CKA`` for the measure.
public enum CKAMatrix {
    /// `L × L` symmetric CKA matrix of one model's layers (samples × features each).
    ///
    /// Layers handed over (`consume`, or a temporary) may be overwritten in place by the
    /// feature form for a few layers, instead of copied: memory of the layers alone.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func compute<S: BLASScalar>(
        _ layers: consuming [Matrix<S>], names: [String]? = nil, options: CKAOptions = CKAOptions()
    ) throws -> Matrix<Double> {
        let labels = names ?? layers.indices.map { "layer \($0)" }
        return try HSICTable(consume layers, names: labels, options: options).ckaMatrix()
    }

    /// `La × Lb` CKA matrix: rows are the layers of `a`, columns the layers of `b`; layers
    /// handed over may be overwritten, as for ``compute(_:names:options:)``.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func compute<S: BLASScalar>(
        _ a: consuming [Matrix<S>], _ b: consuming [Matrix<S>], namesA: [String]? = nil, namesB: [String]? = nil,
        options: CKAOptions = CKAOptions()
    ) throws -> Matrix<Double> {
        let (countA, countB) = (a.count, b.count)
        let labelsA = namesA ?? (0..<countA).map { "A layer \($0)" }
        let labelsB = namesB ?? (0..<countB).map { "B layer \($0)" }
        var layers = consume a
        layers.append(contentsOf: consume b)
        let full = try HSICTable(consume layers, names: labelsA + labelsB, options: options).ckaMatrix()
        var cross = Matrix<Double>(rows: countA, columns: countB)
        for j in 0..<countB { for i in 0..<countA { cross[i, j] = full[i, countA + j] } }
        return cross
    }

    /// ``compute(_:_:namesA:namesB:options:)`` where a constant layer (every sample the
    /// same, see ``isConstant(_:)``) gets NaN in its row or column instead of stopping the
    /// whole matrix: its similarity with anything is undefined, that of the others is not.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func computeUndefinedForConstant<S: BLASScalar>(
        _ a: [Matrix<S>], _ b: [Matrix<S>], namesA: [String]? = nil, namesB: [String]? = nil,
        options: CKAOptions = CKAOptions()
    ) throws -> Matrix<Double> {
        let keptA = a.indices.filter { !isConstant(a[$0]) }, keptB = b.indices.filter { !isConstant(b[$0]) }
        var cross = Matrix<Double>(rows: a.count, columns: b.count, repeating: .nan)
        guard !keptA.isEmpty, !keptB.isEmpty else { return cross }
        let defined = try compute(keptA.map { a[$0] }, keptB.map { b[$0] },
                                  namesA: namesA.map { names in keptA.map { names[$0] } },
                                  namesB: namesB.map { names in keptB.map { names[$0] } }, options: options)
        for (j, column) in keptB.enumerated() { for (i, row) in keptA.enumerated() { cross[row, column] = defined[i, j] } }
        return cross
    }

    /// ``compute(_:names:options:)`` with NaN in the rows and columns of constant layers,
    /// the diagonal included.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public static func computeUndefinedForConstant<S: BLASScalar>(
        _ layers: [Matrix<S>], names: [String]? = nil, options: CKAOptions = CKAOptions()
    ) throws -> Matrix<Double> {
        let kept = layers.indices.filter { !isConstant(layers[$0]) }
        var full = Matrix<Double>(rows: layers.count, columns: layers.count, repeating: .nan)
        guard !kept.isEmpty else { return full }
        let defined = try compute(kept.map { layers[$0] }, names: names.map { names in kept.map { names[$0] } }, options: options)
        for (j, column) in kept.enumerated() { for (i, row) in kept.enumerated() { full[row, column] = defined[i, j] } }
        return full
    }

    /// Whether every sample (row) of `x` is the same: each feature holds one value. Such a
    /// representation says nothing about the samples, and its CKA with anything is 0 / 0.
    public static func isConstant<S: BLASScalar>(_ x: Matrix<S>) -> Bool {
        x.storage.withUnsafeBufferPointer { p in
            for j in 0..<x.columns {
                let column = j * x.rows
                for i in 1..<max(1, x.rows) where p[column + i] != p[column] { return false }
            }
            return true
        }
    }
}

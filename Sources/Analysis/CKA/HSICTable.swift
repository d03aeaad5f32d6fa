import LinearAlgebra

/// HSIC between every pair of a list of representations of the same samples, with each
/// representation's statistics computed once.
///
/// Two evaluation paths share one design: every layer is centred and scaled to unit
/// Frobenius norm (CKA is invariant to both, and the scaling keeps products far from
/// overflow and underflow whatever the feature scale), then
/// - the *feature* path (linear kernel) stacks the layers side by side, `S = [X₁ … X_L]`,
///   and forms `SᵀS` with one `syrk`; block `(i, j)` is `XᵢᵀXⱼ` and `tr(KᵢKⱼ) = ‖XᵢᵀXⱼ‖²_F`;
/// - the *Gram* path stores each layer's `n × n` Gram (centred for the biased estimator,
///   diagonal zeroed for the unbiased one) as a column of `V` and forms `VᵀV` with one
///   `syrk`, so every `tr(KᵢKⱼ)` costs one pass of a level-3 kernel.
/// The unbiased estimator needs, besides the traces, only per-layer row sums of `K̃`
/// (`−‖xₖ‖²` for centred data on the feature path).
///
/// Entries are on an internal scale: ratios such as CKA are exact, absolute HSIC values are not.
struct HSICTable {
    /// `L × L`, symmetric.
    var values: Matrix<Double>
    /// The path that was used.
    var form: CKAForm

    init<S: BLASScalar>(_ layers: [Matrix<S>], names: [String], options: CKAOptions) throws {
        precondition(layers.count == names.count)
        guard let n = layers.first?.rows else {
            values = Matrix(rows: 0, columns: 0)
            form = .feature
            return
        }
        for (layer, name) in zip(layers, names) {
            try AnalysisError.checkSameSamples(n, layer.rows, "layer '\(name)' against '\(names[0])'")
        }
        let minimum = options.estimator == .unbiased ? 4 : 2
        if n < minimum {
            throw AnalysisError.tooFewSamples(needed: minimum, got: n, context: "\(options.estimator.rawValue) CKA")
        }
        let normalized = try zip(layers, names).map { try Self.centeredUnitNorm($0, name: $1) }
        let form = Self.chooseForm(options, samples: n, widths: layers.map(\.columns))
        self.form = form
        switch form {
        case .feature, .automatic:
            values = Self.featureTable(normalized, estimator: options.estimator)
        case .gram:
            values = Self.gramTable(normalized, kernel: options.kernel, estimator: options.estimator)
        }
    }

    /// The CKA matrix `HSIC(i,j)/√(HSIC(i,i)·HSIC(j,j))`.
    func ckaMatrix() -> Matrix<Double> {
        let l = values.rows
        var cka = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l {
            for i in 0..<l {
                let denominator = (values[i, i] * values[j, j]).squareRoot()
                cka[i, j] = i == j ? 1 : values[i, j] / denominator
            }
        }
        return cka
    }

    static func chooseForm(_ options: CKAOptions, samples n: Int, widths: [Int]) -> CKAForm {
        if case .rbf = options.kernel { return .gram }
        if options.form != .automatic { return options.form }
        let nd = Double(n), total = Double(widths.reduce(0, +)), count = Double(widths.count)
        let featureCost = nd * total * total / 2
        let gramCost = nd * nd * total / 2 + nd * nd * count * (count + 1) / 2
        return featureCost <= gramCost ? .feature : .gram
    }

    static func centeredUnitNorm<S: BLASScalar>(_ x: Matrix<S>, name: String) throws -> Matrix<S> {
        var c = x.centeringColumns()
        let norm = c.frobeniusNorm
        if !norm.isFinite { throw AnalysisError.nonFinite(context: "layer '\(name)'") }
        if norm == 0 || x.columns == 0 { throw AnalysisError.constantRepresentation(context: "layer '\(name)'") }
        c.scale(by: 1 / norm)
        return c
    }

    private static func featureTable<S: BLASScalar>(_ layers: [Matrix<S>], estimator: CKAEstimator) -> Matrix<Double> {
        let n = layers[0].rows
        var offsets = [0]
        for layer in layers { offsets.append(offsets[offsets.count - 1] + layer.columns) }
        var stacked = [S]()
        stacked.reserveCapacity(n * offsets[layers.count])
        for layer in layers { stacked.append(contentsOf: layer.storage) }
        let cross = Matrix(rows: n, columns: offsets[layers.count], columnMajor: stacked).gram()
        let l = layers.count
        var table = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l {
            for i in 0...j {
                var sum = 0.0
                for c in offsets[j]..<offsets[j + 1] {
                    for r in offsets[i]..<offsets[i + 1] {
                        let v = Double(cross[r, c])
                        sum += v * v
                    }
                }
                table[i, j] = sum
                table[j, i] = sum
            }
        }
        switch estimator {
        case .biased:
            return table
        case .unbiased:
            // Centred data: K1 = 0, so K̃1 = −diag(K) = −(‖xₖ‖²)ₖ and 1ᵀK̃1 = −Σₖ‖xₖ‖².
            let norms = layers.map { layer in
                (0..<n).map { k in
                    var s = 0.0
                    for c in 0..<layer.columns { let v = Double(layer[k, c]); s += v * v }
                    return s
                }
            }
            var unbiased = Matrix<Double>(rows: l, columns: l)
            for j in 0..<l {
                for i in 0...j {
                    let dot = zip(norms[i], norms[j]).reduce(0) { $0 + $1.0 * $1.1 }
                    let value = HSIC.unbiasedFromTerms(
                        trace: table[i, j] - dot, sumK: -norms[i].reduce(0, +), sumL: -norms[j].reduce(0, +),
                        rowSumsDot: dot, n: n)
                    unbiased[i, j] = value
                    unbiased[j, i] = value
                }
            }
            return unbiased
        }
    }

    private static func gramTable<S: BLASScalar>(
        _ layers: [Matrix<S>], kernel: CKAKernel, estimator: CKAEstimator
    ) -> Matrix<Double> {
        let n = layers[0].rows
        let l = layers.count
        var stacked = [Double]()
        stacked.reserveCapacity(n * n * l)
        var rowSums = [[Double]]()
        for layer in layers {
            let gram = layer.outerGram()
            var k: Matrix<Double> = (gram as? Matrix<Double>) ?? gram.converted()
            if case let .rbf(threshold) = kernel {
                k = KernelMatrix.rbf(squaredDistances: KernelMatrix.squaredDistances(gram: k), threshold: threshold)
            }
            switch estimator {
            case .biased:
                if kernel != .linear { k.doubleCenter() }  // a linear Gram of centred data is centred
            case .unbiased:
                k = HSIC.zeroingDiagonal(k)
                rowSums.append(k.rowSums)
            }
            stacked.append(contentsOf: k.storage)
        }
        let traces = Matrix(rows: n * n, columns: l, columnMajor: stacked).gram()
        guard estimator == .unbiased else { return traces }
        var table = Matrix<Double>(rows: l, columns: l)
        let sums = rowSums.map { $0.reduce(0, +) }
        for j in 0..<l {
            for i in 0...j {
                let dot = zip(rowSums[i], rowSums[j]).reduce(0) { $0 + $1.0 * $1.1 }
                let value = HSIC.unbiasedFromTerms(trace: traces[i, j], sumK: sums[i], sumL: sums[j], rowSumsDot: dot, n: n)
                table[i, j] = value
                table[j, i] = value
            }
        }
        return table
    }
}

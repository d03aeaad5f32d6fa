import LinearAlgebra

extension PCA {
    /// The leading `components` principal components of samples seen a block at a time whose
    /// `d × d` covariance is too large to keep: a randomized sketch (subspace iteration on the
    /// covariance, Halko, Martinsson & Tropp 2011) in `d × (k + oversampling)` numbers.
    ///
    /// `pass` hands every block (samples × `width` features) to its argument, once per pass:
    /// the means; `Y = C·Ω` for a Gaussian `Ω`; `powerIterations` products `Y = C·Q` with `Q`
    /// the orthonormalised previous `Y`; and a last `C·Q` whose Rayleigh–Ritz projection
    /// `QᵀCQ` gives the variances and components. Every product is formed from the blocks
    /// centred on the means, so no digit is lost to a large mean. The leading variances of a
    /// spectrum that decays are exact to rounding; the participation ratio needs every
    /// eigenvalue and is absent.
    ///
    /// - Throws: ``AnalysisError`` below two samples, for more components than the width, or
    ///   for blocks of another width or a NaN.
    public static func sketch(width d: Int, components k: Int, oversampling: Int = 10, powerIterations: Int = 4, seed: UInt64 = 0,
                              pass: ((Matrix<Double>) throws -> Void) throws -> Void) throws -> PCAResult {
        guard k >= 1, k <= d else { throw AnalysisError.invalidArgument("PCA sketch: \(k) components of \(d) features") }
        func check(_ block: Matrix<Double>) throws {
            guard block.columns == d else { throw AnalysisError.invalidArgument("PCA sketch: a block of \(block.columns) features, expected \(d)") }
            guard block.storage.allSatisfy(\.isFinite) else { throw AnalysisError.nonFinite(context: "PCA sketch") }
        }
        var n = 0
        var sums = [Double](repeating: 0, count: d)
        try pass { block in
            try check(block)
            n += block.rows
            for j in 0..<d { for i in 0..<block.rows { sums[j] += block[i, j] } }
        }
        let l = Swift.min(k + Swift.max(0, oversampling), d, Swift.max(n, 1))
        guard n >= 2 else { throw AnalysisError.tooFewSamples(needed: 2, got: n, context: "PCA sketch") }
        guard k <= l else { throw AnalysisError.invalidArgument("PCA sketch: \(k) components of \(n) samples") }
        let mean = sums.map { $0 / Double(n) }
        var total = 0.0
        /// `C·B` (unscaled: the centred co-moments times `B`) over one pass.
        func product(_ b: Matrix<Double>, summingSquares: Bool = false) throws -> Matrix<Double> {
            var y = Matrix<Double>(rows: d, columns: b.columns)
            try pass { block in
                try check(block)
                var centred = block
                centred.subtractColumnMeans(mean)
                if summingSquares { total += centred.frobeniusDot(centred) }
                y = y + centred.multiplied(by: centred.multiplied(by: b), transposingSelf: true)
            }
            return y
        }
        var generator = SeededGenerator(seed: seed)
        var omega = Matrix<Double>(rows: d, columns: l)
        for i in omega.storage.indices { omega.storage[i] = generator.nextGaussian() }
        var y = try product(omega, summingSquares: true)
        for _ in 0..<Swift.max(0, powerIterations) { y = try product(y.orthonormalQ()) }
        let q = y.orthonormalQ()
        let projected = q.transposedTimes(try product(q))  // QᵀCQ, l × l
        let eigen = try projected.symmetricEigen()
        guard let vectors = eigen.vectors else { throw AnalysisError.invalidArgument("PCA sketch: no eigenvectors") }
        var components = q.multiplied(by: vectors.selectingColumns(Array(0..<k))).transposed()
        flipSigns(&components)
        let scale = 1 / Double(n - 1)
        let values = eigen.values.prefix(k).map { Swift.max(0, $0) * scale }
        let variance = try varying(total * scale)
        return PCAResult(mean: mean, components: components, explainedVariance: values,
                         explainedVarianceRatio: values.map { $0 / variance },
                         singularValues: values.map { ($0 * Double(n - 1)).squareRoot() }, totalVariance: variance, participationRatio: nil)
    }
}

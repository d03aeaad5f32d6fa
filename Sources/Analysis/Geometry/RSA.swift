import LinearAlgebra

/// How a representational dissimilarity matrix measures the distance between two samples.
public enum RDMMetric: String, Sendable, CaseIterable {
    /// `1 − Pearson r` between the two samples' feature vectors.
    case correlation
    /// Euclidean distance between the feature vectors.
    case euclidean
}

/// How two RDMs are compared.
public enum RDMComparison: String, Sendable, CaseIterable {
    /// Spearman rank correlation (ties get average ranks), the usual choice in RSA.
    case spearman
    /// Pearson correlation of the dissimilarities.
    case pearson
}

/// Representational similarity analysis (Kriegeskorte et al. 2008).
///
/// Each representation (samples × features) becomes an `n × n` representational
/// dissimilarity matrix; the RSA score correlates the two upper triangles (diagonal
/// excluded, `n(n−1)/2` values each).
public enum RSA {
    /// The RDM of `x` as its condensed upper triangle, in the order of SciPy's `pdist`
    /// (`(0,1), (0,2), …, (0,n−1), (1,2), …`).
    public static func dissimilarities(_ x: Matrix<Double>, metric: RDMMetric) throws -> [Double] {
        let n = x.rows
        var condensed = [Double]()
        condensed.reserveCapacity(n * (n - 1) / 2)
        switch metric {
        case .correlation:
            // Rows centred and scaled to unit norm: the Gram matrix holds Pearson r.
            var z = x.transposed()  // features × samples: each sample is a column
            for i in 0..<n {
                var mean = 0.0
                for f in 0..<z.rows { mean += z[f, i] }
                mean /= Double(z.rows)
                var norm = 0.0
                for f in 0..<z.rows { z[f, i] -= mean; norm += z[f, i] * z[f, i] }
                norm = norm.squareRoot()
                if norm == 0 {
                    throw AnalysisError.constantRepresentation(context: "RSA (correlation RDM): sample \(i) has identical values in every feature")
                }
                for f in 0..<z.rows { z[f, i] /= norm }
            }
            let r = z.gram()
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { condensed.append(1 - r[i, j]) } }
        case .euclidean:
            let d = KernelMatrix.squaredDistances(x)
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { condensed.append(d[i, j].squareRoot()) } }
        }
        return condensed
    }

    /// The RSA score of `x` and `y` (samples × features each, same samples).
    public static func compare(
        _ x: Matrix<Double>, _ y: Matrix<Double>, metric: RDMMetric = .correlation, comparison: RDMComparison = .spearman
    ) throws -> Double {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "RSA")
        if x.rows < 3 { throw AnalysisError.tooFewSamples(needed: 3, got: x.rows, context: "RSA") }
        let a = try dissimilarities(x, metric: metric)
        let b = try dissimilarities(y, metric: metric)
        switch comparison {
        case .pearson: return Correlation.pearson(a, b)
        case .spearman: return Correlation.spearman(a, b)
        }
    }
}

/// Correlation coefficients of two equal-length samples.
public enum Correlation {
    /// Pearson's r (NaN when either sample is constant).
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "lengths differ")
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db
            saa += da * da
            sbb += db * db
        }
        return sab / (saa * sbb).squareRoot()
    }

    /// Spearman's ρ: Pearson's r of the ranks, tied values sharing their average rank.
    public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        pearson(ranks(a), ranks(b))
    }

    /// 1-based ranks with ties averaged (SciPy's `rankdata(method="average")`).
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var result = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for k in start...end { result[order[k]] = rank }
            start = end + 1
        }
        return result
    }
}

import LinearAlgebra

/// The best match of one layer of model A among the layers of model B.
public struct LayerCorrespondence: Sendable, Codable, Equatable {
    public var layer: String
    public var bestMatch: String
    public var similarity: Double
    public var runnerUp: String?
    public var runnerUpSimilarity: Double?
    /// Bootstrap percentile interval of the best match's CKA, when computed.
    public var interval: BootstrapInterval?

    /// For each row of `values` (layers of A, named `rows`), the column (layer of B, named
    /// `columns`) with the highest value; `excludingDiagonal` skips entry `(i, i)`, for a
    /// model compared with itself. Values that are not finite are never a match; a row
    /// without any has no entry.
    public static func bestMatches(_ values: [[Double]], rows: [String], columns: [String],
                                   excludingDiagonal: Bool = false) -> [LayerCorrespondence] {
        zip(rows, values).enumerated().compactMap { i, pair in
            let (label, row) = pair
            let order = row.indices.filter { (!excludingDiagonal || $0 != i) && row[$0].isFinite }
                .sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            guard let best = order.first else { return nil }  // nothing to match against
            let second = order.count > 1 ? order[1] : nil
            return LayerCorrespondence(
                layer: label, bestMatch: columns[best], similarity: row[best],
                runnerUp: second.map { columns[$0] }, runnerUpSimilarity: second.map { row[$0] }, interval: nil)
        }
    }
}

extension LayerCorrespondence {
    /// ``bestMatches(_:rows:columns:excludingDiagonal:)`` with a bootstrap interval of each
    /// best match's CKA (the member of the family that `cka` selects, the one `values`
    /// holds), resampling the rows of `a[i]` and `b[j]` (samples × features, the layers of the
    /// rows and columns).
    public static func bestMatchesWithIntervals(
        _ values: [[Double]], rows: [String], columns: [String], a: [Matrix<Double>], b: [Matrix<Double>],
        cka: CKAOptions, resamples: Int, confidence: Double = 0.95, seed: UInt64, excludingDiagonal: Bool = false
    ) throws -> [LayerCorrespondence] {
        var matches = bestMatches(values, rows: rows, columns: columns, excludingDiagonal: excludingDiagonal)
        for (k, match) in matches.enumerated() {
            guard let i = rows.firstIndex(of: match.layer), let j = columns.firstIndex(of: match.bestMatch) else { continue }
            matches[k].interval = try CKAResampling.bootstrap(
                a[i], b[j], kernel: cka.kernel, estimator: cka.estimator, resamples: resamples, confidence: confidence, seed: seed)
        }
        return matches
    }
}

import Analysis
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

    /// For each row of `matrix` (layers of A), the column (layer of B) with the highest value;
    /// `excludingDiagonal` skips entry `(i, i)`, for a model compared with itself. Values
    /// that are not finite are never a match; a row without any has no entry.
    public static func bestMatches(_ matrix: LabelledMatrix, excludingDiagonal: Bool = false) -> [LayerCorrespondence] {
        zip(matrix.rowLabels, matrix.values).enumerated().compactMap { i, pair in
            let (label, row) = pair
            let order = row.indices.filter { (!excludingDiagonal || $0 != i) && row[$0].isFinite }
                .sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            guard let best = order.first else { return nil }  // nothing to match against
            let second = order.count > 1 ? order[1] : nil
            return LayerCorrespondence(
                layer: label, bestMatch: matrix.columnLabels[best], similarity: row[best],
                runnerUp: second.map { matrix.columnLabels[$0] }, runnerUpSimilarity: second.map { row[$0] }, interval: nil)
        }
    }
}

extension LayerCorrespondence {
    /// ``bestMatches(_:excludingDiagonal:)`` with a bootstrap interval of each best match's
    /// CKA (the member of the family that `cka` selects, the one `matrix` holds),
    /// resampling the rows of `a[i]` and `b[j]` (samples × features, the layers of
    /// `matrix`'s rows and columns).
    public static func bestMatchesWithIntervals(
        _ matrix: LabelledMatrix, a: [Matrix<Double>], b: [Matrix<Double>], cka: CKAOptions, resamples: Int,
        confidence: Double = 0.95, seed: UInt64, excludingDiagonal: Bool = false
    ) throws -> [LayerCorrespondence] {
        var matches = bestMatches(matrix, excludingDiagonal: excludingDiagonal)
        for (k, match) in matches.enumerated() {
            guard let i = matrix.rowLabels.firstIndex(of: match.layer), let j = matrix.columnLabels.firstIndex(of: match.bestMatch) else { continue }
            matches[k].interval = try CKAResampling.bootstrap(
                a[i], b[j], kernel: cka.kernel, estimator: cka.estimator, resamples: resamples, confidence: confidence, seed: seed)
        }
        return matches
    }
}

/// A Markdown summary of a CKA comparison between two sets of layers.
public struct CKAComparisonSummary: Sendable {
    public var title: String
    /// Lines of context shown under the title (data, settings).
    public var description: [String]
    public var measure: String
    public var matrix: LabelledMatrix
    public var correspondences: [LayerCorrespondence]
    /// Further per-layer tables, e.g. participation ratios, with optional decimals per column.
    public var extraTables: [(heading: String, table: LabelledMatrix, decimals: [Int]?)]

    public init(
        title: String, description: [String], measure: String, matrix: LabelledMatrix,
        correspondences: [LayerCorrespondence], extraTables: [(heading: String, table: LabelledMatrix, decimals: [Int]?)] = []
    ) {
        self.title = title
        self.description = description
        self.measure = measure
        self.matrix = matrix
        self.correspondences = correspondences
        self.extraTables = extraTables
    }

    public func markdown() -> String {
        var out = "# \(title)\n\n"
        for line in description { out += "- \(line)\n" }
        out += "\n## \(measure): layers of A (rows) against layers of B (columns)\n\n"
        out += "The largest value in each row is in bold.\n\n"
        out += matrix.markdown(markRowMaximum: true)
        out += "\n## Best match of each layer of A in B\n\n"
        out += "| layer of A | best match in B | CKA | 95% bootstrap interval | runner-up | CKA |\n"
        out += "|---|---|---:|---|---|---:|\n"
        for c in correspondences {
            let interval = c.interval.map { "[\(NumberFormat.fixed($0.lower, decimals: 4)), \(NumberFormat.fixed($0.upper, decimals: 4))]" } ?? "–"
            out += "| \(Markdown.escape(c.layer)) | \(Markdown.escape(c.bestMatch)) | \(NumberFormat.fixed(c.similarity, decimals: 4)) | \(interval) | "
            out += "\(c.runnerUp.map(Markdown.escape) ?? "–") | \(c.runnerUpSimilarity.map { NumberFormat.fixed($0, decimals: 4) } ?? "–") |\n"
        }
        for extra in extraTables {
            out += "\n## \(extra.heading)\n\n"
            out += extra.table.markdown(decimals: 3, decimalsByColumn: extra.decimals)
        }
        return out
    }
}

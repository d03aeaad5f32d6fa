import LinearAlgebra

/// Linear CKA (biased HSIC, Kornblith et al. 2019) of every pair of layers over any number of
/// samples fed in batches: the matrix ``CKAMatrix`` computes from the whole data in memory,
/// from sufficient statistics whose size depends on the layers' widths, not on the number of
/// samples.
///
/// The statistics are the sample count, the mean of every feature and the co-moment matrix
///
///     M = Σₖ (zₖ − z̄)(zₖ − z̄)ᵀ
///
/// of all layers' features side by side (`z = [x₁ … x_L]`, width `D = Σ dᵢ`). Block `(i, j)`
/// of `M` is the centred `XᵢᵀXⱼ`, so
///
///     CKA(i, j) = ‖M_ij‖²_F / (‖M_ii‖_F · ‖M_jj‖_F).
///
/// They are ``CoMoments``, which batches and shards join exactly (Chan's pairwise
/// update).
///
/// Memory is `D²` doubles (twelve layers of width 512: 300 MB), so this suits layers reduced
/// to moderate widths (`mean`, `project:K`); ``MinibatchCKA`` needs only `L²` numbers but
/// estimates a different quantity (the average of per-batch unbiased HSICs). A layer that is
/// constant over the samples has CKA NaN (0/0) with everything.
public struct StreamingCKA: Sendable, Equatable {
    /// Layer names, in the order batches supply them.
    public let layerNames: [String]
    /// Each layer's width.
    public let widths: [Int]
    /// The features of all layers side by side.
    public private(set) var statistics: CoMoments
    /// Samples seen so far.
    public var samples: Int { statistics.samples }

    public init(layerNames: [String], widths: [Int]) throws {
        try Self.check(layerNames: layerNames, widths: widths)
        self.layerNames = layerNames
        self.widths = widths
        statistics = CoMoments(width: widths.reduce(0, +))
    }

    private static func check(layerNames: [String], widths: [Int]) throws {
        guard layerNames.count == widths.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw AnalysisError.invalidArgument("streaming CKA: every layer needs a name and a width of at least 1 (got \(widths) for \(layerNames.count) names)")
        }
    }

    /// Statistics saved before, of layers `layerNames` with `widths` side by side.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` when the widths do not add up to the
    ///   statistics' width.
    public init(layerNames: [String], widths: [Int], statistics: CoMoments) throws {
        try Self.check(layerNames: layerNames, widths: widths)
        guard statistics.width == widths.reduce(0, +) else {
            throw AnalysisError.invalidArgument("streaming CKA: layer widths \(widths.prefix(8)) add up to \(widths.reduce(0, +)), the statistics have \(statistics.width) features")
        }
        self.layerNames = layerNames
        self.widths = widths
        self.statistics = statistics
    }

    /// The offset of each layer's first feature in `z`.
    private var offsets: [Int] { widths.indices.map { widths.prefix($0).reduce(0, +) } }

    /// Adds one batch: a samples × features matrix per layer, all with the same rows.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` for a batch of other layers, widths or
    ///   row counts, ``AnalysisError/nonFinite(context:)`` naming the layer with a NaN or ∞.
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public mutating func update<S: BLASScalar>(_ batch: [Matrix<S>]) throws {
        guard batch.count == layerNames.count else {
            throw AnalysisError.invalidArgument(
                "streaming CKA: got \(batch.count) layers in a batch, expected \(layerNames.count) (\(layerNames.joined(separator: ", ")))")
        }
        let rows = batch.first?.rows ?? 0
        for (k, layer) in batch.enumerated() {
            guard layer.rows == rows, layer.columns == widths[k] else {
                throw AnalysisError.invalidArgument(
                    "streaming CKA: layer '\(layerNames[k])' is \(layer.rows) × \(layer.columns) in this batch, expected \(rows) × \(widths[k])")
            }
        }
        // Feature f of the stacked vector is column f − start of the layer that holds it.
        let starts = offsets
        let layerOf = widths.indices.flatMap { k in Array(repeating: k, count: widths[k]) }
        let bad = statistics.add(rows: rows) { f, column in
            let k = layerOf[f], j = f - starts[k]
            return batch[k].storage.withUnsafeBufferPointer { x in
                var finite = true
                for i in 0..<rows {
                    let value = Double(x[j * rows + i])
                    column[i] = value
                    finite = finite && value.isFinite
                }
                return finite
            }
        }
        if let bad { throw AnalysisError.nonFinite(context: "streaming CKA: layer '\(layerNames[layerOf[bad]])'") }
    }

    /// Adds the statistics of another accumulator over the same layers (other samples).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` naming the difference when the layers
    ///   or their widths differ.
    public mutating func merge(_ other: StreamingCKA) throws {
        guard other.layerNames == layerNames else {
            throw AnalysisError.invalidArgument(
                "streaming CKA: cannot merge accumulators over different layers (\(layerNames.joined(separator: ", ")) and \(other.layerNames.joined(separator: ", ")))")
        }
        guard other.widths == widths else {
            throw AnalysisError.invalidArgument("streaming CKA: cannot merge accumulators of layer widths \(widths) and \(other.widths)")
        }
        statistics.merge(other.statistics)
    }

    /// The `L × L` CKA matrix of the samples seen (NaN for a constant layer).
    ///
    /// - Throws: ``AnalysisError/tooFewSamples(needed:got:context:)`` below 2 samples.
    public func cka() throws -> Matrix<Double> {
        guard samples >= 2 else { throw AnalysisError.tooFewSamples(needed: 2, got: samples, context: "streaming CKA") }
        let l = layerNames.count, total = statistics.width
        let starts = offsets
        // ‖M_ij‖²_F for every pair, from the upper triangle (the diagonal blocks are
        // symmetric: their strict upper part counts twice).
        var squared = Matrix<Double>(rows: l, columns: l)
        statistics.upper.storage.withUnsafeBufferPointer { m in
            for b in 0..<l {
                for a in 0...b {
                    var sum = 0.0
                    for j in starts[b]..<(starts[b] + widths[b]) {
                        let rowsOfA = a == b ? starts[a]...j : starts[a]...(starts[a] + widths[a] - 1)
                        for i in rowsOfA {
                            let value = m[i + j * total]
                            sum += (a == b && i != j ? 2 : 1) * value * value
                        }
                    }
                    squared[a, b] = sum
                    squared[b, a] = sum
                }
            }
        }
        var result = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l {
            for i in 0..<l {
                result[i, j] = squared[i, j] / (squared[i, i] * squared[j, j]).squareRoot()
            }
        }
        return result
    }
}

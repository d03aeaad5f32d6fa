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
/// Memory is `D²/2` doubles for every pair of layers (twelve layers of width 512: 150 MB).
/// For the layers of one network against another's (``init(layerNames:widths:rowLayers:)``)
/// only the blocks that table reads are kept, each layer's own `dᵢ × dᵢ` and the `D_A × D_B`
/// cross block, about a quarter of that for two networks alike (two ResNet-50s, 50 layers
/// reduced by `mean`: 4.5 GB instead of 18 GB). This suits layers reduced to moderate widths
/// (`mean`, `project:K`); ``MinibatchCKA`` needs only `L²` numbers but estimates a different
/// quantity (the average of per-batch unbiased HSICs). A layer that is constant over the
/// samples has CKA NaN (0/0) with everything.
public struct StreamingCKA: Sendable, Equatable {
    /// Layer names, in the order batches supply them.
    public let layerNames: [String]
    /// Each layer's width.
    public let widths: [Int]
    /// The layers of the table's rows: all of them, or the first ones against the rest.
    public let rowLayers: Range<Int>
    /// The layers of the table's columns.
    public let columnLayers: Range<Int>
    /// The features of all layers side by side (only the blocks the table reads).
    public private(set) var statistics: CoMoments
    /// Samples seen so far.
    public var samples: Int { statistics.samples }

    /// Every layer against every layer.
    public init(layerNames: [String], widths: [Int]) throws {
        try self.init(layerNames: layerNames, widths: widths, rowLayers: nil)
    }

    /// The first `rowLayers` layers (one network's) against the others (another's), or,
    /// with `nil`, every layer against every layer.
    public init(layerNames: [String], widths: [Int], rowLayers: Int?) throws {
        try Self.check(layerNames: layerNames, widths: widths, rowLayers: rowLayers)
        self.layerNames = layerNames
        self.widths = widths
        (self.rowLayers, columnLayers) = Self.split(layers: widths.count, rowLayers: rowLayers)
        statistics = CoMoments(width: widths.reduce(0, +), blocks: Self.blocks(widths: widths, rowLayers: rowLayers))
    }

    /// Statistics saved before, of layers `layerNames` with `widths` side by side, the first
    /// `rowLayers` against the rest (`nil`: all against all).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` when the widths or blocks are not
    ///   those of the statistics.
    public init(layerNames: [String], widths: [Int], rowLayers: Int?, statistics: CoMoments) throws {
        try Self.check(layerNames: layerNames, widths: widths, rowLayers: rowLayers)
        guard statistics.width == widths.reduce(0, +), statistics.blocks == Self.blocks(widths: widths, rowLayers: rowLayers) else {
            throw AnalysisError.invalidArgument("streaming CKA: layer widths \(widths.prefix(8)) add up to \(widths.reduce(0, +)), "
                                                + "the statistics have \(statistics.width) features in other blocks")
        }
        self.layerNames = layerNames
        self.widths = widths
        (self.rowLayers, columnLayers) = Self.split(layers: widths.count, rowLayers: rowLayers)
        self.statistics = statistics
    }

    private static func check(layerNames: [String], widths: [Int], rowLayers: Int?) throws {
        guard layerNames.count == widths.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw AnalysisError.invalidArgument("streaming CKA: every layer needs a name and a width of at least 1 (got \(widths) for \(layerNames.count) names)")
        }
        if let rowLayers, !(1..<widths.count).contains(rowLayers) {
            throw AnalysisError.invalidArgument("streaming CKA: \(rowLayers) row layers of \(widths.count) leave no rows or no columns")
        }
    }

    private static func split(layers: Int, rowLayers: Int?) -> (Range<Int>, Range<Int>) {
        guard let rowLayers else { return (0..<layers, 0..<layers) }
        return (0..<rowLayers, rowLayers..<layers)
    }

    /// The blocks of the co-moments the table reads: all of them for all pairs; else each
    /// layer's own, then the row layers' features against the column layers'.
    public static func blocks(widths: [Int], rowLayers: Int?) -> [CoMoments.Block] {
        let total = widths.reduce(0, +)
        guard let rowLayers else { return [CoMoments.Block(rows: 0..<total, columns: 0..<total)] }
        var start = 0
        var blocks: [CoMoments.Block] = []
        for width in widths {
            blocks.append(CoMoments.Block(rows: start..<(start + width), columns: start..<(start + width)))
            start += width
        }
        let split = widths.prefix(rowLayers).reduce(0, +)
        blocks.append(CoMoments.Block(rows: 0..<split, columns: split..<total))
        return blocks
    }

    /// Bytes the statistics of layers of `widths` take (the first `rowLayers` against the
    /// rest, or all pairs), or `nil` beyond any machine.
    public static func bytes(widths: [Int], rowLayers: Int?) -> Int? {
        var total = 0
        for block in blocks(widths: widths, rowLayers: rowLayers) {
            let (cells, o1) = block.rows.count.multipliedReportingOverflow(by: block.columns.count)
            let (sum, o2) = total.addingReportingOverflow(cells)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        let (bytes, overflow) = total.multipliedReportingOverflow(by: MemoryLayout<Double>.size)
        return overflow ? nil : bytes
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

    /// The statistics of layer `k` alone (its features' means and co-moments), which every
    /// layout keeps: what its PCA needs.
    public func layerMoments(_ k: Int) -> CoMoments {
        let start = offsets[k]
        guard let moments = statistics.selecting(features: start..<(start + widths[k])) else {
            preconditionFailure("every layout keeps each layer's own co-moments")
        }
        return moments
    }

    /// From statistics of every pair of layers, those of the first `rowLayers` against the
    /// rest: the blocks such a table reads, the same values.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` for statistics that are not of every
    ///   pair, or `rowLayers` that leave no rows or no columns.
    public func keepingTable(rowLayers: Int) throws -> StreamingCKA {
        guard self.rowLayers == columnLayers else {
            throw AnalysisError.invalidArgument("streaming CKA: only statistics of every pair of layers can be cut down to a table")
        }
        guard let moments = statistics.keeping(Self.blocks(widths: widths, rowLayers: rowLayers)) else {
            preconditionFailure("statistics of every pair hold every block")
        }
        return try StreamingCKA(layerNames: layerNames, widths: widths, rowLayers: rowLayers, statistics: moments)
    }

    /// Adds the statistics of another accumulator over the same layers (other samples).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` naming the difference when the layers
    ///   or their widths differ.
    public mutating func merge(_ other: StreamingCKA) throws {
        guard other.layerNames == layerNames, other.rowLayers == rowLayers else {
            throw AnalysisError.invalidArgument(
                "streaming CKA: cannot merge accumulators over different layers (\(layerNames.joined(separator: ", ")) and \(other.layerNames.joined(separator: ", ")))")
        }
        guard other.widths == widths, other.statistics.blocks == statistics.blocks else {
            throw AnalysisError.invalidArgument("streaming CKA: cannot merge accumulators of layer widths \(widths) and \(other.widths)")
        }
        statistics.merge(other.statistics)
    }

    /// The CKA matrix of the samples seen, ``rowLayers`` × ``columnLayers`` (`L × L` for all
    /// pairs; NaN for a constant layer).
    ///
    /// - Throws: ``AnalysisError/tooFewSamples(needed:got:context:)`` below 2 samples.
    public func cka() throws -> Matrix<Double> {
        guard samples >= 2 else { throw AnalysisError.tooFewSamples(needed: 2, got: samples, context: "streaming CKA") }
        let starts = offsets
        let l = widths.count
        /// ‖M_ab‖²_F of layers a and b that block `k` holds; a symmetric block's strict upper
        /// part counts twice for a diagonal pair.
        func squaredNorm(_ a: Int, _ b: Int, in k: Int) -> Double {
            let block = statistics.blocks[k]
            let rows = (starts[a] - block.rows.lowerBound)..<(starts[a] - block.rows.lowerBound + widths[a])
            let columns = (starts[b] - block.columns.lowerBound)..<(starts[b] - block.columns.lowerBound + widths[b])
            let ld = block.rows.count
            return statistics.values[k].storage.withUnsafeBufferPointer { m in
                var sum = 0.0
                for j in columns {
                    let diagonal = block.isSymmetric && a == b
                    for i in rows where !diagonal || i <= j {
                        let value = m[i + j * ld]
                        sum += (diagonal && i != j ? 2 : 1) * value * value
                    }
                }
                return sum
            }
        }
        var own = [Double](repeating: 0, count: l)
        var result = Matrix<Double>(rows: rowLayers.count, columns: columnLayers.count)
        if rowLayers == columnLayers {
            // All pairs from the one symmetric block (a ≤ b: its upper triangle).
            var squared = Matrix<Double>(rows: l, columns: l)
            for b in 0..<l {
                for a in 0...b {
                    squared[a, b] = squaredNorm(a, b, in: 0)
                    squared[b, a] = squared[a, b]
                }
            }
            for a in 0..<l { own[a] = squared[a, a] }
            for j in 0..<l { for i in 0..<l { result[i, j] = squared[i, j] / (own[i] * own[j]).squareRoot() } }
        } else {
            for a in 0..<l { own[a] = squaredNorm(a, a, in: a) }
            let cross = l
            for (j, b) in columnLayers.enumerated() {
                for (i, a) in rowLayers.enumerated() {
                    result[i, j] = squaredNorm(a, b, in: cross) / (own[a] * own[b]).squareRoot()
                }
            }
        }
        return result
    }
}

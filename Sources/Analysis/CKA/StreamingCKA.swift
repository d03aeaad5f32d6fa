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
/// A batch, or another accumulator, joins by the pairwise update of Chan, Golub & LeVeque
/// (1979),
///
///     M = M_a + M_b + (n_a n_b / n) · (z̄_b − z̄_a)(z̄_b − z̄_a)ᵀ,
///
/// in which nothing large is subtracted: the textbook `Σ zzᵀ − n z̄z̄ᵀ` loses every digit
/// that the features' mean shares with their spread. A batch's own co-moments come from its
/// rows centred on the batch mean, with one `syrk` that adds them straight into `M`.
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
    /// Samples seen so far.
    public private(set) var samples = 0
    /// The mean of every feature (`D`), layers side by side.
    private(set) var means: [Double]
    /// `M`, `D × D`; only the upper triangle is kept up to date.
    private(set) var comoments: Matrix<Double>

    public init(layerNames: [String], widths: [Int]) throws {
        guard layerNames.count == widths.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw AnalysisError.invalidArgument("streaming CKA: every layer needs a name and a width of at least 1 (got \(widths) for \(layerNames.count) names)")
        }
        let total = widths.reduce(0, +)
        self.layerNames = layerNames
        self.widths = widths
        means = [Double](repeating: 0, count: total)
        comoments = Matrix(rows: total, columns: total)
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
        guard rows > 0 else { return }
        // The batch's rows centred on its own mean, layers side by side (column-major).
        let total = means.count, starts = offsets
        var centred = [Double](repeating: 0, count: rows * total)
        var batchMeans = [Double](repeating: 0, count: total)
        for (k, layer) in batch.enumerated() {
            try layer.storage.withUnsafeBufferPointer { x in
                for j in 0..<layer.columns {
                    let column = j * rows, target = (starts[k] + j) * rows
                    var sum = 0.0
                    for i in 0..<rows { sum += Double(x[column + i]) }
                    guard sum.isFinite else { throw AnalysisError.nonFinite(context: "streaming CKA: layer '\(layerNames[k])'") }
                    let mean = sum / Double(rows)
                    batchMeans[starts[k] + j] = mean
                    for i in 0..<rows { centred[target + i] = Double(x[column + i]) - mean }
                }
            }
        }
        join(count: rows, means: batchMeans) { m in
            centred.withUnsafeBufferPointer { z in
                Double._syrk(trans: true, n: total, k: rows, alpha: 1, a: z.baseAddress!, lda: rows,
                             beta: 1, c: m.baseAddress!, ldc: total)
            }
        }
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
        guard other.samples > 0 else { return }
        let total = means.count
        join(count: other.samples, means: other.means) { m in
            other.comoments.storage.withUnsafeBufferPointer { b in
                for j in 0..<total { for i in 0...j { m[i + j * total] += b[i + j * total] } }
            }
        }
    }

    /// Chan's update with `count` samples of mean `means`: `addComoments` adds their own
    /// co-moments into the upper triangle of `M`, then the correction for the two means.
    private mutating func join(count: Int, means other: [Double], addComoments: (UnsafeMutableBufferPointer<Double>) -> Void) {
        let total = means.count
        let (na, nb) = (Double(samples), Double(count))
        let n = na + nb
        let delta = zip(other, means).map { $0 - $1 }
        let factor = na * nb / n
        comoments.storage.withUnsafeMutableBufferPointer { m in
            addComoments(m)
            if samples > 0 {
                for j in 0..<total {
                    let scaled = factor * delta[j]
                    for i in 0...j { m[i + j * total] += delta[i] * scaled }
                }
            }
        }
        for i in 0..<total { means[i] += delta[i] * nb / n }
        samples += count
    }

    /// The `L × L` CKA matrix of the samples seen (NaN for a constant layer).
    ///
    /// - Throws: ``AnalysisError/tooFewSamples(needed:got:context:)`` below 2 samples.
    public func cka() throws -> Matrix<Double> {
        guard samples >= 2 else { throw AnalysisError.tooFewSamples(needed: 2, got: samples, context: "streaming CKA") }
        let l = layerNames.count, total = means.count
        let starts = offsets
        // ‖M_ij‖²_F for every pair, from the upper triangle (the diagonal blocks are
        // symmetric: their strict upper part counts twice).
        var squared = Matrix<Double>(rows: l, columns: l)
        comoments.storage.withUnsafeBufferPointer { m in
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

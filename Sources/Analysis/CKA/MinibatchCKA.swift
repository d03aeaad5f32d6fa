import LinearAlgebra

/// Streaming CKA over minibatches (Nguyen, Raghu & Kornblith 2021), for inputs too many to
/// hold at once.
///
/// Each batch contributes the unbiased `HSIC₁` (Song et al. 2012) of every pair of layers;
/// the result is the ratio of *averaged* HSICs,
///
///     CKA(i, j) = mean_b HSIC₁(Kᵢ⁽ᵇ⁾, Kⱼ⁽ᵇ⁾) / √(mean_b HSIC₁(Kᵢ⁽ᵇ⁾, Kᵢ⁽ᵇ⁾) · mean_b HSIC₁(Kⱼ⁽ᵇ⁾, Kⱼ⁽ᵇ⁾)),
///
/// which converges to the population CKA as batches accumulate — unlike the average of
/// per-batch CKA values, which stays biased by the batch size.
///
/// Accumulators are plain sums, so they can be filled on separate shards of the data,
/// merged with ``merge(_:)`` and serialised (`Codable`).
public struct MinibatchCKA: Sendable, Codable, Equatable {
    /// Layer names, in the order batches must supply them.
    public let layerNames: [String]
    /// Batches seen so far. (Only the linear kernel is accumulated: an RBF bandwidth from a
    /// per-batch median would differ from batch to batch.)
    public private(set) var batches: Int = 0
    /// Samples seen so far.
    public private(set) var samples: Int = 0
    /// Σ over batches of HSIC₁ for every pair (row-major `L × L`).
    private var sums: [Double]

    public init(layerNames: [String]) {
        self.layerNames = layerNames
        self.sums = [Double](repeating: 0, count: layerNames.count * layerNames.count)
    }

    /// Adds one batch: one samples × features matrix per layer, all with the same rows
    /// (at least 4).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public mutating func update<S: BLASScalar>(_ batch: [Matrix<S>]) throws {
        guard batch.count == layerNames.count else {
            throw AnalysisError.invalidArgument(
                "minibatch CKA: got \(batch.count) layers in a batch, expected \(layerNames.count) (\(layerNames.joined(separator: ", ")))")
        }
        let rows = batch.first?.rows ?? 0
        if rows < 4 { throw AnalysisError.tooFewSamples(needed: 4, got: rows, context: "a minibatch CKA batch") }
        let table = try HSICTable(batch, names: layerNames, options: CKAOptions(estimator: .unbiased))
        // HSICTable normalises each layer to unit norm, which would weight batches
        // unequally; restore the scale so sums stay sums of true HSIC₁ values.
        let scales = batch.map { x -> Double in Double(x.centeringColumns().frobeniusNorm) }
        let l = layerNames.count
        for j in 0..<l {
            for i in 0..<l {
                sums[i * l + j] += table.values[i, j] * scales[i] * scales[i] * scales[j] * scales[j]
            }
        }
        batches += 1
        samples += rows
    }

    /// Adds the sums of another accumulator over the same layers.
    public mutating func merge(_ other: MinibatchCKA) throws {
        guard other.layerNames == layerNames else {
            throw AnalysisError.invalidArgument("minibatch CKA: cannot merge accumulators over different layers")
        }
        for i in sums.indices { sums[i] += other.sums[i] }
        batches += other.batches
        samples += other.samples
    }

    /// Mean HSIC₁ over the batches seen, `L × L`.
    public var meanHSIC: Matrix<Double> {
        let l = layerNames.count
        var m = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l { for i in 0..<l { m[i, j] = sums[i * l + j] / Double(Swift.max(batches, 1)) } }
        return m
    }

    /// The CKA matrix from the batches so far.
    public func cka() throws -> Matrix<Double> {
        if batches == 0 { throw AnalysisError.invalidArgument("minibatch CKA: no batch has been added") }
        let h = meanHSIC
        let l = layerNames.count
        var c = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l { for i in 0..<l { c[i, j] = h[i, j] / (h[i, i] * h[j, j]).squareRoot() } }
        return c
    }
}

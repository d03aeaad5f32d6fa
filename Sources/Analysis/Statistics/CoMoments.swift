import LinearAlgebra

/// The count, the means and the co-moment matrix of a stream of feature vectors,
///
///     M = Σₖ (zₖ − z̄)(zₖ − z̄)ᵀ,
///
/// fed a batch at a time or merged from other streams: the sufficient statistics of
/// covariance, PCA and linear CKA, exact for any number of samples in `D²` doubles.
///
/// A batch, or another stream, joins by the pairwise update of Chan, Golub & LeVeque (1979),
///
///     M = M_a + M_b + (n_a n_b / n) · (z̄_b − z̄_a)(z̄_b − z̄_a)ᵀ,
///
/// in which nothing large is subtracted: the textbook `Σ zzᵀ − n z̄z̄ᵀ` loses every digit
/// that the features' mean shares with their spread. A batch's own co-moments come from its
/// rows centred on the batch mean, with one `syrk` that adds them straight into `M`.
public struct CoMoments: Sendable, Equatable {
    /// A part of `M` that is kept: the co-moments of features `rows` with features
    /// `columns`. A block with equal ranges is symmetric, and only its upper triangle is kept.
    public struct Block: Sendable, Hashable {
        public let rows: Range<Int>
        public let columns: Range<Int>

        public init(rows: Range<Int>, columns: Range<Int>) {
            self.rows = rows
            self.columns = columns
        }

        public var isSymmetric: Bool { rows == columns }
    }

    /// Samples seen so far.
    public private(set) var samples = 0
    /// The mean of every feature.
    public private(set) var means: [Double]
    /// The parts of `M` kept.
    public let blocks: [Block]
    /// Each block of `M`, `rows.count × columns.count`; of a symmetric block only the upper
    /// triangle is kept up to date.
    public private(set) var values: [Matrix<Double>]

    /// Statistics of no samples of `width` features, all of `M` kept.
    public init(width: Int) {
        self.init(width: width, blocks: [Block(rows: 0..<width, columns: 0..<width)])
    }

    /// Statistics of no samples of `width` features, only `blocks` of `M` kept: what
    /// quantities that need some co-moments (linear CKA between two sets of layers needs
    /// each layer's own block and the cross block) cost in memory and time.
    public init(width: Int, blocks: [Block]) {
        precondition(blocks.allSatisfy { $0.rows.lowerBound >= 0 && $0.rows.upperBound <= width && $0.columns.lowerBound >= 0 && $0.columns.upperBound <= width },
                     "co-moment blocks lie within the \(width) features")
        means = [Double](repeating: 0, count: width)
        self.blocks = blocks
        values = blocks.map { Matrix(rows: $0.rows.count, columns: $0.columns.count) }
    }

    /// Statistics saved before: `samples`, the `means` and the `values` of `blocks` (only
    /// the upper triangle of a symmetric block is read).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` for a negative count, or blocks
    ///   outside the features or of other shapes than their values.
    public init(samples: Int, means: [Double], blocks: [Block], values: [Matrix<Double>]) throws {
        let width = means.count
        guard samples >= 0, blocks.count == values.count,
              zip(blocks, values).allSatisfy({ b, v in
                  b.rows.lowerBound >= 0 && b.rows.upperBound <= width && b.columns.lowerBound >= 0 && b.columns.upperBound <= width
                      && v.rows == b.rows.count && v.columns == b.columns.count
              }) else {
            throw AnalysisError.invalidArgument("co-moments of \(samples) samples of \(width) features: blocks \(blocks.map { "\($0.rows)×\($0.columns)" }) "
                                                + "do not match values of shapes \(values.map { "\($0.rows)×\($0.columns)" })")
        }
        self.samples = samples
        self.means = means
        self.blocks = blocks
        self.values = values
        for (k, block) in blocks.enumerated() where block.isSymmetric {
            let n = block.rows.count
            self.values[k].storage.withUnsafeMutableBufferPointer { m in
                for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { m[i + j * n] = 0 } }
            }
        }
    }

    /// Statistics saved before, all of `M` kept: its upper triangle `upper`.
    public init(samples: Int, means: [Double], upper: Matrix<Double>) throws {
        try self.init(samples: samples, means: means, blocks: [Block(rows: 0..<means.count, columns: 0..<means.count)], values: [upper])
    }

    public var width: Int { means.count }

    /// `M` (upper triangle) when all of it is kept.
    public var upper: Matrix<Double> {
        precondition(blocks == [Block(rows: 0..<width, columns: 0..<width)], "only some blocks of the co-moments are kept")
        return values[0]
    }

    /// Adds the rows of a samples × features batch.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` for another width,
    ///   ``AnalysisError/nonFinite(context:)`` for a NaN or ∞ (nothing is added then).
    @_specialize(exported: true, where S == Double)
    @_specialize(exported: true, where S == Float)
    public mutating func add<S: BLASScalar>(_ batch: Matrix<S>) throws {
        guard batch.columns == width else {
            throw AnalysisError.invalidArgument("co-moments of \(width) features: a batch has \(batch.columns)")
        }
        let rows = batch.rows
        let bad = batch.storage.withUnsafeBufferPointer { x in
            add(rows: rows) { j, column in
                var finite = true
                for i in 0..<rows {
                    column[i] = Double(x[j * rows + i])
                    finite = finite && column[i].isFinite
                }
                return finite
            }
        }
        if let bad { throw AnalysisError.nonFinite(context: "feature \(bad)") }
    }

    /// Adds `rows` samples given as the columns of `columns(feature)`: a closure that writes
    /// feature `j`'s `rows` values (Double) into the buffer it is handed and returns whether
    /// they are all finite.
    ///
    /// - Returns: the first feature with a non-finite value, if any; nothing is added then.
    mutating func add(rows: Int, feature write: (Int, UnsafeMutableBufferPointer<Double>) -> Bool) -> Int? {
        guard rows > 0 else { return nil }
        let total = width
        var centred = [Double](repeating: 0, count: rows * total)
        var batchMeans = [Double](repeating: 0, count: total)
        let bad: Int? = centred.withUnsafeMutableBufferPointer { z in
            for j in 0..<total {
                let column = UnsafeMutableBufferPointer(rebasing: z[(j * rows)..<((j + 1) * rows)])
                guard write(j, column) else { return j }
                var sum = 0.0
                for i in 0..<rows { sum += column[i] }
                guard sum.isFinite else { return j }
                let mean = sum / Double(rows)
                batchMeans[j] = mean
                for i in 0..<rows { column[i] -= mean }
            }
            return nil
        }
        if let bad { return bad }
        let blocks = self.blocks
        join(count: rows, means: batchMeans) { k, m in
            let block = blocks[k]
            centred.withUnsafeBufferPointer { z in
                let base = z.baseAddress!
                if block.isSymmetric {
                    Double._syrk(trans: true, n: block.rows.count, k: rows, alpha: 1, a: base + block.rows.lowerBound * rows, lda: rows,
                                 beta: 1, c: m.baseAddress!, ldc: block.rows.count)
                } else {
                    Double._gemm(transA: true, transB: false, m: block.rows.count, n: block.columns.count, k: rows, alpha: 1,
                                 a: base + block.rows.lowerBound * rows, lda: rows, b: base + block.columns.lowerBound * rows, ldb: rows,
                                 beta: 1, c: m.baseAddress!, ldc: block.rows.count)
                }
            }
        }
        return nil
    }

    /// Adds the statistics of another stream of the same width and blocks.
    public mutating func merge(_ other: CoMoments) {
        precondition(other.width == width && other.blocks == blocks, "co-moments of other features or blocks cannot join")
        guard other.samples > 0 else { return }
        let blocks = self.blocks
        join(count: other.samples, means: other.means) { k, m in
            let (symmetric, r, c) = (blocks[k].isSymmetric, blocks[k].rows.count, blocks[k].columns.count)
            other.values[k].storage.withUnsafeBufferPointer { b in
                for j in 0..<c { for i in 0..<(symmetric ? j + 1 : r) { m[i + j * r] += b[i + j * r] } }
            }
        }
    }

    /// Chan's update with `count` samples of mean `means`: `addComoments(k, block)` adds
    /// their own co-moments into block `k` (its upper triangle, if symmetric), then the
    /// correction for the two means.
    private mutating func join(count: Int, means other: [Double], addComoments: (Int, UnsafeMutableBufferPointer<Double>) -> Void) {
        let (na, nb) = (Double(samples), Double(count))
        let n = na + nb
        let delta = zip(other, means).map { $0 - $1 }
        let factor = na * nb / n
        for (k, block) in blocks.enumerated() {
            let (symmetric, r) = (block.isSymmetric, block.rows.count)
            values[k].storage.withUnsafeMutableBufferPointer { m in
                addComoments(k, m)
                guard samples > 0 else { return }
                for (j, column) in block.columns.enumerated() {
                    let scaled = factor * delta[column]
                    for i in 0..<(symmetric ? j + 1 : r) { m[i + j * r] += delta[block.rows.lowerBound + i] * scaled }
                }
            }
        }
        for i in 0..<width { means[i] += delta[i] * nb / n }
        samples += count
    }

    /// Block `k` with both triangles filled when it is symmetric.
    public func filled(_ k: Int) -> Matrix<Double> {
        var full = values[k]
        guard blocks[k].isSymmetric else { return full }
        let n = full.rows
        full.storage.withUnsafeMutableBufferPointer { m in
            for j in 0..<n { for i in (j + 1)..<max(j + 1, n) { m[i + j * n] = m[j + i * n] } }
        }
        return full
    }

    /// The co-moments of features `rows` against features `columns`, read from a kept block
    /// that holds them (both triangles of a symmetric part), or `nil` when none does.
    public func part(rows: Range<Int>, columns: Range<Int>) -> Matrix<Double>? {
        func holds(_ outer: Range<Int>, _ inner: Range<Int>) -> Bool {
            inner.isEmpty || (outer.lowerBound <= inner.lowerBound && inner.upperBound <= outer.upperBound)
        }
        guard let k = blocks.firstIndex(where: { holds($0.rows, rows) && holds($0.columns, columns) })
                ?? blocks.firstIndex(where: { $0.isSymmetric && holds($0.rows, rows) && holds($0.rows, columns) }) else { return nil }
        let block = blocks[k], ld = block.rows.count
        var result = Matrix<Double>(rows: rows.count, columns: columns.count)
        values[k].storage.withUnsafeBufferPointer { m in
            result.storage.withUnsafeMutableBufferPointer { out in
                for (j, column) in columns.enumerated() {
                    let c = column - block.columns.lowerBound
                    for (i, row) in rows.enumerated() {
                        let r = row - block.rows.lowerBound
                        // A symmetric block keeps its upper triangle only.
                        out[i + j * rows.count] = !block.isSymmetric || r <= c ? m[r + c * ld] : m[c + r * ld]
                    }
                }
            }
        }
        return result
    }

    /// The same statistics with only `blocks` kept, each read from the blocks kept now, or
    /// `nil` when some part of them is not kept.
    public func keeping(_ blocks: [Block]) -> CoMoments? {
        var parts: [Matrix<Double>] = []
        for block in blocks {
            guard let values = part(rows: block.rows, columns: block.columns) else { return nil }
            parts.append(values)
        }
        return try? CoMoments(samples: samples, means: means, blocks: blocks, values: parts)
    }

    /// The statistics of `features` alone, all of their co-moments kept, or `nil` when they
    /// are not kept.
    public func selecting(features: Range<Int>) -> CoMoments? {
        guard features.upperBound <= width, let values = part(rows: features, columns: features) else { return nil }
        return try? CoMoments(samples: samples, means: Array(means[features]), upper: values)
    }

    /// `M` with both triangles filled, when all of it is kept.
    public func symmetric() -> Matrix<Double> {
        _ = upper
        return filled(0)
    }
}

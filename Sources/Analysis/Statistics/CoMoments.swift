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
    /// Samples seen so far.
    public private(set) var samples = 0
    /// The mean of every feature.
    public private(set) var means: [Double]
    /// `M`, `D × D`; only the upper triangle is kept up to date (see ``symmetric()``).
    public private(set) var upper: Matrix<Double>

    /// Statistics of no samples of `width` features.
    public init(width: Int) {
        means = [Double](repeating: 0, count: width)
        upper = Matrix(rows: width, columns: width)
    }

    /// Statistics saved before: `samples`, the `means` and `upper` (only its upper triangle
    /// is read).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` for a negative count or a matrix that
    ///   is not `means.count` square.
    public init(samples: Int, means: [Double], upper: Matrix<Double>) throws {
        guard samples >= 0, upper.rows == means.count, upper.columns == means.count else {
            throw AnalysisError.invalidArgument("co-moments of \(samples) samples: \(means.count) means and a \(upper.rows) × \(upper.columns) matrix")
        }
        self.samples = samples
        self.means = means
        self.upper = upper
        let total = means.count
        self.upper.storage.withUnsafeMutableBufferPointer { m in
            for j in 0..<total { for i in (j + 1)..<max(j + 1, total) { m[i + j * total] = 0 } }
        }
    }

    public var width: Int { means.count }

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
        join(count: rows, means: batchMeans) { m in
            centred.withUnsafeBufferPointer { z in
                Double._syrk(trans: true, n: total, k: rows, alpha: 1, a: z.baseAddress!, lda: rows,
                             beta: 1, c: m.baseAddress!, ldc: total)
            }
        }
        return nil
    }

    /// Adds the statistics of another stream of the same width.
    public mutating func merge(_ other: CoMoments) {
        precondition(other.width == width, "co-moments of \(other.width) features cannot join \(width)")
        guard other.samples > 0 else { return }
        let total = width
        join(count: other.samples, means: other.means) { m in
            other.upper.storage.withUnsafeBufferPointer { b in
                for j in 0..<total { for i in 0...j { m[i + j * total] += b[i + j * total] } }
            }
        }
    }

    /// Chan's update with `count` samples of mean `means`: `addComoments` adds their own
    /// co-moments into the upper triangle of `M`, then the correction for the two means.
    private mutating func join(count: Int, means other: [Double], addComoments: (UnsafeMutableBufferPointer<Double>) -> Void) {
        let total = width
        let (na, nb) = (Double(samples), Double(count))
        let n = na + nb
        let delta = zip(other, means).map { $0 - $1 }
        let factor = na * nb / n
        upper.storage.withUnsafeMutableBufferPointer { m in
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

    /// `M` with both triangles filled.
    public func symmetric() -> Matrix<Double> {
        var full = upper
        let total = width
        for j in 0..<total { for i in (j + 1)..<max(j + 1, total) { full[i, j] = upper[j, i] } }
        return full
    }
}

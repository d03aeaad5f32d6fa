import LinearAlgebra

/// HSIC between every pair of a list of representations of the same samples, with each
/// representation's statistics computed once.
///
/// Every layer is centred and multiplied by one positive factor that keeps its values near 1
/// (CKA is invariant to both, and the factor keeps products far from overflow and underflow
/// whatever the feature scale); the table is then rescaled to what unit-Frobenius-norm layers
/// give, so entries are HSICs of unit-norm layers. Three evaluation paths:
/// - the *feature* path (linear kernel) reads `tr(KᵢKⱼ) = ‖XᵢᵀXⱼ‖²_F` from the products
///   of the layers, centred where they lie, pair by pair;
/// - the linear *Gram* path forms the upper triangle of each layer's `n × n` Gram with one
///   `syrk` and reads every pair's `⟨Kᵢ, Kⱼ⟩` from the upper triangles, column by column, so
///   each Gram is read from memory once and never copied, mirrored or converted;
/// - the RBF path stores each layer's `n × n` kernel matrix (centred for the biased
///   estimator, diagonal zeroed for the unbiased one) as a column of `V` and forms `VᵀV`
///   with one `syrk`.
/// The unbiased estimator needs, besides the traces, only per-layer row sums of `K̃`
/// (`−‖xₖ‖²` for centred data on the feature path).
///
/// Design notes: every product on the feature path is a `syrk` for a layer with itself
/// (half the flops of NumPy's `XᵀX`) or a `gemm` across layers. Layers handed over (not
/// held elsewhere) are overwritten instead of copied, and no product larger than one pair's
/// is kept, so `repprobe cka X.npy Y.npy` takes less memory than the NumPy script
/// that loads the same files. Normalising each layer to unit norm before the products
/// would cost one more pass over the data; rescaling the `L × L` table afterwards costs
/// nothing.
///
/// Entries are HSICs of the unit-norm layers, not of the inputs: ratios such as CKA are
/// exact, absolute HSIC values are not (``MinibatchCKA`` restores the scale).
///
/// The generic functions here carry `@_specialize` for `Double` and `Float` because the
/// exported specialisations of the public entry points do not reach them: without it the
/// internal call chain ran unspecialised, through generic witness calls per element.
struct HSICTable {
    /// `L × L`, symmetric.
    var values: Matrix<Double>
    /// The path that was used.
    var form: CKAForm

    @_specialize(where S == Double)
    @_specialize(where S == Float)
    init<S: BLASScalar>(_ layers: consuming [Matrix<S>], names: [String], options: CKAOptions) throws {
        precondition(layers.count == names.count)
        switch options.precision {
        case .float32 where S.self != Float.self:
            self = try HSICTable(layers.map { $0.converted(to: Float.self) }, names: names, options: options)
            return
        case .float64 where S.self != Double.self:
            self = try HSICTable(layers.map { $0.converted(to: Double.self) }, names: names, options: options)
            return
        default:
            break
        }
        guard let n = layers.first?.rows else {
            values = Matrix(rows: 0, columns: 0)
            form = .feature
            return
        }
        for (layer, name) in zip(layers, names) {
            try AnalysisError.checkSameSamples(n, layer.rows, "layer '\(name)' against '\(names[0])'")
        }
        let minimum = options.estimator == .unbiased ? 4 : 2
        if n < minimum {
            throw AnalysisError.tooFewSamples(needed: minimum, got: n, context: "\(options.estimator.rawValue) CKA")
        }
        let form = Self.chooseForm(options, samples: n, widths: layers.map(\.columns))
        self.form = form
        switch (form, options.kernel) {
        case (.feature, _), (.automatic, _):
            var owned = consume layers
            values = try Self.featureTable(&owned, names: names, estimator: options.estimator)
        case (.gram, .linear):
            values = try Self.linearGramTable(layers, names: names, estimator: options.estimator)
        case let (.gram, .rbf(threshold)):
            let normalized = try zip(layers, names).map { try Self.centeredUnitNorm($0, name: $1) }
            values = Self.rbfTable(normalized, threshold: threshold, estimator: options.estimator)
        }
    }

    /// The CKA matrix `HSIC(i,j)/√(HSIC(i,i)·HSIC(j,j))`.
    func ckaMatrix() -> Matrix<Double> {
        let l = values.rows
        var cka = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l {
            for i in 0..<l {
                let denominator = (values[i, i] * values[j, j]).squareRoot()
                cka[i, j] = i == j ? 1 : values[i, j] / denominator
            }
        }
        return cka
    }

    static func chooseForm(_ options: CKAOptions, samples n: Int, widths: [Int]) -> CKAForm {
        if case .rbf = options.kernel { return .gram }
        if options.form != .automatic { return options.form }
        let nd = Double(n), total = Double(widths.reduce(0, +)), count = Double(widths.count)
        let featureCost = nd * total * total / 2
        let gramCost = nd * nd * total / 2 + nd * nd * count * (count + 1) / 2
        return featureCost <= gramCost ? .feature : .gram
    }

    /// `x` (samples × features) with its column means subtracted, scaled to unit Frobenius norm.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    static func centeredUnitNorm<S: BLASScalar>(_ x: Matrix<S>, name: String) throws -> Matrix<S> {
        var c = Matrix<S>(rows: x.rows, columns: x.columns)
        let squaredNorm = try c.storage.withUnsafeMutableBufferPointer { target in
            try writeCenteredScaled(x, into: target.baseAddress, name: name)
        }
        c.scale(by: S(1 / squaredNorm.squareRoot()))
        return c
    }

    /// Writes `x` (samples × features) with its column means subtracted and multiplied by
    /// `1/max|xᵢⱼ|` into `target` (column-major, `rows × columns`), and returns the squared
    /// Frobenius norm of what was written.
    ///
    /// Every written value is at most 2 in magnitude, so the products that follow can neither
    /// overflow nor underflow whatever the feature scale. Two passes over `x`: column sums
    /// (in `Double`) with the largest magnitude, then subtract, scale and sum the squares.
    /// Throws if `x` has a non-finite value or is constant.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    static func writeCenteredScaled<S: BLASScalar>(
        _ x: Matrix<S>, into target: UnsafeMutablePointer<S>?, name: String
    ) throws -> Double {
        guard let target else { throw AnalysisError.constantRepresentation(context: "layer '\(name)'") }
        return try x.storage.withUnsafeBufferPointer { p in
            try centerScale(p.baseAddress, into: target, rows: x.rows, columns: x.columns, name: name)
        }
    }

    /// ``writeCenteredScaled(_:into:name:)`` from column-major `rows × columns` values at
    /// `source` into `target`, which may be `source` itself (each value is read before it is
    /// written).
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    static func centerScale<S: BLASScalar>(
        _ source: UnsafePointer<S>?, into target: UnsafeMutablePointer<S>, rows n: Int, columns d: Int, name: String
    ) throws -> Double {
        guard n > 0, d > 0, let p = source else { throw AnalysisError.constantRepresentation(context: "layer '\(name)'") }
        var means = [S](repeating: 0, count: d)
        var largest: S = 0
        for j in 0..<d {
            let (sum, columnLargest) = sumAndLargestMagnitude(p + j * n, count: n)
            if !sum.isFinite { throw AnalysisError.nonFinite(context: "layer '\(name)'") }
            means[j] = S(sum / Double(n))
            largest = Swift.max(largest, columnLargest)
        }
        if !largest.isFinite { throw AnalysisError.nonFinite(context: "layer '\(name)'") }
        if largest == 0 { throw AnalysisError.constantRepresentation(context: "layer '\(name)'") }
        // A subnormal maximum has no finite reciprocal; scaling by 1/leastNormal still
        // keeps the values below 2.
        let factor = 1 / Swift.max(largest, S.leastNormalMagnitude)
        var squaredNorm = 0.0
        for j in 0..<d {
            squaredNorm += writeShiftedScaled(p + j * n, count: n, minus: means[j], times: factor, into: target + j * n)
        }
        if !squaredNorm.isFinite { throw AnalysisError.nonFinite(context: "layer '\(name)'") }
        if squaredNorm == 0 { throw AnalysisError.constantRepresentation(context: "layer '\(name)'") }
        return squaredNorm
    }

    /// `(Σvᵢ, max|vᵢ|)` over `count` contiguous elements, the sum in `Double`. Four
    /// independent accumulators keep the loop from waiting on one addition chain.
    @inline(__always)
    private static func sumAndLargestMagnitude<S: BLASScalar>(_ p: UnsafePointer<S>, count: Int) -> (Double, S) {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var m0: S = 0, m1: S = 0, m2: S = 0, m3: S = 0
        var i = 0
        while i + 4 <= count {
            s0 += Double(p[i]); s1 += Double(p[i + 1]); s2 += Double(p[i + 2]); s3 += Double(p[i + 3])
            m0 = Swift.max(m0, Swift.abs(p[i])); m1 = Swift.max(m1, Swift.abs(p[i + 1]))
            m2 = Swift.max(m2, Swift.abs(p[i + 2])); m3 = Swift.max(m3, Swift.abs(p[i + 3]))
            i += 4
        }
        while i < count {
            s0 += Double(p[i])
            m0 = Swift.max(m0, Swift.abs(p[i]))
            i += 1
        }
        return ((s0 + s1) + (s2 + s3), Swift.max(Swift.max(m0, m1), Swift.max(m2, m3)))
    }

    /// Writes `(vᵢ − shift)·factor` for `count` contiguous elements and returns the sum of
    /// the squares written, in `Double` with four accumulators.
    @inline(__always)
    private static func writeShiftedScaled<S: BLASScalar>(
        _ p: UnsafePointer<S>, count: Int, minus shift: S, times factor: S, into target: UnsafeMutablePointer<S>
    ) -> Double {
        var q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0
        var i = 0
        while i + 4 <= count {
            let c0 = (p[i] - shift) * factor, c1 = (p[i + 1] - shift) * factor
            let c2 = (p[i + 2] - shift) * factor, c3 = (p[i + 3] - shift) * factor
            target[i] = c0; target[i + 1] = c1; target[i + 2] = c2; target[i + 3] = c3
            q0 += Double(c0) * Double(c0); q1 += Double(c1) * Double(c1)
            q2 += Double(c2) * Double(c2); q3 += Double(c3) * Double(c3)
            i += 4
        }
        while i < count {
            let c = (p[i] - shift) * factor
            target[i] = c
            q0 += Double(c) * Double(c)
            i += 1
        }
        return (q0 + q1) + (q2 + q3)
    }

    /// The sum of the squared entries of block `rows × columns` of `c` (leading dimension
    /// `ld`), in `Double`; with `upperTriangle`, a diagonal block of a symmetric product of
    /// which only the upper triangle is formed: its strict part counts for both triangles.
    @inline(__always)
    private static func squaredEntries<S: BLASScalar>(_ c: UnsafePointer<S>, ld: Int, rows: Range<Int>, columns: Range<Int>, upperTriangle: Bool) -> Double {
        var offDiagonal = 0.0, diagonal = 0.0
        for (k, column) in columns.enumerated() {
            let end = upperTriangle ? rows.lowerBound + k : rows.upperBound
            for row in rows.lowerBound..<end {
                let v = Double(c[row + column * ld])
                offDiagonal += v * v
            }
            if upperTriangle {
                let v = Double(c[rows.lowerBound + k + column * ld])
                diagonal += v * v
            }
        }
        return upperTriangle ? 2 * offDiagonal + diagonal : offDiagonal
    }

    /// The feature path, over layers it may overwrite: each layer is centred and scaled in
    /// its own storage (in place when nothing else holds it, as when the caller hands its
    /// layers over, else in a copy), then each pair's `XᵢᵀXⱼ` (by `syrk` for a layer with
    /// itself) goes in turn into one buffer of the largest pair's size. Memory: the layers
    /// and one product. (Centring the layers side by side into `S = [X₁ … X_L]` for one
    /// `syrk` took a copy of every layer and all of `SᵀS` besides, and was no faster on
    /// twelve layers of 64 to 512 features.)
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    private static func featureTable<S: BLASScalar>(
        _ layers: inout [Matrix<S>], names: [String], estimator: CKAEstimator
    ) throws -> Matrix<Double> {
        let n = layers[0].rows, l = layers.count
        var squaredNorms = [Double](repeating: 0, count: l)
        let widths = layers.map(\.columns)
        for k in 0..<l {
            squaredNorms[k] = try layers[k].storage.withUnsafeMutableBufferPointer { x in
                try centerScale(UnsafePointer(x.baseAddress), into: x.baseAddress!, rows: n, columns: widths[k], name: names[k])
            }
        }
        var largest = 0
        for j in 0..<l { for i in 0...j { largest = Swift.max(largest, widths[i] * widths[j]) } }
        var product = [S](repeating: 0, count: largest)
        var table = Matrix<Double>(rows: l, columns: l)
        product.withUnsafeMutableBufferPointer { c in
            for j in 0..<l {
                for i in 0...j {
                    let (di, dj) = (widths[i], widths[j])
                    layers[i].storage.withUnsafeBufferPointer { a in
                        layers[j].storage.withUnsafeBufferPointer { b in
                            if i == j {
                                S._syrk(trans: true, n: di, k: n, alpha: 1, a: a.baseAddress!, lda: n, beta: 0, c: c.baseAddress!, ldc: di)
                            } else {
                                S._gemm(transA: true, transB: false, m: di, n: dj, k: n, alpha: 1, a: a.baseAddress!, lda: n,
                                        b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: di)
                            }
                        }
                    }
                    let sum = squaredEntries(c.baseAddress!, ld: di, rows: 0..<di, columns: 0..<dj, upperTriangle: i == j)
                    let value = sum / (squaredNorms[i] * squaredNorms[j])
                    table[i, j] = value
                    table[j, i] = value
                }
            }
        }
        guard estimator == .unbiased else { return table }
        let norms = (0..<l).map { k in layers[k].storage.withUnsafeBufferPointer { rowSquaredNorms($0, rows: n, dividedBy: squaredNorms[k]) } }
        return unbiasedFeatureTable(table, rowNorms: norms, samples: n)
    }

    /// `‖xₖ‖² / scale` for each row `k` of the column-major `rows × (x.count / rows)` values.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    private static func rowSquaredNorms<S: BLASScalar>(_ x: UnsafeBufferPointer<S>, rows n: Int, dividedBy scale: Double) -> [Double] {
        var rowNorms = [Double](repeating: 0, count: n)
        rowNorms.withUnsafeMutableBufferPointer { r in
            for column in 0..<(x.count / n) {
                for row in 0..<n {
                    let v = Double(x[row + column * n])
                    r[row] += v * v
                }
            }
            let unit = 1 / scale
            for row in 0..<n { r[row] *= unit }
        }
        return rowNorms
    }

    /// The unbiased table from the biased one of centred layers and their rows' squared
    /// norms (of the unit-norm layers): with `K1 = 0`, `K̃1 = −diag(K) = −(‖xₖ‖²)ₖ` and
    /// `1ᵀK̃1 = −Σₖ‖xₖ‖²`.
    private static func unbiasedFeatureTable(_ table: Matrix<Double>, rowNorms norms: [[Double]], samples n: Int) -> Matrix<Double> {
        let l = table.rows
        var unbiased = Matrix<Double>(rows: l, columns: l)
        for j in 0..<l {
            for i in 0...j {
                let dot = zip(norms[i], norms[j]).reduce(0) { $0 + $1.0 * $1.1 }
                let value = HSIC.unbiasedFromTerms(
                    trace: table[i, j] - dot, sumK: -norms[i].reduce(0, +), sumL: -norms[j].reduce(0, +),
                    rowSumsDot: dot, n: n)
                unbiased[i, j] = value
                unbiased[j, i] = value
            }
        }
        return unbiased
    }

    /// The linear Gram path: the upper triangle of each layer's `XXᵀ` by `syrk`, then every
    /// pair's `⟨Kₐ, K_b⟩ = 2·Σ_{i<j} KₐᵢⱼK_bᵢⱼ + Σᵢ KₐᵢᵢK_bᵢᵢ` column by column, accumulated
    /// in `Double` (so Float Grams are never converted as a whole).
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    private static func linearGramTable<S: BLASScalar>(
        _ layers: [Matrix<S>], names: [String], estimator: CKAEstimator
    ) throws -> Matrix<Double> {
        let n = layers[0].rows
        let l = layers.count
        var squaredNorms = [Double](repeating: 0, count: l)
        var grams = [UnsafeMutablePointer<S>]()
        defer { for gram in grams { gram.deallocate() } }
        for (k, layer) in layers.enumerated() {
            let d = layer.columns
            let centred = try [S](unsafeUninitializedCapacity: n * d) { buffer, count in
                squaredNorms[k] = try writeCenteredScaled(layer, into: buffer.baseAddress, name: names[k])
                count = n * d
            }
            // The strict lower triangle is left unset and never read.
            let gram = UnsafeMutablePointer<S>.allocate(capacity: n * n)
            grams.append(gram)
            centred.withUnsafeBufferPointer { a in
                S._syrk(trans: false, n: n, k: d, alpha: 1, a: a.baseAddress!, lda: n, beta: 0, c: gram, ldc: n)
            }
        }
        // Column j of every Gram is read by all the pairs while it is in cache.
        var offDiagonal = [Double](repeating: 0, count: l * l)
        var diagonal = [Double](repeating: 0, count: l * l)
        let unbiased = estimator == .unbiased
        var rowSums = [[Double]](repeating: [Double](repeating: 0, count: unbiased ? n : 0), count: l)
        for j in 0..<n {
            for b in 0..<l {
                let columnB = grams[b] + j * n
                for a in 0...b {
                    let columnA = grams[a] + j * n
                    offDiagonal[a + b * l] += S._dotInDouble(n: j, x: columnA, y: columnB)
                    diagonal[a + b * l] += Double(columnA[j]) * Double(columnB[j])
                }
            }
            if unbiased {
                // Row sums of K̃ (diagonal zeroed) from the upper triangle: Kᵢⱼ with i < j
                // adds to rows i and j.
                for a in 0..<l {
                    let column = grams[a] + j * n
                    rowSums[a].withUnsafeMutableBufferPointer { r in
                        var sum = 0.0
                        for i in 0..<j {
                            let v = Double(column[i])
                            r[i] += v
                            sum += v
                        }
                        r[j] += sum
                    }
                }
            }
        }
        var table = Matrix<Double>(rows: l, columns: l)
        for b in 0..<l {
            for a in 0...b {
                let unit = 1 / (squaredNorms[a] * squaredNorms[b])
                let value: Double
                if unbiased {
                    // tr(K̃L̃) with zeroed diagonals: only the off-diagonal products remain.
                    let rowsA = rowSums[a].map { $0 / squaredNorms[a] }
                    let rowsB = rowSums[b].map { $0 / squaredNorms[b] }
                    value = HSIC.unbiasedFromTerms(
                        trace: 2 * offDiagonal[a + b * l] * unit, sumK: rowsA.reduce(0, +), sumL: rowsB.reduce(0, +),
                        rowSumsDot: zip(rowsA, rowsB).reduce(0) { $0 + $1.0 * $1.1 }, n: n)
                } else {
                    value = (2 * offDiagonal[a + b * l] + diagonal[a + b * l]) * unit
                }
                table[a, b] = value
                table[b, a] = value
            }
        }
        return table
    }

    /// The RBF path on unit-norm layers: every kernel matrix stacked as a column of `V`, then
    /// one `syrk` for `VᵀV`.
    private static func rbfTable<S: BLASScalar>(
        _ layers: [Matrix<S>], threshold: Double, estimator: CKAEstimator
    ) -> Matrix<Double> {
        let n = layers[0].rows
        let l = layers.count
        var stacked = [Double]()
        stacked.reserveCapacity(n * n * l)
        var rowSums = [[Double]]()
        for layer in layers {
            let gram = layer.outerGram()
            var k: Matrix<Double> = (gram as? Matrix<Double>) ?? gram.converted()
            k = KernelMatrix.rbf(squaredDistances: KernelMatrix.squaredDistances(gram: k), threshold: threshold)
            switch estimator {
            case .biased:
                k.doubleCenter()
            case .unbiased:
                k = HSIC.zeroingDiagonal(k)
                rowSums.append(k.rowSums)
            }
            stacked.append(contentsOf: k.storage)
        }
        let traces = Matrix(rows: n * n, columns: l, columnMajor: stacked).gram()
        guard estimator == .unbiased else { return traces }
        var table = Matrix<Double>(rows: l, columns: l)
        let sums = rowSums.map { $0.reduce(0, +) }
        for j in 0..<l {
            for i in 0...j {
                let dot = zip(rowSums[i], rowSums[j]).reduce(0) { $0 + $1.0 * $1.1 }
                let value = HSIC.unbiasedFromTerms(trace: traces[i, j], sumK: sums[i], sumL: sums[j], rowSumsDot: dot, n: n)
                table[i, j] = value
                table[j, i] = value
            }
        }
        return table
    }
}

import Analysis
import LinearAlgebra

/// Applies a ``Reduction`` to one layer's activations, batch after batch, holding the
/// projection matrix of `project` once made.
///
/// Values are row-major with axis 0 the samples. Float activations are reduced in Float and
/// Double ones in Double: a mean is summed in the type of its values.
public final class Reducer: @unchecked Sendable {
    public let reduction: Reduction
    /// The layer, and the file or model it came from, for errors.
    public let layer: String
    public let source: String
    private var projection: (inputs: Int, matrix: [Float])?
    /// The largest projection matrix built (entries), 256 MiB of floats.
    public static let projectionLimit = 1 << 26

    public init(_ reduction: Reduction, layer: String, source: String) {
        self.reduction = reduction
        self.layer = layer
        self.source = source
    }

    /// The reduced rows of `values` (dimensions `shape`), row-major, and the feature count.
    ///
    /// - Throws: ``ActivationError/emptyReduction(file:layer:shape:reduction:)`` for a pool
    ///   over an empty axis, ``ActivationError/invalidReduction(file:layer:problem:)`` for a
    ///   scalar or a projection too large to build.
    ///
    /// - Parameter tokenMask: for a token layer `[samples, tokens, features]` of a padded
    ///   batch, which tokens are real (`samples × tokens`, row-major); padding then never
    ///   counts (see ``Reduction``). Ignored for other ranks.
    /// - Throws: also ``ActivationError/invalidReduction(file:layer:problem:)`` for a sample
    ///   without a real token, or a mask of the wrong size.
    public func reduce(_ values: [Float], shape: [Int], tokenMask: [Bool]? = nil) throws -> (rows: [Float], features: Int) {
        try reduceValues(values, shape: shape, tokenMask: tokenMask)
    }

    /// ``reduce(_:shape:tokenMask:)`` for Double values.
    public func reduce(_ values: [Double], shape: [Int], tokenMask: [Bool]? = nil) throws -> (rows: [Double], features: Int) {
        try reduceValues(values, shape: shape, tokenMask: tokenMask)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func reduceValues<T: BLASScalar>(_ values: [T], shape: [Int], tokenMask: [Bool]? = nil) throws -> (rows: [T], features: Int) {
        guard let samples = shape.first else {
            throw ActivationError.invalidReduction(file: source, layer: layer, problem: "a scalar has no sample axis")
        }
        precondition(values.count == shape.reduce(1, *), "shape \(shape) does not match \(values.count) values")
        if reduction.reducesEmptyAxis(shape) {
            throw ActivationError.emptyReduction(file: source, layer: layer, shape: shape, reduction: reduction)
        }
        let width = samples == 0 ? shape.dropFirst().reduce(1, *) : values.count / samples
        if let tokenMask, shape.count == 3 {
            return try reduceTokens(values, shape: shape, mask: tokenMask)
        }
        switch reduction {
        case .flatten:
            return (values, width)
        case .mean, .max:
            guard shape.count >= 3 else { return (values, width) }
            return Self.pool(values, shape: shape, max: reduction == .max)
        case .center:
            guard shape.count >= 3 else { return (values, width) }
            return Self.center(values, shape: shape)
        case let .subsample(stride):
            guard shape.count >= 3 else { return (values, width) }
            return Self.subsample(values, shape: shape, stride: stride)
        case let .project(k, seed):
            return try project(values, samples: samples, width: width, dimensions: k, seed: seed)
        case .first, .last:
            guard shape.count <= 3 else {
                throw ActivationError.invalidReduction(
                    file: source, layer: layer, problem: "\(reduction) picks a token of [samples, tokens, features]; this layer is \(shape)")
            }
            guard shape.count == 3 else { return (values, width) }
            return Self.pick(values, shape: shape) { _ in reduction == .first ? 0 : shape[1] - 1 }
        }
    }

    /// A token layer reduced with its attention mask: pools and picks see the real tokens
    /// only; flattening reductions see padding as zeros.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func reduceTokens<T: BLASScalar>(_ values: [T], shape: [Int], mask: [Bool]) throws -> (rows: [T], features: Int) {
        let (samples, tokens, features) = (shape[0], shape[1], shape[2])
        guard mask.count == samples * tokens else {
            throw ActivationError.invalidReduction(
                file: source, layer: layer, problem: "the attention mask has \(mask.count) entries for \(samples) × \(tokens) tokens")
        }
        let real = (0..<samples).map { n in (0..<tokens).filter { mask[n * tokens + $0] } }
        switch reduction {
        case .mean, .max, .center, .first, .last:
            if let empty = real.firstIndex(where: \.isEmpty) {
                throw ActivationError.invalidReduction(
                    file: source, layer: layer, problem: "sample \(empty) of the batch has no real token (all padding) to \(reduction)")
            }
        default:
            break
        }
        switch reduction {
        case .mean, .max:
            var rows = [T](repeating: reduction == .max ? -.infinity : 0, count: samples * features)
            for n in 0..<samples {
                for t in real[n] {
                    let row = (n * tokens + t) * features
                    for f in 0..<features {
                        rows[n * features + f] = reduction == .max ? Swift.max(rows[n * features + f], values[row + f])
                            : rows[n * features + f] + values[row + f]
                    }
                }
                if reduction == .mean {
                    let divisor = T(real[n].count)
                    for f in 0..<features { rows[n * features + f] /= divisor }
                }
            }
            return (rows, features)
        case .center: return Self.pick(values, shape: shape) { real[$0][(real[$0].count - 1) / 2] }
        case .first: return Self.pick(values, shape: shape) { real[$0][0] }
        case .last: return Self.pick(values, shape: shape) { real[$0][real[$0].count - 1] }
        case .flatten, .subsample, .project:
            var zeroed = values
            for n in 0..<samples {
                for t in 0..<tokens where !mask[n * tokens + t] {
                    for f in 0..<features { zeroed[(n * tokens + t) * features + f] = 0 }
                }
            }
            return try reduceValues(zeroed, shape: shape, tokenMask: nil)
        }
    }

    /// One token per sample of `[samples, tokens, features]`: the one `token(sample)` names.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func pick<T: BLASScalar>(_ values: [T], shape: [Int], token: (Int) -> Int) -> ([T], Int) {
        let (samples, tokens, features) = (shape[0], shape[1], shape[2])
        var rows = [T]()
        rows.reserveCapacity(samples * features)
        for n in 0..<samples {
            let start = (n * tokens + token(n)) * features
            rows += values[start..<(start + features)]
        }
        return (rows, features)
    }

    /// Mean or maximum over the positions (rank 3, keeping features) or the spatial axes
    /// (rank ≥ 4, keeping channels), viewing the array as `[samples, outer, inner]`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func pool<T: BLASScalar>(_ values: [T], shape: [Int], max: Bool) -> ([T], Int) {
        let samples = shape[0]
        let (outer, inner, reduceOuter) = shape.count == 3
            ? (shape[1], shape[2], true) : (shape[1], shape[2...].reduce(1, *), false)
        let kept = reduceOuter ? inner : outer
        let count = reduceOuter ? outer : inner
        var result = [T](repeating: max ? -.infinity : 0, count: samples * kept)
        guard !result.isEmpty, count > 0 else { return (result, kept) }
        values.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { r in
                let (source, target) = (v.baseAddress!, r.baseAddress!)
                if max {
                    maximum(source, into: target, samples: samples, outer: outer, inner: inner, reduceOuter: reduceOuter)
                    return
                }
                // A sum is a matrix–vector product with ones, which BLAS runs with vector
                // instructions on every core: the row-major [samples · outer, inner] array is
                // column-major inner × (samples · outer), and summing over the positions is
                // its transpose times ones. Summing over the tokens of one sample is the
                // column-major features × tokens block times ones, which adds token after
                // token; it runs on blocks of `tokenBlock` tokens whose sums are then added,
                // so that a long sequence does not drift.
                let ones = [T](repeating: 1, count: count)
                ones.withUnsafeBufferPointer { one in
                    if reduceOuter {
                        var partial = [T](repeating: 0, count: inner)
                        for n in 0..<samples {
                            for first in stride(from: 0, to: outer, by: tokenBlock) {
                                let block = Swift.min(tokenBlock, outer - first)
                                partial.withUnsafeMutableBufferPointer { sum in
                                    T._gemv(trans: false, m: inner, n: block, alpha: 1, a: source + (n * outer + first) * inner,
                                            lda: inner, x: one.baseAddress!, beta: 0, y: sum.baseAddress!)
                                }
                                for i in 0..<inner { target[n * inner + i] += partial[i] }
                            }
                        }
                    } else {
                        T._gemv(trans: true, m: inner, n: samples * outer, alpha: 1, a: source, lda: inner,
                                x: one.baseAddress!, beta: 0, y: target)
                    }
                }
                let divisor = T(count)
                for i in r.indices { r[i] /= divisor }
            }
        }
        return (result, kept)
    }

    /// Tokens summed in one run before their sum joins the sample's.
    static let tokenBlock = 256

    /// The maximum over the positions into `target`, which starts at −∞: for rank 3 each
    /// token row is folded into the sample's row; otherwise each contiguous plane is scanned
    /// with four running maxima (independent, so the loop does not wait on one).
    @inline(__always)
    private static func maximum<T: BLASScalar>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>,
                                               samples: Int, outer: Int, inner: Int, reduceOuter: Bool) {
        if reduceOuter {
            for n in 0..<samples {
                let out = target + n * inner
                for o in 0..<outer {
                    let row = source + (n * outer + o) * inner
                    for i in 0..<inner { out[i] = Swift.max(out[i], row[i]) }
                }
            }
            return
        }
        for k in 0..<(samples * outer) {
            let row = source + k * inner
            var (m0, m1, m2, m3) = (-T.infinity, -T.infinity, -T.infinity, -T.infinity)
            var i = 0
            while i + 4 <= inner {
                m0 = Swift.max(m0, row[i]); m1 = Swift.max(m1, row[i + 1])
                m2 = Swift.max(m2, row[i + 2]); m3 = Swift.max(m3, row[i + 3])
                i += 4
            }
            while i < inner { m0 = Swift.max(m0, row[i]); i += 1 }
            target[k] = Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func center<T: BLASScalar>(_ values: [T], shape: [Int]) -> ([T], Int) {
        let samples = shape[0]
        if shape.count == 3 {
            let (tokens, features) = (shape[1], shape[2]), middle = (tokens - 1) / 2
            var rows = [T]()
            rows.reserveCapacity(samples * features)
            for n in 0..<samples { rows += values[((n * tokens + middle) * features)..<((n * tokens + middle + 1) * features)] }
            return (rows, features)
        }
        let channels = shape[1], spatial = Array(shape[2...]), planeSize = spatial.reduce(1, *)
        var offset = 0, stride = 1
        for axis in spatial.indices.reversed() {
            offset += (spatial[axis] - 1) / 2 * stride
            stride *= spatial[axis]
        }
        var rows = [T](repeating: 0, count: samples * channels)
        for n in 0..<samples { for c in 0..<channels { rows[n * channels + c] = values[(n * channels + c) * planeSize + offset] } }
        return (rows, channels)
    }

    /// Every `stride`-th token (rank 3) or position along each spatial axis (rank ≥ 4).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func subsample<T: BLASScalar>(_ values: [T], shape: [Int], stride: Int) -> ([T], Int) {
        let spatialAxes = shape.count == 3 ? [1] : Array(2..<shape.count)
        var kept = shape
        // Rounded up without `shape + stride − 1`, which overflows for a stride near Int.max.
        for axis in spatialAxes { kept[axis] = shape[axis] == 0 ? 0 : (shape[axis] - 1) / stride + 1 }
        var sourceStrides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { sourceStrides[axis] = sourceStrides[axis + 1] * shape[axis + 1] }
        let total = kept.reduce(1, *)
        var rows = [T]()
        rows.reserveCapacity(total)
        var counter = Array(repeating: 0, count: kept.count)
        for _ in 0..<total {
            var offset = 0
            for axis in kept.indices {
                offset += counter[axis] * (spatialAxes.contains(axis) ? stride : 1) * sourceStrides[axis]
            }
            rows.append(values[offset])
            var axis = kept.count - 1
            while axis >= 0 {
                counter[axis] += 1
                if counter[axis] < kept[axis] { break }
                counter[axis] = 0
                axis -= 1
            }
        }
        return (rows, shape[0] == 0 ? kept.dropFirst().reduce(1, *) : rows.count / shape[0])
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    func project<T: BLASScalar>(_ values: [T], samples: Int, width: Int, dimensions k: Int, seed: UInt64) throws -> ([T], Int) {
        if projection?.inputs != width {
            // A layer without features still gets `k` columns of output: count it as width 1.
            let (entries, overflow) = Swift.max(width, 1).multipliedReportingOverflow(by: k)
            guard !overflow, entries <= Self.projectionLimit else {
                throw ActivationError.invalidReduction(
                    file: source, layer: layer,
                    problem: "a projection from \(width) to \(k) features needs \(overflow ? "more than \(Int.max)" : String(entries)) entries (limit \(Self.projectionLimit)); subsample or pool first")
            }
            var generator = SeededGenerator(seed: seed)
            let scale = 1 / Double(k).squareRoot()
            var matrix = [Float](repeating: 0, count: width * k)
            for i in matrix.indices { matrix[i] = Float(generator.nextGaussian() * scale) }
            projection = (width, matrix)
        }
        guard let stored = projection?.matrix else { return ([], k) }
        // The matrix is drawn in Float whatever the values, so Float and Double activations
        // see the same projection.
        let matrix: [T] = (stored as? [T]) ?? stored.map { T($0) }
        // Row-major X (samples × width) times P (width × k) is, column-major, Pᵀ·Xᵀ.
        var result = [T](repeating: 0, count: samples * k)
        guard samples > 0, width > 0 else { return (result, k) }
        values.withUnsafeBufferPointer { x in
            matrix.withUnsafeBufferPointer { p in
                result.withUnsafeMutableBufferPointer { r in
                    T._gemm(transA: false, transB: false, m: k, n: samples, k: width, alpha: 1,
                            a: p.baseAddress!, lda: k, b: x.baseAddress!, ldb: width, beta: 0, c: r.baseAddress!, ldc: k)
                }
            }
        }
        return (result, k)
    }
}

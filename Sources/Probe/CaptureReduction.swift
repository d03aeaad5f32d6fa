import Activations
import Analysis
import LinearAlgebra
import Networks

/// How a layer's activation for a batch becomes a *samples × features* block, before it is
/// stored or accumulated. Reducing per batch keeps memory bounded by batch × width.
///
/// The axis conventions are those of ``SpatialReduction``: rank ≥ 4 is
/// `[batch, channels, spatial…]`, rank 3 is `[batch, tokens, features]`, ranks 1–2 are kept.
public enum CaptureReduction: Sendable, Equatable, CustomStringConvertible {
    /// Every element a feature.
    case flatten
    /// The mean over spatial positions (rank ≥ 4) or tokens (rank 3).
    case mean
    /// The maximum over spatial positions (rank ≥ 4) or tokens (rank 3).
    case max
    /// Each channel at the central position, `(size − 1) / 2` rounded down along every
    /// spatial axis (rank ≥ 4), or the middle token (rank 3): what an electrode in the middle
    /// of the visual field records, one unit per channel.
    case center
    /// Every `stride`-th position along each spatial axis (or token), then flattened.
    case subsample(stride: Int)
    /// Flattened, then multiplied by a fixed Gaussian matrix with entries N(0, 1/k): a
    /// Johnson–Lindenstrauss projection to `dimensions` features that preserves inner
    /// products in expectation. The matrix depends only on `seed` and the layer's width.
    case project(dimensions: Int, seed: UInt64)

    public var description: String {
        switch self {
        case .flatten: return "flatten"
        case .mean: return "mean"
        case .max: return "max"
        case .center: return "center"
        case let .subsample(stride): return "subsample:\(stride)"
        case let .project(k, seed): return "project:\(k) (seed \(seed))"
        }
    }

    /// Parses `flatten`, `mean`, `max`, `center`, `subsample:S` or `project:K`.
    public init?(parsing text: String, seed: UInt64 = 0) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count > 1 ? Int(parts[1]) : nil) {
        case ("flatten", nil) where parts.count == 1: self = .flatten
        case ("mean", nil) where parts.count == 1: self = .mean
        case ("max", nil) where parts.count == 1: self = .max
        case ("center", nil) where parts.count == 1: self = .center
        case let ("subsample", stride?) where stride >= 1: self = .subsample(stride: stride)
        case let ("project", k?) where k >= 1: self = .project(dimensions: k, seed: seed)
        default: return nil
        }
    }
}

/// Applies a ``CaptureReduction`` batch after batch; holds the projection matrix once made.
final class BatchReducer: @unchecked Sendable {
    let reduction: CaptureReduction
    let layer: String
    private var projection: (inputs: Int, matrix: [Float])?
    /// The largest projection matrix built (entries), 256 MiB of floats.
    static let projectionLimit = 1 << 26

    init(_ reduction: CaptureReduction, layer: String) {
        self.reduction = reduction
        self.layer = layer
    }

    /// The reduced rows of one batch, row-major, and the feature count.
    func reduce(_ tensor: Tensor) throws -> (rows: [Float], features: Int) {
        let values: [Float]
        switch tensor.storage {
        case let .float32(v): values = v
        case let .float64(v): values = v.map(Float.init)
        default:
            throw ProbeError.invalidReduction(layer: layer, problem: "activation of type \(tensor.dataType) cannot be captured; choose a float layer")
        }
        guard let batch = tensor.shape.first else {
            throw ProbeError.invalidReduction(layer: layer, problem: "a scalar has no batch axis")
        }
        let width = batch == 0 ? 0 : values.count / batch
        let shape = tensor.shape
        switch reduction {
        case .flatten:
            return (values, width)
        case .mean, .max:
            guard shape.count >= 3 else { return (values, width) }
            return pool(values, shape: shape, max: reduction == .max)
        case .center:
            guard shape.count >= 3 else { return (values, width) }
            return center(values, shape: shape)
        case let .subsample(stride):
            guard shape.count >= 3 else { return (values, width) }
            return subsample(values, shape: shape, stride: stride)
        case let .project(k, seed):
            return try project(values, batch: batch, width: width, dimensions: k, seed: seed)
        }
    }

    private func pool(_ values: [Float], shape: [Int], max: Bool) -> ([Float], Int) {
        let batch = shape[0]
        let (outer, inner, reduceOuter) = shape.count == 3
            ? (shape[1], shape[2], true) : (shape[1], shape[2...].reduce(1, *), false)
        let kept = reduceOuter ? inner : outer
        let count = reduceOuter ? outer : inner
        var result = [Float](repeating: max ? -.infinity : 0, count: batch * kept)
        values.withUnsafeBufferPointer { v in
            for n in 0..<batch {
                for o in 0..<outer {
                    let row = n * outer * inner + o * inner
                    for i in 0..<inner {
                        let target = n * kept + (reduceOuter ? i : o)
                        result[target] = max ? Swift.max(result[target], v[row + i]) : result[target] + v[row + i]
                    }
                }
            }
        }
        if !max, count > 0 { for i in result.indices { result[i] /= Float(count) } }
        return (result, kept)
    }

    private func center(_ values: [Float], shape: [Int]) -> ([Float], Int) {
        let batch = shape[0]
        if shape.count == 3 {
            let (tokens, features) = (shape[1], shape[2]), middle = (tokens - 1) / 2
            guard tokens > 0 else { return ([], features) }
            var rows = [Float]()
            rows.reserveCapacity(batch * features)
            for n in 0..<batch { rows += values[((n * tokens + middle) * features)..<((n * tokens + middle + 1) * features)] }
            return (rows, features)
        }
        let channels = shape[1], spatial = Array(shape[2...]), planeSize = spatial.reduce(1, *)
        guard planeSize > 0 else { return ([], channels) }
        var offset = 0
        for (axis, stride) in Tensor.strides(spatial).enumerated() { offset += (spatial[axis] - 1) / 2 * stride }
        var rows = [Float](repeating: 0, count: batch * channels)
        for n in 0..<batch { for c in 0..<channels { rows[n * channels + c] = values[(n * channels + c) * planeSize + offset] } }
        return (rows, channels)
    }

    private func subsample(_ values: [Float], shape: [Int], stride: Int) -> ([Float], Int) {
        // Rank 3 keeps every stride-th token; rank ≥ 4 every stride-th position per spatial axis.
        let spatialAxes = shape.count == 3 ? [1] : Array(2..<shape.count)
        var kept = shape
        for axis in spatialAxes { kept[axis] = (shape[axis] + stride - 1) / stride }
        let sourceStrides = Tensor.strides(shape)
        var rows = [Float]()
        rows.reserveCapacity(Tensor.count(kept))
        var counter = Array(repeating: 0, count: kept.count)
        let total = Tensor.count(kept)
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
        return (rows, shape[0] == 0 ? 0 : rows.count / shape[0])
    }

    private func project(_ values: [Float], batch: Int, width: Int, dimensions k: Int, seed: UInt64) throws -> ([Float], Int) {
        if projection?.inputs != width {
            guard width.multipliedReportingOverflow(by: k).partialValue <= Self.projectionLimit else {
                throw ProbeError.invalidReduction(
                    layer: layer,
                    problem: "a projection from \(width) to \(k) features needs \(width * k) entries (limit \(Self.projectionLimit)); subsample or pool first")
            }
            var generator = SeededGenerator(seed: seed)
            let scale = 1 / Double(k).squareRoot()
            var matrix = [Float](repeating: 0, count: width * k)
            for i in matrix.indices { matrix[i] = Float(generator.nextGaussian() * scale) }
            projection = (width, matrix)
        }
        guard let matrix = projection?.matrix else { return ([], k) }
        // Row-major X (batch × width) times P (width × k) is, column-major, Pᵀ·Xᵀ.
        var result = [Float](repeating: 0, count: batch * k)
        guard batch > 0, width > 0 else { return (result, k) }
        values.withUnsafeBufferPointer { x in
            matrix.withUnsafeBufferPointer { p in
                result.withUnsafeMutableBufferPointer { r in
                    Float._gemm(transA: false, transB: false, m: k, n: batch, k: width, alpha: 1,
                                a: p.baseAddress!, lda: k, b: x.baseAddress!, ldb: width, beta: 0, c: r.baseAddress!, ldc: k)
                }
            }
        }
        return (result, k)
    }
}

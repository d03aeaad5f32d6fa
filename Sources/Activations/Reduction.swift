/// How a layer's activation becomes a *samples × features* matrix: the one reduction of
/// capture, activation files, probe sets, every command and the library.
///
/// Axis 0 is always the sample axis. What counts as the feature axis depends on the rank:
///
/// - Rank ≥ 4 is taken as `[samples, channels, spatial…]` (PyTorch's NCHW, or NCDHW):
///   `mean`, `max` and `center` act on every axis after the channel axis, giving
///   *samples × channels*; `subsample` keeps every `stride`-th position along each of them.
/// - Rank 3 is taken as `[samples, positions, features]` (a transformer's
///   `[batch, tokens, hidden]`): `mean`, `max`, `center` and `subsample` act on the
///   positions (axis 1). A 1-D convolution's `[samples, channels, length]` output must be
///   transposed to `[samples, length, channels]` first to be pooled per channel.
/// - `flatten` keeps every element: *samples × (product of the other dimensions)*, the
///   columns in row-major (C) order of the remaining axes, whatever the rank. `project`
///   flattens, then projects.
///
/// Ranks 1 and 2 are used as they are by every reduction but `project`: a vector is one
/// feature per sample and a matrix is already *samples × features*.
///
/// Token layers of a padded batch come with an attention mask (``Reducer``): `mean` and
/// `max` then pool the real tokens only, `center` takes the middle real token, `first` the
/// first and `last` the last real token (a decoder's summary of the sentence), and
/// `flatten`, `subsample` and `project` see padded positions as zeros, so padding never
/// counts.
///
/// Reducing batch by batch (``Reducer``) keeps the memory of a capture bounded by
/// batch × width.
public enum Reduction: Sendable, Hashable, CustomStringConvertible {
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
    /// The first token of a token layer (BERT's `[CLS]`); spelled `first` or `cls`.
    case first
    /// The last (real) token of a token layer, a decoder's summary of what it read.
    case last
    /// Flattened, then multiplied by a fixed Gaussian matrix with entries N(0, 1/k): a
    /// Johnson–Lindenstrauss projection to `dimensions` features that preserves inner
    /// products in expectation. The matrix depends only on `seed` and the layer's width.
    case project(dimensions: Int, seed: UInt64)

    /// The spellings ``init(parsing:seed:)`` reads, for messages and help.
    public static let spellings = "flatten, mean, max, center, first (or cls), last, subsample:S or project:K"

    /// Parses `flatten`, `mean`, `max`, `center`, `first` (`cls`), `last`, `subsample:S` or
    /// `project:K`; `seed` is the projection's.
    public init?(parsing text: String, seed: UInt64 = 0) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let argument = parts.count > 1 ? Int(parts[1]) : nil
        switch (parts[0], parts.count) {
        case ("flatten", 1): self = .flatten
        case ("mean", 1): self = .mean
        case ("max", 1): self = .max
        case ("center", 1): self = .center
        case ("first", 1), ("cls", 1): self = .first
        case ("last", 1): self = .last
        case ("subsample", 2) where (argument ?? 0) >= 1: self = .subsample(stride: argument ?? 1)
        case ("project", 2) where (argument ?? 0) >= 1: self = .project(dimensions: argument ?? 1, seed: seed)
        default: return nil
        }
    }

    /// The same reduction with the projection drawn from `seed` (other reductions have none).
    public func seeded(_ seed: UInt64) -> Reduction {
        if case let .project(k, _) = self { return .project(dimensions: k, seed: seed) }
        return self
    }

    public var description: String {
        switch self {
        case .flatten: return "flatten"
        case .mean: return "mean"
        case .max: return "max"
        case .center: return "center"
        case .first: return "first"
        case .last: return "last"
        case let .subsample(stride): return "subsample:\(stride)"
        case let .project(k, seed): return "project:\(k) (seed \(seed))"
        }
    }

    /// Whether reducing an array of `shape` would pool, or pick from, an axis of length zero
    /// that has samples and features around it.
    public func reducesEmptyAxis(_ shape: [Int]) -> Bool {
        switch self {
        case .first, .last:
            return shape.count == 3 && shape[1] == 0 && shape[0] * shape[2] > 0
        case .mean, .max, .center:
            guard shape.count >= 3 else { return false }
            let reduced = shape.count == 3 ? shape[1] : shape[2...].reduce(1, *)
            let kept = shape.count == 3 ? shape[2] : shape[1]
            return reduced == 0 && shape[0] * kept > 0
        case .flatten, .subsample, .project:
            return false
        }
    }
}

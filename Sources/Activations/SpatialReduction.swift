import LinearAlgebra

/// How an array of rank 3 or more becomes a *samples × features* matrix.
///
/// Axis 0 is always the sample axis. What counts as the feature axis depends on the rank:
///
/// - Rank ≥ 4 is taken as `[samples, channels, spatial…]` (PyTorch's NCHW, or NCDHW):
///   `mean` and `max` reduce over every axis after the channel axis, giving
///   *samples × channels*.
/// - Rank 3 is taken as `[samples, positions, features]` (a transformer's
///   `[batch, tokens, hidden]`): `mean` and `max` reduce over the positions (axis 1), giving
///   *samples × features*. A 1-D convolution's `[samples, channels, length]` output must be
///   transposed to `[samples, length, channels]` first to be pooled per channel.
/// - `flatten` keeps every element: *samples × (product of the other dimensions)*, the
///   columns in row-major (C) order of the remaining axes, whatever the rank.
///
/// Ranks 1 and 2 are never reduced: a vector is one feature per sample and a matrix is used
/// as is.
public enum SpatialReduction: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Every element becomes a feature.
    case flatten
    /// The mean over the positions (rank 3) or spatial axes (rank ≥ 4).
    case mean
    /// The maximum over the positions (rank 3) or spatial axes (rank ≥ 4).
    case max

    public var description: String { rawValue }

    /// The *samples × features* matrix of row-major `values` with dimensions `shape`.
    ///
    /// - Precondition: `shape` has rank ≥ 1, `values.count` is its product, and for `mean`
    ///   and `max` on rank ≥ 3 the reduced axes are not empty.
    public func matrix(from values: [Double], shape: [Int]) -> Matrix<Double> {
        precondition(!shape.isEmpty, "a scalar has no sample axis")
        let samples = shape[0]
        let rest = shape.dropFirst().reduce(1, *)
        precondition(values.count == samples * rest, "shape \(shape) does not match \(values.count) values")
        if shape.count <= 2 || self == .flatten {
            return Self.matrix(rows: samples, columns: rest, rowMajor: values)
        }
        // View the array as [samples, outer, inner] and reduce one of the last two axes.
        let (outer, inner, reduceOuter): (Int, Int, Bool) =
            shape.count == 3
            ? (shape[1], shape[2], true)  // [N, T, F]: reduce T, keep F
            : (shape[1], shape[2...].reduce(1, *), false)  // [N, C, S]: reduce S, keep C
        let kept = reduceOuter ? inner : outer
        let reducedLength = reduceOuter ? outer : inner
        precondition(reducedLength > 0 || samples * kept == 0, "cannot reduce over an empty axis")
        var result = [Double](repeating: self == .max ? -.infinity : 0, count: samples * kept)
        for n in 0..<samples {
            let base = n * outer * inner
            for o in 0..<outer {
                for i in 0..<inner {
                    let value = values[base + o * inner + i]
                    let target = n * kept + (reduceOuter ? i : o)
                    result[target] = self == .max ? Swift.max(result[target], value) : result[target] + value
                }
            }
        }
        if self == .mean {
            let count = Double(reducedLength)
            for k in result.indices { result[k] /= count }
        }
        return Self.matrix(rows: samples, columns: kept, rowMajor: result)
    }

    /// Whether reducing an array of `shape` would take a mean or maximum over an empty axis.
    func reducesEmptyAxis(_ shape: [Int]) -> Bool {
        guard self != .flatten, shape.count >= 3 else { return false }
        let reduced = shape.count == 3 ? shape[1] : shape[2...].reduce(1, *)
        let kept = shape.count == 3 ? shape[2] : shape[1]
        return reduced == 0 && shape[0] * kept > 0
    }

    /// `Matrix.init(rows:columns:rowMajor:)`, also for zero elements.
    static func matrix(rows: Int, columns: Int, rowMajor values: [Double]) -> Matrix<Double> {
        values.isEmpty ? Matrix(rows: rows, columns: columns) : Matrix(rows: rows, columns: columns, rowMajor: values)
    }
}

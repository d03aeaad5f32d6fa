import LinearAlgebra

/// Mutual k-nearest-neighbour alignment (Huh et al. 2024, "The Platonic Representation
/// Hypothesis").
///
/// Samples (rows) are L2-normalised and compared by cosine similarity; `N_X(i)` is the set
/// of the `k` samples most similar to sample `i` in `x`, excluding `i` itself (ties broken
/// by the lower index). The score is `mean_i |N_X(i) ∩ N_Y(i)| / k`, in [0, 1]; for random,
/// unrelated representations it is about `k/(n−1)`.
public enum NeighborAlignment {
    public static func mutualKNN(_ x: Matrix<Double>, _ y: Matrix<Double>, k: Int = 10) throws -> Double {
        try AnalysisError.checkSameSamples(x.rows, y.rows, "mutual k-NN")
        let n = x.rows
        guard k >= 1 && k < n else {
            throw AnalysisError.invalidArgument("mutual k-NN: k must be between 1 and n − 1 = \(n - 1), got \(k)")
        }
        return alignment(neighbours(x, k: k), neighbours(y, k: k))
    }

    /// The mutual k-NN score of two neighbour lists from ``neighbours(_:k:)`` (same samples,
    /// same `k`), so that each representation's neighbours are found once.
    public static func alignment(_ a: [[Int]], _ b: [[Int]]) -> Double {
        precondition(a.count == b.count, "neighbour lists for different sample counts")
        let k = a.first?.count ?? 0
        guard k > 0 else { return 0 }
        var total = 0
        for i in a.indices { total += Set(a[i]).intersection(b[i]).count }
        return Double(total) / Double(a.count * k)
    }

    /// The indices of each sample's `k` most cosine-similar other samples.
    public static func neighbours(_ x: Matrix<Double>, k: Int) -> [[Int]] {
        let n = x.rows
        var z = x
        let norms = (0..<n).map { i in (0..<x.columns).reduce(0.0) { $0 + x[i, $1] * x[i, $1] }.squareRoot() }
        for j in 0..<x.columns { for i in 0..<n where norms[i] > 0 { z[i, j] /= norms[i] } }
        let s = z.outerGram()
        return (0..<n).map { i in
            // Keep the k best in a small sorted buffer: O(n·k) per sample.
            var best: [(similarity: Double, index: Int)] = []
            best.reserveCapacity(k + 1)
            for j in 0..<n where j != i {
                let v = s[j, i]
                if best.count == k, let last = best.last, !(v > last.similarity) { continue }
                var position = best.count
                while position > 0 && v > best[position - 1].similarity { position -= 1 }
                best.insert((v, j), at: position)
                if best.count > k { best.removeLast() }
            }
            return best.map(\.index)
        }
    }
}

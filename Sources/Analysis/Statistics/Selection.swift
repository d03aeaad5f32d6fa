/// Order statistics without a full sort.
enum Selection {
    /// Rearranges `values` so that `values[k]` is the value a full sort would put there
    /// (Hoare's selection with median-of-three pivots; expected linear time).
    static func nthElement(_ values: inout [Double], _ k: Int) {
        precondition(k >= 0 && k < values.count)
        values.withUnsafeMutableBufferPointer { v in
            var lo = 0, hi = v.count - 1
            while lo < hi {
                let mid = lo + (hi - lo) / 2
                if v[mid] < v[lo] { v.swapAt(mid, lo) }
                if v[hi] < v[lo] { v.swapAt(hi, lo) }
                if v[hi] < v[mid] { v.swapAt(hi, mid) }
                let pivot = v[mid]
                var i = lo, j = hi
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while pivot < v[j] { j -= 1 }
                    if i <= j { v.swapAt(i, j); i += 1; j -= 1 }
                }
                if k <= j { hi = j } else if k >= i { lo = i } else { return }
            }
        }
    }

    /// The `k`-th smallest value (0-based).
    static func kthSmallest(_ values: [Double], _ k: Int) -> Double {
        var copy = values
        nthElement(&copy, k)
        return copy[k]
    }

    /// The median, averaging the two middle values for an even count (as NumPy does).
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        var copy = values
        let n = copy.count
        nthElement(&copy, n / 2)
        let upper = copy[n / 2]
        if n % 2 == 1 { return upper }
        let lower = copy[0..<(n / 2)].max() ?? upper
        return (lower + upper) / 2
    }
}

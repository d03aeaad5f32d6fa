import LinearAlgebra

extension Matrix where Scalar == Double {
    /// `self · weights + 1·biasᵀ`: a linear map of every row (sample) plus a per-column offset.
    func affine(_ weights: Matrix<Double>, bias: [Double]) -> Matrix<Double> {
        var z = multiplied(by: weights)
        z.addToEveryRow(bias)
        return z
    }

    /// Adds `v[j]` to every element of column `j`.
    mutating func addToEveryRow(_ v: [Double]) {
        precondition(v.count == columns, "vector has \(v.count) elements, expected \(columns)")
        let n = rows
        storage.withUnsafeMutableBufferPointer { p in
            for j in 0..<v.count {
                let offset = v[j]
                for i in 0..<n { p[i + j * n] += offset }
            }
        }
    }
}

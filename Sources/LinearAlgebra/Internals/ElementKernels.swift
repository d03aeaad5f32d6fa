// Element-wise loops behind the `@inlinable` `Matrix` methods.
//
// Design note: a closure inside an `@inlinable` generic method (the body handed to
// `withUnsafeBufferPointer` or `map`) is not specialised when a client module specialises
// the method, so its loop would run through generic witness calls, tens of times slower
// than the arithmetic. The loops therefore live here, in `@inlinable` functions that take
// pointers, and the methods pass their storage with Swift's array-to-pointer argument
// conversion (`kernel(storage, …)`, `kernel(&storage, …)`): no closure stands between the
// specialised caller and the loop.

extension Matrix {
    /// Means of the `columns` columns of a column-major `rows × columns` block, accumulated
    /// in `Double`, each column in four interleaved sums (one chain of additions would wait
    /// on every addition before the next).
    @inlinable
    static func columnMeansKernel(_ p: UnsafePointer<Scalar>, rows: Int, columns: Int) -> [Scalar] {
        var means = [Scalar](repeating: 0, count: columns)
        guard rows > 0 else { return means }
        for j in 0..<columns {
            let column = p + j * rows
            var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
            var i = 0
            while i + 4 <= rows {
                s0 += Double(column[i])
                s1 += Double(column[i + 1])
                s2 += Double(column[i + 2])
                s3 += Double(column[i + 3])
                i += 4
            }
            while i < rows {
                s0 += Double(column[i])
                i += 1
            }
            means[j] = Scalar(((s0 + s1) + (s2 + s3)) / Double(rows))
        }
        return means
    }

    /// Rows `start ..< start + count` of the column-major `x` (`rows` rows, `means.count`
    /// columns), each less its column's mean, into the column-major `count × means.count` `z`.
    @inlinable
    static func centredRowsKernel(_ x: UnsafePointer<Scalar>, rows: Int, start: Int, count: Int, means: [Scalar],
                                  into z: UnsafeMutablePointer<Scalar>) {
        for j in 0..<means.count {
            let m = means[j]
            let source = x + j * rows + start, target = z + j * count
            for i in 0..<count { target[i] = source[i] - m }
        }
    }

    /// Subtracts `means[j]` from column `j` of a column-major `rows × means.count` block.
    @inlinable
    static func subtractColumnMeansKernel(_ p: UnsafeMutablePointer<Scalar>, rows: Int, means: [Scalar]) {
        for j in 0..<means.count {
            let m = means[j]
            for i in (j * rows)..<((j + 1) * rows) { p[i] -= m }
        }
    }

    /// `‖v‖₂` of `count` contiguous elements: the largest magnitude `m`, then `m·√Σ(v/m)²`,
    /// with the division done as a multiplication by `1/m` unless that is not finite (`m`
    /// subnormal).
    @inlinable
    static func euclideanNormKernel(_ p: UnsafePointer<Scalar>, count: Int) -> Scalar {
        var scale: Scalar = 0
        var sawNaN = false
        for i in 0..<count {
            // `max` never picks a NaN, so NaNs are looked for on their own.
            sawNaN = sawNaN || p[i].isNaN
            scale = Swift.max(scale, Swift.abs(p[i]))
        }
        if sawNaN { return .nan }
        if scale == 0 || !scale.isFinite { return scale }
        let inverse = 1 / scale
        var sum: Scalar = 0
        if inverse.isFinite {
            for i in 0..<count { let r = p[i] * inverse; sum += r * r }
        } else {
            for i in 0..<count { let r = p[i] / scale; sum += r * r }
        }
        return scale * sum.squareRoot()
    }

    /// Multiplies `count` contiguous elements by `factor`.
    @inlinable
    static func scaleKernel(_ p: UnsafeMutablePointer<Scalar>, count: Int, by factor: Scalar) {
        for i in 0..<count { p[i] *= factor }
    }

    /// Copies the upper triangle of a column-major `n × n` matrix into its lower triangle,
    /// in tiles so that the strided reads stay in cache.
    @inlinable
    static func symmetrizeFromUpperKernel(_ p: UnsafeMutablePointer<Scalar>, n: Int) {
        let block = 64
        var j0 = 0
        while j0 < n {
            let j1 = Swift.min(j0 + block, n)
            var i0 = j0
            while i0 < n {
                let i1 = Swift.min(i0 + block, n)
                for j in j0..<j1 {
                    var i = Swift.max(i0, j + 1)
                    while i < i1 {
                        p[i + j * n] = p[j + i * n]
                        i += 1
                    }
                }
                i0 = i1
            }
            j0 = j1
        }
    }

    /// Converts `count` contiguous elements to another scalar type.
    @inlinable
    static func convertKernel<T: BLASScalar>(_ p: UnsafePointer<Scalar>, into target: UnsafeMutablePointer<T>, count: Int) {
        for i in 0..<count { target[i] = T(p[i]) }
    }
}

/// `Softmax` and `LogSoftmax`.
///
/// From opset 13 they normalise along `axis` (default −1). Before, the input is viewed as a
/// matrix whose rows are everything from `axis` on (default 1), and each row is
/// normalised: the same kernel with the trailing dimensions merged into one.
enum SoftmaxOperators {
    static let factories: [String: OperatorFactory] = [
        "Softmax": { context in try SoftmaxOperator(context, logarithm: false) },
        "LogSoftmax": { context in try SoftmaxOperator(context, logarithm: true) },
    ]
}

/// `softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)` and `log softmax(x)ᵢ = xᵢ − m − ln Σⱼ e^(xⱼ − m)`,
/// with `m` the largest element of the slice, so that no exponential overflows.
struct SoftmaxOperator: Operator {
    let axis: Int
    let flattensTrailingAxes: Bool
    let logarithm: Bool

    init(_ context: NodeContext, logarithm: Bool) throws {
        flattensTrailingAxes = context.opset < 13
        axis = try context.int("axis", default: flattensTrailingAxes ? 1 : -1)
        self.logarithm = logarithm
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        let rank = x.rank
        guard axis >= -rank && axis < rank else {
            throw KernelError("axis \(axis) is out of range for rank \(rank)")
        }
        let a = axis < 0 ? axis + rank : axis
        let outer = Tensor.count(Array(x.shape.prefix(a)))
        let length: Int, inner: Int
        if flattensTrailingAxes {
            length = Tensor.count(Array(x.shape.dropFirst(a)))
            inner = 1
        } else {
            length = x.shape[a]
            inner = Tensor.count(Array(x.shape.dropFirst(a + 1)))
        }
        let layout = Layout(outer: outer, length: length, inner: inner, logarithm: logarithm)
        return [Tensor(shape: x.shape, storage: try x.visit(layout))]
    }

    /// The input as `[outer, length, inner]`, normalised along the middle.
    private struct Layout: FloatingVisitor {
        let outer: Int
        let length: Int
        let inner: Int
        let logarithm: Bool

        func visit<T: FloatingKernel>(_ x: [T]) -> TensorStorage {
            var result: [T] = ElementLoops.uninitialized(outer * length * inner)
            if inner == 1 {
                rows(&result, x)
            } else {
                var scratch: [T] = ElementLoops.uninitialized(inner)
                for block in 0..<outer { normaliseColumns(&result, x, start: block * length * inner, &scratch) }
            }
            return T.storage(result)
        }

        /// Every row, the rows shared between two threads when there are enough elements.
        private func rows<T: FloatingKernel>(_ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>) {
            ElementLoops.inHalves(outer, elements: outer * length) { range in
                for row in range { normaliseRow(out, x, start: row * length) }
            }
        }

        /// One contiguous slice: the hot path of attention and classifier heads.
        @inline(__always)
        private func normaliseRow<T: FloatingKernel>(_ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, start: Int) {
            var largest = -T.infinity
            var sum: T = 0
            if T.self == Float.self {
                let row = UnsafeMutableRawPointer(out + start).assumingMemoryBound(to: Float.self)
                let values = UnsafeRawPointer(x + start).assumingMemoryBound(to: Float.self)
                // Float32 softmax is one call of the vector kernels, which fused attention shares.
                guard logarithm else { return VectorMath.softmax(row, values, length) }
                let rowMaximum = VectorMath.maximum(values, length)
                (largest, sum) = (T(rowMaximum), T(VectorMath.shiftedExponentials(row, values, length, minus: rowMaximum)))
            } else {
                for i in start..<(start + length) { largest = Swift.max(largest, x[i]) }
                for i in start..<(start + length) {
                    let e = T.exp(x[i] - largest)
                    out[i] = e
                    sum += e
                }
            }
            if logarithm {
                // (x − m) − ln Σ, in that order: x − (m + ln Σ) would round m + ln Σ to the
                // precision of the logits' magnitude.
                let logSum = T.log(sum)
                for i in start..<(start + length) { out[i] = (x[i] - largest) - logSum }
            } else {
                let scale = 1 / sum
                for i in start..<(start + length) { out[i] *= scale }
            }
        }

        /// A `[length, inner]` block normalised down its columns, row by row so that every
        /// pass reads contiguous memory. `s` holds one row of maxima, then of sums.
        @inline(__always)
        private func normaliseColumns<T: FloatingKernel>(
            _ out: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, start: Int, _ s: UnsafeMutablePointer<T>
        ) {
            for j in 0..<inner { s[j] = -T.infinity }
            for k in 0..<length {
                let row = start + k * inner
                for j in 0..<inner { s[j] = Swift.max(s[j], x[row + j]) }
            }
            for k in 0..<length {
                let row = start + k * inner
                for j in 0..<inner { out[row + j] = x[row + j] - s[j] }
            }
            for j in 0..<inner { s[j] = 0 }
            for k in 0..<length {
                let row = start + k * inner
                for j in 0..<inner {
                    let e = T.exp(out[row + j])
                    if !logarithm { out[row + j] = e }
                    s[j] += e
                }
            }
            if logarithm {
                for j in 0..<inner { s[j] = T.log(s[j]) }
                for k in 0..<length {
                    let row = start + k * inner
                    for j in 0..<inner { out[row + j] -= s[j] }
                }
            } else {
                for j in 0..<inner { s[j] = 1 / s[j] }
                for k in 0..<length {
                    let row = start + k * inner
                    for j in 0..<inner { out[row + j] *= s[j] }
                }
            }
        }
    }
}

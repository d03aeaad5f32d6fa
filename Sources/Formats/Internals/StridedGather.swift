/// Copies the elements of a strided view into row-major order.
///
/// Element `(i₀, …, iₙ₋₁)` of the view is `values[offset + Σ iₖ·strides[k]]`; strides count
/// elements. Callers check that every such index lies in `values` before calling.
enum StridedGather {
    static func gather(
        _ storage: NumericArray.Storage, shape: [Int], strides: [Int], offset: Int
    ) -> NumericArray.Storage {
        switch storage {
        case let .float32(values): return .float32(gather(values, shape: shape, strides: strides, offset: offset))
        case let .float64(values): return .float64(gather(values, shape: shape, strides: strides, offset: offset))
        case let .int32(values): return .int32(gather(values, shape: shape, strides: strides, offset: offset))
        case let .int64(values): return .int64(gather(values, shape: shape, strides: strides, offset: offset))
        }
    }

    /// Walks the output in row-major order while tracking the matching source index.
    static func gather<T>(_ values: [T], shape: [Int], strides: [Int], offset: Int) -> [T] {
        precondition(shape.count == strides.count, "one stride per dimension")
        let count = shape.reduce(1, *)
        guard count > 0 else { return [] }
        guard let last = shape.indices.last else { return [values[offset]] }
        var index = [Int](repeating: 0, count: shape.count)
        var source = offset
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            var target = 0
            while target < count {
                // Innermost axis in a tight loop.
                let stride = strides[last]
                for _ in 0..<shape[last] {
                    buffer[target] = values[source]
                    target += 1
                    source += stride
                }
                source -= stride * shape[last]
                // Odometer step over the outer axes.
                var axis = last - 1
                while axis >= 0 {
                    index[axis] += 1
                    source += strides[axis]
                    if index[axis] < shape[axis] { break }
                    source -= strides[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
            initialized = count
        }
    }
}

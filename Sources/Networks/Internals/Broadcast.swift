/// NumPy-style (multidirectional) broadcasting, as ONNX defines it: shapes are aligned at
/// their last dimension, and a dimension of 1 stretches to match the other.
enum Broadcast {
    /// The broadcast shape of `shapes`, or a kernel error naming the two that conflict.
    static func shape(_ shapes: [[Int]]) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var result = Array(repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (axis, dim) in shape.enumerated() {
                let current = result[offset + axis]
                if current == dim || dim == 1 { continue }
                guard current == 1 else {
                    throw KernelError("shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) cannot be broadcast together")
                }
                result[offset + axis] = dim
            }
        }
        _ = try Tensor.checkedCount(result)
        return result
    }

    /// The strides with which to read an operand of shape `shape` while walking `output`
    /// in row-major order: 0 along stretched dimensions. `shape` must broadcast to `output`.
    static func strides(of shape: [Int], in output: [Int]) -> [Int] {
        let own = Tensor.strides(shape)
        let offset = output.count - shape.count
        return output.indices.map { axis in
            let inner = axis - offset
            return inner < 0 || shape[inner] == 1 ? 0 : own[inner]
        }
    }

    /// For every element of `output` in row-major order, the flat index of the element of
    /// an operand of shape `shape` that it reads.
    static func indexMap(of shape: [Int], in output: [Int]) -> [Int] {
        let strides = strides(of: shape, in: output)
        let count = Tensor.count(output)
        guard count > 0 else { return [] }
        var map = [Int](repeating: 0, count: count)
        guard let last = output.indices.last else { return map }
        let inner = output[last]
        let innerStride = strides[last]
        var counter = Array(repeating: 0, count: output.count)
        var base = 0
        var position = 0
        map.withUnsafeMutableBufferPointer { map in
            while position < count {
                for i in 0..<inner { map[position + i] = base + i * innerStride }
                position += inner
                // Advance the odometer over the outer dimensions.
                var axis = last - 1
                while axis >= 0 {
                    counter[axis] += 1
                    base += strides[axis]
                    if counter[axis] < output[axis] { break }
                    base -= strides[axis] * output[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
        return map
    }
}

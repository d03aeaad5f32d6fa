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

    /// Applies `operation` element by element to two broadcast operands.
    ///
    /// Equal shapes and scalar operands take straight loops; otherwise the shapes are
    /// walked with an odometer over all dimensions but the last. The closure is inlined
    /// into each caller, so the loop specialises per operation and element type.
    @inline(__always)
    static func binary<A, B, R>(
        _ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int], _ operation: (A, B) -> R
    ) throws -> (elements: [R], shape: [Int]) {
        if aShape == bShape {
            let result = [R](unsafeUninitializedCapacity: a.count) { buffer, initialized in
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        for i in 0..<a.count { (buffer.baseAddress! + i).initialize(to: operation(a[i], b[i])) }
                    }
                }
                initialized = a.count
            }
            return (result, aShape)
        }
        let shape = try self.shape([aShape, bShape])
        let count = Tensor.count(shape)
        if b.count == 1 && count == a.count {
            let y = b[0]
            return (a.map { operation($0, y) }, shape)
        }
        if a.count == 1 && count == b.count {
            let x = a[0]
            return (b.map { operation(x, $0) }, shape)
        }
        let aMap = indexMap(of: aShape, in: shape)
        let bMap = indexMap(of: bShape, in: shape)
        let result = [R](unsafeUninitializedCapacity: count) { buffer, initialized in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    for i in 0..<count { (buffer.baseAddress! + i).initialize(to: operation(a[aMap[i]], b[bMap[i]])) }
                }
            }
            initialized = count
        }
        return (result, shape)
    }
}

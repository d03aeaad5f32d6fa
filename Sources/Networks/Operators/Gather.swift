/// Operators that index: Gather, GatherElements, GatherND and OneHot.
extension ShapeOperators {
    static func gather(_ context: NodeContext) throws -> any Operator {
        let axis = try context.int("axis", default: 0)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let indices = try inputs.required(1)
            let axis = try TensorMovement.axis(axis, rank: data.rank)
            let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
            if try Tensor.checkedCount(shape, elementBytes: data.dataType.elementBytes) == 0 {
                return [Tensor(shape: shape, storage: .zeros(data.dataType, count: 0))]
            }
            var selection = data.shape.map { Array(0..<$0) }
            selection[axis] = try checkedIndices(indices, size: data.shape[axis], axis: axis)
            return [AxisGather(source: data.shape, indices: selection).apply(data).reshaped(shape)]
        }
    }

    /// The indices into an axis of size `size`, negative ones counted from the end.
    static func checkedIndices(_ tensor: Tensor, size: Int, axis: Int) throws -> [Int] {
        try tensor.integers("indices").map { index in
            let resolved = index < 0 ? index + size : index
            guard resolved >= 0, resolved < size else {
                throw KernelError("index \(index) is out of range for axis \(axis) of size \(size)")
            }
            return resolved
        }
    }

    static func gatherElements(_ context: NodeContext) throws -> any Operator {
        let axis = try context.int("axis", default: 0)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let indices = try inputs.required(1)
            let axis = try TensorMovement.axis(axis, rank: data.rank)
            guard indices.rank == data.rank,
                  zip(indices.shape, data.shape).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 <= $0.element.1 }) else {
                throw KernelError("indices of shape \(indices.shape) do not fit data of shape \(data.shape) along axis \(axis)")
            }
            let picked = try checkedIndices(indices, size: data.shape[axis], axis: axis)
            let strides = Tensor.strides(data.shape)
            var offsets = [Int]()
            offsets.reserveCapacity(picked.count)
            var position = [Int](repeating: 0, count: indices.rank)
            for index in picked {
                var offset = 0
                for dimension in position.indices {
                    offset += (dimension == axis ? index : position[dimension]) * strides[dimension]
                }
                offsets.append(offset)
                var dimension = position.count - 1
                while dimension >= 0 {
                    position[dimension] += 1
                    if position[dimension] < indices.shape[dimension] { break }
                    position[dimension] = 0
                    dimension -= 1
                }
            }
            return [Tensor(shape: indices.shape, storage: data.storage.visit(PickVisitor(offsets: offsets)))]
        }
    }

    /// `GatherND`: each row of the last axis of `indices` (length `k`) addresses a slice of
    /// `data` by its first `k` axes after the `batch_dims` shared leading axes. The output
    /// is `indices.shape[..<last] + data.shape[(batch_dims + k)...]`.
    static func gatherND(_ context: NodeContext) throws -> any Operator {
        let batchDims = try context.int("batch_dims", default: 0)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let indices = try inputs.required(1)
            guard indices.rank >= 1, let k = indices.shape.last else { throw KernelError("indices must have rank ≥ 1, not \(indices.shape)") }
            guard batchDims >= 0, batchDims < min(data.rank, indices.rank),
                  Array(data.shape.prefix(batchDims)) == Array(indices.shape.prefix(batchDims)) else {
                throw KernelError("batch_dims \(batchDims) does not fit data \(data.shape) and indices \(indices.shape)")
            }
            guard k >= 1, batchDims + k <= data.rank else {
                throw KernelError("index rows of length \(k) do not fit data of rank \(data.rank) after \(batchDims) batch axes")
            }
            let sliceShape = Array(data.shape[(batchDims + k)...])
            _ = try Tensor.checkedCount(indices.shape.dropLast() + sliceShape, elementBytes: data.dataType.elementBytes)
            let values = try indices.integers("indices")
            let slice = Tensor.count(sliceShape)
            let strides = Tensor.strides(data.shape)
            let batches = Tensor.count(Array(data.shape.prefix(batchDims)))
            let rowsPerBatch = batches == 0 ? 0 : values.count / k / max(batches, 1)
            let batchStride = batchDims == 0 ? 0 : strides[batchDims - 1]
            var offsets: [Int] = []
            offsets.reserveCapacity(values.count / k * slice)
            for row in 0..<(values.count / k) {
                var offset = batchDims == 0 ? 0 : (row / max(rowsPerBatch, 1)) * batchStride
                for j in 0..<k {
                    let size = data.shape[batchDims + j]
                    let index = values[row * k + j] < 0 ? values[row * k + j] + size : values[row * k + j]
                    guard index >= 0, index < size else {
                        throw KernelError("index \(values[row * k + j]) is out of range for axis \(batchDims + j) of size \(size)")
                    }
                    offset += index * strides[batchDims + j]
                }
                for e in 0..<slice { offsets.append(offset + e) }
            }
            let shape = Array(indices.shape.dropLast()) + sliceShape
            return [Tensor(shape: shape, storage: data.storage.visit(PickVisitor(offsets: offsets)))]
        }
    }

    private struct PickVisitor: StorageVisitor {
        let offsets: [Int]
        func visit<T: TensorElement>(_ elements: [T]) -> TensorStorage {
            T.storage(offsets.map { elements[$0] })
        }
    }

    static func oneHot(_ context: NodeContext) throws -> any Operator {
        let axis = try context.int("axis", default: -1)
        return ClosureOperator { inputs in
            let indices = try inputs.required(0)
            let depthValues = TensorMovement.doubles(try inputs.required(1))
            let values = try inputs.required(2)
            guard depthValues.count == 1, let depth = Int(exactly: depthValues[0].rounded(.towardZero)), depth >= 0 else {
                throw KernelError("depth must be one non-negative number, not \(depthValues)")
            }
            guard values.count == 2 else { throw KernelError("values must hold [off, on], not \(values.count) elements") }
            let position = axis < 0 ? axis + indices.rank + 1 : axis
            guard position >= 0, position <= indices.rank else {
                throw KernelError("axis \(axis) is out of range for indices of rank \(indices.rank)")
            }
            var shape = indices.shape
            shape.insert(depth, at: position)
            _ = try Tensor.checkedCount(shape, elementBytes: values.dataType.elementBytes)
            let inner = Tensor.count(Array(indices.shape[position...]))
            var hot: [Int] = []
            for (flat, value) in TensorMovement.doubles(indices).enumerated() {
                // Negative indices count from the end; others out of range stay all off.
                let index = value < 0 ? value + Double(depth) : value
                guard index >= 0, index < Double(depth), index == index.rounded(.down) else { continue }
                hot.append(((flat / inner) * depth + Int(index)) * inner + flat % inner)
            }
            return [Tensor(shape: shape, storage: values.storage.visit(OneHotVisitor(count: Tensor.count(shape), hot: hot)))]
        }
    }

    private struct OneHotVisitor: StorageVisitor {
        let count: Int
        let hot: [Int]
        func visit<T: TensorElement>(_ values: [T]) -> TensorStorage {
            var result = [T](repeating: values[0], count: count)
            for position in hot { result[position] = values[1] }
            return T.storage(result)
        }
    }
}

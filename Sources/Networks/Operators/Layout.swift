/// Operators that rearrange or repeat elements: Transpose, Expand, Tile, DepthToSpace and
/// SpaceToDepth, each one ``AxisGather``.
extension ShapeOperators {
    static func transpose(_ context: NodeContext) throws -> any Operator {
        let perm = try context.ints("perm")
        if let perm, perm.sorted() != Array(0..<perm.count) {
            throw context.invalid("perm \(perm) is not a permutation of 0..<\(perm.count)")
        }
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let permutation = perm ?? Array((0..<data.rank).reversed())
            guard permutation.count == data.rank else {
                throw KernelError("perm \(permutation) does not fit an input of rank \(data.rank) (shape \(data.shape))")
            }
            return [transposed(data, permutation)]
        }
    }

    /// `data` with output axis `k` taken from input axis `permutation[k]`.
    static func transposed(_ data: Tensor, _ permutation: [Int]) -> Tensor {
        let shape = permutation.map { data.shape[$0] }
        // Moving only axes of size 1 leaves the row-major order unchanged.
        let moved = permutation.filter { data.shape[$0] != 1 }
        if moved == moved.sorted() { return data.reshaped(shape) }
        return AxisGather.transpose(data.shape, permutation: permutation).apply(data)
    }

    static func expand(_ context: NodeContext) throws -> any Operator {
        ClosureOperator { inputs in
            let data = try inputs.required(0)
            let requested = try inputs.required(1).integers("shape")
            guard requested.allSatisfy({ $0 >= 0 }) else { throw KernelError("shape \(requested) has a negative dimension") }
            let shape = try Broadcast.shape([data.shape, requested])
            if shape == data.shape { return [data] }
            return [AxisGather.broadcast(data.shape, to: shape).apply(data)]
        }
    }

    static func tile(_ context: NodeContext) throws -> any Operator {
        ClosureOperator { inputs in
            let data = try inputs.required(0)
            let repeats = try inputs.required(1).integers("repeats")
            guard repeats.count == data.rank, repeats.allSatisfy({ $0 >= 0 }) else {
                throw KernelError("repeats \(repeats) do not fit an input of shape \(data.shape) (one non-negative count per axis)")
            }
            let shape = try zip(data.shape, repeats).map { dim, times in
                let (size, overflow) = dim.multipliedReportingOverflow(by: times)
                guard !overflow else { throw KernelError("repeats \(repeats) of shape \(data.shape) overflow") }
                return size
            }
            if try Tensor.checkedCount(shape, elementBytes: data.dataType.elementBytes) == 0 {
                return [Tensor(shape: shape, storage: .zeros(data.dataType, count: 0))]
            }
            let indices = zip(data.shape, repeats).map { dim, times in (0..<dim * times).map { $0 % dim } }
            return [AxisGather(source: data.shape, indices: indices).apply(data)]
        }
    }

    static func depthToSpace(_ context: NodeContext) throws -> any Operator {
        let block = try blockSize(context)
        let columnFirst = try context.require("mode", in: ["DCR", "CRD"], default: "DCR") == "CRD"
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            guard data.rank == 4, data.shape[1] % (block * block) == 0 else {
                throw KernelError("input of shape \(data.shape) is not [batch, channels, height, width] with channels divisible by \(block * block)")
            }
            let (n, c, h, w) = (data.shape[0], data.shape[1] / (block * block), data.shape[2], data.shape[3])
            // Split the channels into (block, block, c) for DCR or (c, block, block) for CRD,
            // then interleave the blocks with height and width.
            let split = columnFirst ? [n, c, block, block, h, w] : [n, block, block, c, h, w]
            let permutation = columnFirst ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2]
            return [transposed(data.reshaped(split), permutation).reshaped([n, c, h * block, w * block])]
        }
    }

    static func spaceToDepth(_ context: NodeContext) throws -> any Operator {
        let block = try blockSize(context)
        let columnFirst = try context.require("mode", in: ["DCR", "CRD"], default: "DCR") == "CRD"
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            guard data.rank == 4, data.shape[2] % block == 0, data.shape[3] % block == 0 else {
                throw KernelError("input of shape \(data.shape) is not [batch, channels, height, width] with height and width divisible by \(block)")
            }
            let (n, c, h, w) = (data.shape[0], data.shape[1], data.shape[2] / block, data.shape[3] / block)
            let split = [n, c, h, block, w, block]
            let permutation = columnFirst ? [0, 1, 3, 5, 2, 4] : [0, 3, 5, 1, 2, 4]
            return [transposed(data.reshaped(split), permutation).reshaped([n, c * block * block, h, w])]
        }
    }

    private static func blockSize(_ context: NodeContext) throws -> Int {
        guard let block = try context.int("blocksize"), block > 0 else {
            throw context.invalid("attribute 'blocksize' must be a positive integer")
        }
        return block
    }
}

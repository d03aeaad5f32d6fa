/// Operators that cut tensors into parts or join them: Slice, Split and Concat.
extension ShapeOperators {
    static func slice(_ context: NodeContext) throws -> any Operator {
        // Before opset 10 the bounds were attributes and there were no steps.
        let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?
        if context.opset < 10 {
            guard let starts = try context.ints("starts"), let ends = try context.ints("ends") else {
                throw context.invalid("attributes 'starts' and 'ends' are required")
            }
            attributes = (starts, ends, try context.ints("axes"))
        } else {
            attributes = nil
        }
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let starts = try attributes?.starts ?? inputs.required(1).integers("starts")
            let ends = try attributes?.ends ?? inputs.required(2).integers("ends")
            let axes = try attributes.map { $0.axes } ?? inputs.optional(3)?.integers("axes")
            let steps = try attributes == nil ? inputs.optional(4)?.integers("steps") : nil
            return [try sliced(data, starts: starts, ends: ends, axes: axes, steps: steps)]
        }
    }

    /// `data[starts[i] ..< ends[i] : steps[i]]` along `axes[i]` (all axes in order if `nil`).
    static func sliced(_ data: Tensor, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?) throws -> Tensor {
        let axes = try TensorMovement.axes(axes ?? Array(0..<starts.count), rank: data.rank)
        let steps = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw KernelError("starts \(starts), ends \(ends), axes \(axes) and steps \(steps) must have the same length")
        }
        var indices = data.shape.map { Array(0..<$0) }
        for (position, axis) in axes.enumerated() {
            let step = steps[position]
            guard step != 0 else { throw KernelError("step along axis \(axis) is 0") }
            let range = sliceRange(start: starts[position], end: ends[position], step: step, dim: data.shape[axis])
            indices[axis] = (0..<range.count).map { range.start + $0 * step }
        }
        if zip(indices, data.shape).allSatisfy({ $0.count == $1 && $0.first == 0 && ($0.last ?? 0) == $1 - 1 }) {
            return data
        }
        return AxisGather(source: data.shape, indices: indices).apply(data)
    }

    /// The first index and the number of indices that `start ..< end` by `step` selects from
    /// an axis of size `dim`, as ONNX Slice clamps them: negative bounds count from the
    /// end, and out-of-range bounds (such as ±2⁶³) stop at the axis's edge.
    static func sliceRange(start: Int, end: Int, step: Int, dim: Int) -> (start: Int, count: Int) {
        var first = start < 0 ? start &+ dim : start
        var last = end < 0 ? end &+ dim : end
        if step > 0 {
            first = min(max(first, 0), dim)
            last = min(max(last, 0), dim)
            return (first, last > first ? 1 + Int(UInt(last - first - 1) / step.magnitude) : 0)
        }
        first = min(max(first, 0), dim - 1)
        last = min(max(last, -1), dim - 1)
        return (first, first > last ? 1 + Int(UInt(first - last - 1) / step.magnitude) : 0)
    }

    static func split(_ context: NodeContext) throws -> any Operator {
        let axis = try context.int("axis", default: 0)
        let sizes = try IntegerList(context, attribute: "split", input: 1, since: 13)
        let parts = try context.int("num_outputs") ?? context.node.outputs.count
        guard parts > 0 else { throw context.invalid("num_outputs must be positive") }
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let axis = try TensorMovement.axis(axis, rank: data.rank)
            let dim = data.shape[axis]
            // Without sizes, parts of ⌈dim / parts⌉ with a smaller last one.
            let chunk = (dim + parts - 1) / parts
            let given = try sizes.values(inputs, what: "split")
            let lengths = given.flatMap { $0.isEmpty ? nil : $0 }
                ?? (0..<parts).map { max(0, min(chunk, dim - $0 * chunk)) }
            guard lengths.allSatisfy({ $0 >= 0 }), lengths.reduce(0, +) == dim else {
                throw KernelError("split \(lengths) does not add up to the size \(dim) of axis \(axis) (shape \(data.shape))")
            }
            var start = 0
            return lengths.map { length in
                var indices = data.shape.map { Array(0..<$0) }
                indices[axis] = Array(start ..< start + length)
                start += length
                return AxisGather(source: data.shape, indices: indices).apply(data)
            }
        }
    }

    static func concat(_ context: NodeContext) throws -> any Operator {
        guard let axis = try context.int("axis") else { throw context.invalid("attribute 'axis' is required") }
        return ClosureOperator { inputs in
            let parts = inputs.compactMap { $0 }
            if parts.count == 1, try TensorMovement.axis(axis, rank: parts[0].rank) >= 0 { return parts }
            return [try TensorMovement.concat(parts, axis: axis)]
        }
    }
}

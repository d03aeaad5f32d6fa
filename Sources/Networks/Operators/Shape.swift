/// Operators that move data without computing on it, for every element type: shape
/// changes (this file), layout changes (`Layout.swift`), slicing and joining (`Slice.swift`),
/// indexing (`Gather.swift`), padding (`Pad.swift`), and tensors made from attributes and
/// shapes (`Constant.swift`). Resize has its own family.
///
/// Design notes: every copy that selects elements along axes (transpose, slice, expand,
/// tile, pad, gather) is one ``AxisGather`` — per-axis offset lists walked row by row —
/// rather than a kernel per operator; an output index map per element was rejected
/// because it costs as much memory as the output and a load per element.
enum ShapeOperators {
    static let factories: [String: OperatorFactory] = [
        "Reshape": reshape, "Flatten": flatten, "Squeeze": squeeze, "Unsqueeze": unsqueeze,
        "Shape": shape, "Size": size,
        "Transpose": transpose, "Expand": expand, "Tile": tile,
        "DepthToSpace": depthToSpace, "SpaceToDepth": spaceToDepth,
        "Slice": slice, "Split": split, "Concat": concat,
        "Gather": gather, "GatherElements": gatherElements, "GatherND": gatherND, "OneHot": oneHot,
        "Pad": pad, "Trilu": trilu,
        "Constant": constant, "ConstantOfShape": constantOfShape, "Range": range,
    ]

    /// A list of integers that an operator read from an attribute in early operator sets
    /// and reads from an input in later ones (Squeeze's `axes`, Split's `split`, …).
    enum IntegerList: Sendable {
        case attribute([Int]?)
        case input(Int)

        /// The attribute before `version` (or whenever the node carries it), else input `index`.
        init(_ context: NodeContext, attribute name: String, input index: Int, since version: Int) throws {
            if context.opset < version || context.has(name) {
                self = .attribute(try context.ints(name))
            } else {
                self = .input(index)
            }
        }

        /// The integers, or `nil` if the node gives none.
        func values(_ inputs: [Tensor?], what: String) throws -> [Int]? {
            switch self {
            case let .attribute(values): return values
            case let .input(index): return try inputs.optional(index)?.integers(what)
            }
        }
    }

    // MARK: - Shape changes

    static func reshape(_ context: NodeContext) throws -> any Operator {
        let allowZero = try context.int("allowzero", default: 0) != 0
        let fixed = try context.ints("shape")
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let requested = try fixed ?? inputs.required(1).integers("shape")
            return [data.reshaped(try reshapedShape(of: data.shape, to: requested, allowZero: allowZero))]
        }
    }

    /// The shape `requested` describes for a tensor of shape `shape`: `-1` is inferred from
    /// the element count, `0` copies the input's dimension unless `allowZero`.
    static func reshapedShape(of shape: [Int], to requested: [Int], allowZero: Bool) throws -> [Int] {
        let total = Tensor.count(shape)
        func failure(_ reason: String) -> KernelError {
            KernelError("cannot reshape \(shape) (\(total) elements) to \(requested): \(reason)")
        }
        var result = requested
        var inferred: Int?
        for (position, dim) in requested.enumerated() {
            if dim == -1 {
                guard inferred == nil else { throw failure("more than one dimension is -1") }
                inferred = position
            } else if dim == 0 && !allowZero {
                guard position < shape.count else {
                    throw failure("0 at position \(position) copies a dimension the input does not have")
                }
                result[position] = shape[position]
            } else if dim < 0 {
                throw failure("dimension \(dim) is negative")
            }
        }
        guard let known = product(result.enumerated().filter { $0.offset != inferred }.map(\.element)) else {
            throw failure("the element count overflows")
        }
        if let inferred {
            guard known > 0, total % known == 0 else {
                throw failure("\(total) elements cannot be split into blocks of \(known)")
            }
            result[inferred] = total / known
        } else if known != total {
            throw failure("it holds \(known) elements")
        }
        return result
    }

    /// The element count of `dims`, or `nil` if it overflows, or it or one dimension
    /// exceeds ``Tensor/maximumCount`` (a shape computed from a hostile model must not
    /// become an allocation that takes the process down, nor an empty tensor with a
    /// dimension of billions that later operators index).
    static func product(_ dims: [Int]) -> Int? {
        var result = 1
        for dim in dims {
            let (next, overflow) = result.multipliedReportingOverflow(by: dim)
            if overflow || next > Tensor.maximumCount || dim > Tensor.maximumCount { return nil }
            result = next
        }
        return result
    }

    static func flatten(_ context: NodeContext) throws -> any Operator {
        let axis = try context.int("axis", default: 1)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            let split = axis < 0 ? axis + data.rank : axis
            guard split >= 0, split <= data.rank else {
                throw KernelError("axis \(axis) is out of range for rank \(data.rank)")
            }
            return [data.reshaped([Tensor.count(Array(data.shape[..<split])), Tensor.count(Array(data.shape[split...]))])]
        }
    }

    static func squeeze(_ context: NodeContext) throws -> any Operator {
        let axes = try IntegerList(context, attribute: "axes", input: 1, since: 13)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            guard let given = try axes.values(inputs, what: "axes") else {
                return [data.reshaped(data.shape.filter { $0 != 1 })]
            }
            let removed = Set(try TensorMovement.axes(given, rank: data.rank))
            for axis in removed where data.shape[axis] != 1 {
                throw KernelError("cannot squeeze axis \(axis) of shape \(data.shape): its size is not 1")
            }
            return [data.reshaped(data.shape.indices.filter { !removed.contains($0) }.map { data.shape[$0] })]
        }
    }

    static func unsqueeze(_ context: NodeContext) throws -> any Operator {
        let axes = try IntegerList(context, attribute: "axes", input: 1, since: 13)
        return ClosureOperator { inputs in
            let data = try inputs.required(0)
            guard let given = try axes.values(inputs, what: "axes") else { throw KernelError("axes are missing") }
            let rank = data.rank + given.count
            let inserted = Set(try TensorMovement.axes(given, rank: rank))
            var dims = data.shape.makeIterator()
            let shape = (0..<rank).map { inserted.contains($0) ? 1 : dims.next() ?? 1 }
            return [data.reshaped(shape)]
        }
    }

    static func shape(_ context: NodeContext) throws -> any Operator {
        let start = try context.int("start", default: 0)
        let end = try context.int("end")
        return ClosureOperator { inputs in
            let dims = try inputs.required(0).shape
            func clamped(_ position: Int) -> Int { min(max(position < 0 ? position + dims.count : position, 0), dims.count) }
            let from = clamped(start)
            let to = clamped(end ?? dims.count)
            return [TensorMovement.int64Vector(from < to ? Array(dims[from..<to]) : [])]
        }
    }

    static func size(_ context: NodeContext) throws -> any Operator {
        ClosureOperator { inputs in [Tensor(scalar: Int64(try inputs.required(0).count))] }
    }
}

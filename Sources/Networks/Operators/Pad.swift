/// Pad: adds elements before and after each axis (a constant, the edge element, a mirror
/// image or a wrap-around copy); negative pads crop.
extension ShapeOperators {
    enum PadMode: String, Sendable {
        case constant, reflect, edge, wrap
    }

    static func pad(_ context: NodeContext) throws -> any Operator {
        let mode = PadMode(rawValue: try context.require(
            "mode", in: ["constant", "reflect", "edge", "wrap"], default: "constant")) ?? .constant
        // Before opset 11 the pads and the constant were attributes (`paddings` in opset 1).
        var legacy: (pads: [Int], value: Double)?
        if context.opset < 11 {
            guard let pads = try context.ints("pads") ?? context.ints("paddings") else {
                throw context.invalid("attribute 'pads' is required")
            }
            legacy = (pads, Double(try context.float("value", default: 0)))
        }
        return ClosureOperator { [legacy] inputs in
            let data = try inputs.required(0)
            let pads = try legacy?.pads ?? inputs.required(1).integers("pads")
            var fill = TensorMovement.filled(legacy?.value ?? 0, as: data.dataType)
            var axes: [Int]?
            if legacy == nil {
                if let value = inputs.optional(2), value.count > 0 {
                    guard value.dataType == data.dataType, value.count == 1 else {
                        throw KernelError("constant_value must be one \(data.dataType) element, not \(value.count) of \(value.dataType)")
                    }
                    fill = value.storage
                }
                axes = try inputs.optional(3)?.integers("axes")
            }
            return [try padded(data, pads: pads, axes: axes, mode: mode, fill: fill)]
        }
    }

    /// `data` with `pads` (all the begins, then all the ends, one of each per axis in
    /// `axes`, all axes if `nil`) added in `mode`; `fill` is the constant, one element of
    /// `data`'s type.
    static func padded(_ data: Tensor, pads: [Int], axes: [Int]?, mode: PadMode, fill: TensorStorage) throws -> Tensor {
        let axes = try TensorMovement.axes(axes ?? Array(0..<data.rank), rank: data.rank)
        guard pads.count == 2 * axes.count else {
            throw KernelError("pads \(pads) must hold a begin and an end for each of the \(axes.count) padded axes of shape \(data.shape)")
        }
        guard pads.allSatisfy({ $0.magnitude <= Tensor.maximumCount }) else {
            throw KernelError("pads \(pads) go beyond the largest dimension (\(Tensor.maximumCount))")
        }
        var begins = Array(repeating: 0, count: data.rank)
        var ends = begins
        for (position, axis) in axes.enumerated() {
            begins[axis] = pads[position]
            ends[axis] = pads[axes.count + position]
        }
        // Crop first, then pad the cropped tensor.
        var source = data
        if (begins + ends).contains(where: { $0 < 0 }) {
            let starts = begins.map { max(0, -$0) }
            let stops = data.shape.indices.map { data.shape[$0] - max(0, -ends[$0]) }
            guard zip(starts, stops).allSatisfy({ $0 <= $1 }) else {
                throw KernelError("pads \(pads) crop more than the shape \(data.shape) holds")
            }
            source = try sliced(data, starts: starts, ends: stops, axes: nil, steps: nil)
            begins = begins.map { max(0, $0) }
            ends = ends.map { max(0, $0) }
        }
        if begins.allSatisfy({ $0 == 0 }) && ends.allSatisfy({ $0 == 0 }) { return source }
        let shape = source.shape.indices.map { begins[$0] + source.shape[$0] + ends[$0] }
        if try Tensor.checkedCount(shape, elementBytes: data.dataType.elementBytes) == 0 {
            return Tensor(shape: shape, storage: .zeros(data.dataType, count: 0))
        }
        var indices: [[Int]] = []
        for axis in 0..<source.rank {
            let size = source.shape[axis]
            if size == 0 && mode != .constant && begins[axis] + ends[axis] > 0 {
                throw KernelError("cannot pad the empty axis \(axis) of shape \(source.shape) in \(mode) mode")
            }
            indices.append((-begins[axis] ..< size + ends[axis]).map { index in
                if index >= 0 && index < size { return index }
                switch mode {
                case .constant: return AxisGather.outside
                case .edge: return min(max(index, 0), size - 1)
                case .wrap: return ((index % size) + size) % size
                case .reflect:
                    // Mirror without repeating the edge: period 2(size − 1).
                    guard size > 1 else { return 0 }
                    let period = 2 * (size - 1)
                    let folded = ((index % period) + period) % period
                    return folded < size ? folded : period - folded
                }
            })
        }
        return AxisGather(source: source.shape, indices: indices).apply(source, fill: fill)
    }
}

import Foundation

/// Resize (opset 10 and later) and the deprecated Upsample: nearest-neighbour, n-linear and
/// cubic resampling over any set of axes.
///
/// Every output coordinate along an axis is mapped back to a source coordinate
/// (`coordinate_transformation_mode`), which picks the source elements it reads and their
/// weights. Resampling is separable: nearest-neighbour is one ``AxisGather`` over all axes;
/// linear and cubic weigh neighbours along one axis at a time, skipping axes whose size and
/// scale do not change (batch and channels). With `antialias`, downscaling widens the
/// linear or cubic kernel by 1/scale so that every source element contributes.
enum ResizeOperators {
    static let factories: [String: OperatorFactory] = ["Resize": resize, "Upsample": upsample]

    static func resize(_ context: NodeContext) throws -> any Operator {
        let mode = try context.require("mode", in: ["nearest", "linear", "cubic"], default: "nearest")
        guard context.opset >= 11 else {
            // Resize-10: scales as the second input, asymmetric coordinates.
            let resampler = try Resampler(legacyMode: mode, context: context)
            return ClosureOperator { inputs in
                [try resampler.run(inputs.required(0), roi: nil, scales: inputs.required(1), sizes: nil)]
            }
        }
        let coordinates = try context.require(
            "coordinate_transformation_mode", in: Set(Resampler.Coordinates.allCases.map(\.rawValue)), default: "half_pixel")
        let nearest = try context.require("nearest_mode", in: ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"],
                                          default: "round_prefer_floor")
        let policy = try context.require("keep_aspect_ratio_policy", in: ["stretch", "not_larger", "not_smaller"], default: "stretch")
        let antialias = try context.int("antialias", default: 0)
        guard antialias == 0 || antialias == 1 else { throw context.invalid("antialias must be 0 or 1, not \(antialias)") }
        var resampler = Resampler(
            kernel: Resampler.Kernel(mode: mode, nearest: nearest, cubicA: Double(try context.float("cubic_coeff_a", default: -0.75))),
            coordinates: Resampler.Coordinates(rawValue: coordinates) ?? .halfPixel)
        resampler.antialias = antialias == 1
        resampler.excludeOutside = try context.int("exclude_outside", default: 0) != 0
        resampler.extrapolation = Double(try context.float("extrapolation_value", default: 0))
        resampler.policy = Resampler.AspectPolicy(rawValue: policy) ?? .stretch
        resampler.axes = try context.ints("axes")
        return ClosureOperator { [resampler] inputs in
            [try resampler.run(inputs.required(0), roi: inputs.optional(1), scales: inputs.optional(2), sizes: inputs.optional(3))]
        }
    }

    static func upsample(_ context: NodeContext) throws -> any Operator {
        let mode = try context.require("mode", in: ["nearest", "linear", "bilinear"], default: "nearest")
        let resampler = try Resampler(legacyMode: mode == "bilinear" ? "linear" : mode, context: context)
        // Opset 7 and 8 carry the scales as an attribute, later ones as the second input.
        let fixed = try context.floats("scales").map { Tensor(shape: [$0.count], elements: $0) }
        return ClosureOperator { inputs in
            [try resampler.run(inputs.required(0), roi: nil, scales: try fixed ?? inputs.required(1), sizes: nil)]
        }
    }
}

/// A compiled Resize: how to map coordinates and which kernel to weigh neighbours with.
struct Resampler: Sendable {
    enum Coordinates: String, CaseIterable, Sendable {
        case halfPixel = "half_pixel", halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel", alignCorners = "align_corners", asymmetric
        case tfHalfPixelForNearest = "tf_half_pixel_for_nearest", tfCropAndResize = "tf_crop_and_resize"
    }

    enum Rounding: Sendable {
        case preferFloor, preferCeil, floor, ceil
        /// Resize-10 and Upsample: truncate when upscaling, round up when downscaling.
        case legacy
    }

    enum Kernel: Sendable {
        case nearest(Rounding)
        case linear
        case cubic(a: Double)

        init(mode: String, nearest: String, cubicA: Double) {
            switch mode {
            case "linear": self = .linear
            case "cubic": self = .cubic(a: cubicA)
            default:
                let rounding: [String: Rounding] = ["round_prefer_ceil": .preferCeil, "floor": .floor, "ceil": .ceil]
                self = .nearest(rounding[nearest] ?? .preferFloor)
            }
        }
    }

    enum AspectPolicy: String, Sendable {
        case stretch, notLarger = "not_larger", notSmaller = "not_smaller"
    }

    var kernel: Kernel
    var coordinates: Coordinates
    var antialias = false
    var excludeOutside = false
    var extrapolation = 0.0
    var policy = AspectPolicy.stretch
    var axes: [Int]?

    init(kernel: Kernel, coordinates: Coordinates) {
        self.kernel = kernel
        self.coordinates = coordinates
    }

    /// Resize-10 and Upsample semantics.
    init(legacyMode mode: String, context: NodeContext) throws {
        guard mode != "cubic" else { throw context.unsupported("mode 'cubic' needs Resize from opset 11") }
        self.init(kernel: mode == "linear" ? .linear : .nearest(.legacy), coordinates: .asymmetric)
    }

    /// Where one axis goes: its output size, the scale its coordinates map with, and the
    /// crop window (`tf_crop_and_resize`).
    struct AxisPlan {
        var size: Int
        var scale: Double
        var roi: (start: Double, end: Double) = (0, 1)
    }

    func run(_ x: Tensor, roi: Tensor?, scales: Tensor?, sizes: Tensor?) throws -> Tensor {
        let plans = try self.plans(x.shape, roi: roi, scales: scales, sizes: sizes)
        let shape = plans.map(\.size)
        // Axes that keep their size and scale (and crop nothing) are left alone.
        let resized = x.shape.indices.filter { axis in
            let plan = plans[axis]
            let whole = coordinates != .tfCropAndResize || (abs(plan.roi.start) <= 1e-9 && abs(plan.roi.end - 1) <= 1e-9)
            return !(plan.size == x.shape[axis] && abs(plan.scale - 1) <= 1e-9 && whole)
        }
        if resized.isEmpty { return x }
        let count = try Tensor.checkedCount(shape, elementBytes: x.dataType.elementBytes)
        if count == 0 || x.count == 0 {
            guard count == 0 else { throw KernelError("cannot resize the empty shape \(x.shape) to \(shape)") }
            return Tensor(shape: shape, storage: TensorStorage.zeros(x.dataType, count: 0))
        }
        if case let .nearest(rounding) = kernel {
            var indices = x.shape.map { Array(0..<$0) }
            for axis in resized {
                indices[axis] = (0..<plans[axis].size).map { j in
                    nearestIndex(j, length: x.shape[axis], plan: plans[axis], rounding: rounding)
                }
            }
            let fill = TensorMovement.filled(extrapolation, as: x.dataType)
            return AxisGather(source: x.shape, indices: indices).apply(x, fill: fill)
        }
        var current = x.shape
        let taps = resized.map { axis in (axis, weights(length: x.shape[axis], plan: plans[axis])) }
        func pass<T: BinaryFloatingPoint>(_ values: [T]) -> [T] {
            var values = values
            for (axis, axisTaps) in taps {
                values = Resampler.apply(axisTaps, to: values, shape: current, axis: axis, fill: T(extrapolation))
                current[axis] = axisTaps.count
            }
            return values
        }
        switch x.storage {
        case let .float32(values): return Tensor(shape: shape, elements: pass(values))
        case let .float64(values): return Tensor(shape: shape, elements: pass(values))
        case .bool: throw KernelError("linear and cubic resizing are not defined for bool tensors")
        default:
            // Integers are resampled in Double and rounded back (half to even), saturating.
            let values = pass(TensorMovement.doubles(x))
            return Tensor(shape: shape, storage: Self.rounded(values, as: x.dataType))
        }
    }

    /// Output sizes and scales for every axis, from `sizes` or `scales` (one value per
    /// resized axis) and `roi` (starts then ends).
    func plans(_ shape: [Int], roi: Tensor?, scales: Tensor?, sizes: Tensor?) throws -> [AxisPlan] {
        let rank = shape.count
        let axes = try TensorMovement.axes(self.axes ?? Array(0..<rank), rank: rank)
        var plans = shape.map { AxisPlan(size: $0, scale: 1) }
        /// A computed output size, refused beyond the largest dimension rather than trapping.
        func size(_ value: Double) throws -> Int {
            guard value.isFinite, value <= Double(Tensor.maximumCount) else {
                throw KernelError("an output size of \(value) along a resized axis is beyond the largest dimension")
            }
            return Int(value)
        }
        let sizes = try sizes.flatMap { $0.count > 0 ? try $0.integers("sizes") : nil }
        let scales = scales.flatMap { $0.count > 0 ? TensorMovement.doubles($0) : nil }
        switch (sizes, scales) {
        case let (sizes?, nil):
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
                throw KernelError("sizes \(sizes) must hold one non-negative size for each of the \(axes.count) resized axes of shape \(shape)")
            }
            let ratios = zip(axes, sizes).map { axis, size in Double(size) / Double(shape[axis]) }
            for (position, axis) in axes.enumerated() {
                plans[axis] = AxisPlan(size: sizes[position], scale: ratios[position])
            }
            if policy != .stretch, let scale = policy == .notLarger ? ratios.min() : ratios.max() {
                for axis in axes {
                    plans[axis] = AxisPlan(size: try size(scale * Double(shape[axis]) + 0.5), scale: scale)
                }
            }
        case let (nil, scales?):
            guard scales.count == axes.count, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw KernelError("scales \(scales) must hold one positive scale for each of the \(axes.count) resized axes of shape \(shape)")
            }
            for (scale, axis) in zip(scales, axes) {
                plans[axis] = AxisPlan(size: try size((scale * Double(shape[axis])).rounded(.down)), scale: scale)
            }
        case (nil, nil): throw KernelError("needs either scales or sizes")
        case (_?, _?): throw KernelError("takes scales or sizes, not both")
        }
        if coordinates == .tfCropAndResize, let roi, roi.count > 0 {
            let bounds = TensorMovement.doubles(roi)
            guard bounds.count == 2 * axes.count, bounds.allSatisfy({ $0.isFinite }) else {
                throw KernelError("roi must hold a start and an end for each of the \(axes.count) resized axes, not \(bounds.count) values (all finite)")
            }
            for (position, axis) in axes.enumerated() {
                plans[axis].roi = (bounds[position], bounds[axes.count + position])
            }
        }
        return plans
    }

    /// The source coordinate that output index `j` of an axis of source length `length`
    /// maps to, or `nil` if it falls outside the crop window.
    func sourceCoordinate(_ j: Int, length: Int, plan: AxisPlan) -> Double? {
        let y = Double(j)
        let scale = plan.scale
        // The unrounded output length, as ONNX's reference defines align_corners and crops.
        let width = scale * Double(length)
        switch coordinates {
        case .halfPixel: return (y + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let offset = Double(length) / 2 * (1 - Double(plan.size) / width)
            return offset + (y + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return plan.size > 1 ? (y + 0.5) / scale - 0.5 : 0
        case .alignCorners: return width == 1 ? 0 : y * Double(length - 1) / (width - 1)
        case .asymmetric: return y / scale
        case .tfHalfPixelForNearest: return (y + 0.5) / scale
        case .tfCropAndResize:
            let span = plan.roi.end - plan.roi.start
            let x = (width == 1 ? span * Double(length - 1) / 2 : y * span * Double(length - 1) / (width - 1))
                + plan.roi.start * Double(length - 1)
            return x < 0 || x > Double(length - 1) ? nil : x
        }
    }

    func nearestIndex(_ j: Int, length: Int, plan: AxisPlan, rounding: Rounding) -> Int {
        guard let x = sourceCoordinate(j, length: length, plan: plan) else { return AxisGather.outside }
        let below = x.rounded(.down)
        let fraction = x - below
        let index: Double
        if fraction == 0 {
            index = x
        } else {
            switch rounding {
            case .preferFloor: index = fraction > 0.5 ? below + 1 : below
            case .preferCeil: index = fraction >= 0.5 ? below + 1 : below
            case .floor: index = below
            case .ceil: index = below + 1
            case .legacy: index = plan.scale < 1 ? below + 1 : below
            }
        }
        return Int(min(max(index, 0), Double(length - 1)))
    }

    /// The neighbours and weights of every output index along one axis: output `j` is
    /// `Σₜ weights[j·width + t] · source[indices[j·width + t]]`, or the extrapolation value
    /// where `outside[j]`.
    struct AxisTaps {
        var count: Int
        var width: Int
        var indices: [Int]
        var weights: [Double]
        var outside: [Bool]
    }

    /// Linear or cubic weights. Source coordinate `x` lies between `base` and `base + 1`
    /// with `ratio = x − base` in (0, 1]; neighbour `base + i` gets kernel value
    /// `k(s · (i − ratio))`, where `s` is 1, or the scale when antialiasing a downscale.
    func weights(length: Int, plan: AxisPlan) -> AxisTaps {
        let s = antialias ? min(plan.scale, 1) : 1
        let reach: Double
        let profile: (Double) -> Double
        switch kernel {
        case .cubic(let a):
            reach = 2
            profile = { d in
                let d = abs(d)
                if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
                if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
                return 0
            }
        default:
            reach = 1
            profile = { d in max(0, 1 - abs(d)) }
        }
        let first = Int((-reach / s).rounded(.down)) + 1
        let width = 2 - 2 * first
        var taps = AxisTaps(count: plan.size, width: width, indices: [], weights: [], outside: [])
        taps.indices.reserveCapacity(plan.size * width)
        taps.weights.reserveCapacity(plan.size * width)
        for j in 0..<plan.size {
            guard let x = sourceCoordinate(j, length: length, plan: plan) else {
                taps.outside.append(true)
                taps.indices += Array(repeating: 0, count: width)
                taps.weights += Array(repeating: 0, count: width)
                continue
            }
            var base = x.rounded(.down)
            var ratio = x - base
            if ratio == 0 { base -= 1; ratio = 1 }
            let offsets = first ..< first + width
            var row = offsets.map { profile(s * (Double($0) - ratio)) }
            let neighbours = offsets.map { Int(base) + $0 }
            if antialias { normalize(&row) }
            if excludeOutside {
                for (t, index) in neighbours.enumerated() where index < 0 || index >= length { row[t] = 0 }
                normalize(&row)
            }
            taps.outside.append(false)
            taps.indices += neighbours.map { min(max($0, 0), length - 1) }
            taps.weights += row
        }
        return taps
    }

    private func normalize(_ row: inout [Double]) {
        let sum = row.reduce(0, +)
        if sum != 0 { row = row.map { $0 / sum } }
    }

    /// Resamples `values` (of `shape`) along `axis` with `taps`.
    static func apply<T: BinaryFloatingPoint>(_ taps: AxisTaps, to values: [T], shape: [Int], axis: Int, fill: T) -> [T] {
        let outer = Tensor.count(Array(shape[..<axis]))
        let inner = Tensor.count(Array(shape[(axis + 1)...]))
        let length = shape[axis]
        let weights = taps.weights.map { T($0) }
        let count = outer * taps.count * inner
        var result = [T](repeating: 0, count: count)
        result.withUnsafeMutableBufferPointer { result in
            values.withUnsafeBufferPointer { values in
                weights.withUnsafeBufferPointer { weights in
                    taps.indices.withUnsafeBufferPointer { indices in
                        for o in 0..<outer {
                            for j in 0..<taps.count {
                                let destination = (o * taps.count + j) * inner
                                if taps.outside[j] {
                                    for i in 0..<inner { result[destination + i] = fill }
                                    continue
                                }
                                for t in 0..<taps.width {
                                    let w = weights[j * taps.width + t]
                                    let source = (o * length + indices[j * taps.width + t]) * inner
                                    for i in 0..<inner { result[destination + i] += w * values[source + i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// `values` rounded half to even and clamped into an integer `type`.
    static func rounded(_ values: [Double], as type: DataType) -> TensorStorage {
        func convert<I: FixedWidthInteger>(_: I.Type) -> [I] {
            values.map { value in
                let r = value.rounded(.toNearestOrEven)
                if r.isNaN { return 0 }
                return r <= Double(I.min) ? I.min : r >= Double(I.max) ? I.max : I(r)
            }
        }
        switch type {
        case .int64: return .int64(convert(Int64.self))
        case .int32: return .int32(convert(Int32.self))
        case .int8: return .int8(convert(Int8.self))
        case .uint8: return .uint8(convert(UInt8.self))
        case .float32: return .float32(values.map(Float.init))
        case .float64: return .float64(values)
        case .bool: return .bool(values.map { $0 != 0 })
        }
    }
}

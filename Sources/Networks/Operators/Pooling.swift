import CVectorMath

/// Max, average and global pooling over 1, 2 or 3 spatial dimensions, float32.
enum PoolingOperators {
    static let factories: [String: OperatorFactory] = [
        "MaxPool": { context in
            let attributes = try WindowGeometry.Attributes(context)
            guard let kernel = attributes.kernel else { throw context.invalid("kernel_shape is required") }
            let columnMajor = try context.int("storage_order", default: 0) == 1
            let wantsIndices = context.node.outputs.count > 1 && !context.node.outputs[1].isEmpty
            return ClosureOperator { inputs in
                let x = try inputs.required(0)
                let (values, indices, shape) = try pool(x, kernel: kernel, attributes: attributes, kind: .max,
                                                        indices: wantsIndices, columnMajor: columnMajor)
                var outputs = [Tensor(shape: shape, elements: values)]
                if let indices { outputs.append(Tensor(shape: shape, elements: indices)) }
                return outputs
            }
        },
        "AveragePool": { context in
            let attributes = try WindowGeometry.Attributes(context)
            guard let kernel = attributes.kernel else { throw context.invalid("kernel_shape is required") }
            let includePad = try context.int("count_include_pad", default: 0) != 0
            return ClosureOperator { inputs in
                let (values, _, shape) = try pool(try inputs.required(0), kernel: kernel, attributes: attributes,
                                                  kind: .average(includePadding: includePad))
                return [Tensor(shape: shape, elements: values)]
            }
        },
        "GlobalAveragePool": { _ in ClosureOperator { inputs in [try global(inputs.required(0), max: false)] } },
        "GlobalMaxPool": { _ in ClosureOperator { inputs in [try global(inputs.required(0), max: true)] } },
    ]

    enum Kind { case max, average(includePadding: Bool) }

    /// Pools every `[n, c]` plane; returns values, the argmax indices if asked, and the shape.
    static func pool(_ x: Tensor, kernel: [Int], attributes: WindowGeometry.Attributes, kind: Kind,
                     indices wantsIndices: Bool = false, columnMajor: Bool = false) throws
        -> (values: [Float], indices: [Int64]?, shape: [Int])
    {
        guard x.rank >= 3 else { throw KernelError("input must be [N, C, spatial…], not \(x.shape)") }
        let xs = try x.requireFloats()
        let g = try WindowGeometry(input: Array(x.shape.dropFirst(2)), kernel: kernel, attributes: attributes)
        _ = try Tensor.checkedCount(Array(x.shape.prefix(2)) + g.outputShape, elementBytes: wantsIndices ? 12 : 4)
        let planes = x.shape[0] * x.shape[1]
        var values = [Float](repeating: 0, count: planes * g.outputCount)
        var flatIndices = [Int](repeating: 0, count: wantsIndices ? planes * g.outputCount : 0)
        let taps = (WindowTaps(g, axis: 0), WindowTaps(g, axis: 1), WindowTaps(g, axis: 2))
        var separable = false
        if case .max = kind, !wantsIndices, g.input[0] == 1, g.kernel[0] == 1, g.padBegin[0] == 0, g.padEnd[0] == 0 {
            separable = true
        }
        xs.withUnsafeBufferPointer { xs in
            values.withUnsafeMutableBufferPointer { out in
                flatIndices.withUnsafeMutableBufferPointer { indices in
                    let (xs, out, indices) = (xs.baseAddress!, out.baseAddress!, indices.baseAddress)
                    // The planes are independent: two threads share them.
                    ElementLoops.inHalves(planes, elements: planes * g.outputCount * g.kernelCount) { range in
                        if separable {
                            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.input[1] * g.output[2])
                            defer { scratch.deallocate() }
                            for plane in range {
                                separableMaximum(xs + plane * g.inputCount, g, rows: taps.1, columns: taps.2, scratch: scratch,
                                                 into: out + plane * g.outputCount)
                            }
                            return
                        }
                        for plane in range {
                            let image = xs + plane * g.inputCount
                            let result = out + plane * g.outputCount
                            switch kind {
                            case .max where wantsIndices:
                                reduceWindows(image, g, taps, into: result, LargestWithIndex(), indices: indices! + plane * g.outputCount)
                            case .max:
                                reduceWindows(image, g, taps, into: result, WindowMaximum())
                            case let .average(includePadding):
                                reduceWindows(image, g, taps, into: result, Mean(includePadding: includePadding))
                            }
                        }
                    }
                }
            }
        }
        var indices: [Int64]?
        if wantsIndices {
            let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
            indices = flatIndices.enumerated().map { position, index in
                var flat = index
                if columnMajor && index >= 0 {
                    let (d, h, w) = (index / (inH * inW), (index / inW) % inH, index % inW)
                    flat = (w * inH + h) * inD + d
                }
                return Int64(position / g.outputCount * g.inputCount + flat)
            }
        }
        return (values, indices, Array(x.shape.prefix(2)) + g.outputShape)
    }

    /// Pools one plane with `reduction`, writing `g.outputCount` results (and, if
    /// `indices` is given, the plane index each came from).
    ///
    /// The kernel taps that read inside the input form one strided run per axis and output
    /// position, found once per tensor (``WindowTaps``, one per spatial axis), so a window
    /// visits only those taps, in the order kd, kh, kw. The reduction is a type parameter,
    /// so each kind gets its own loop with no per-tap dispatch.
    @inline(__always)
    static func reduceWindows<R: WindowReduction>(
        _ image: UnsafePointer<Float>, _ g: WindowGeometry, _ taps: (WindowTaps, WindowTaps, WindowTaps),
        into result: UnsafeMutablePointer<Float>, _ reduction: R, indices: UnsafeMutablePointer<Int>? = nil
    ) {
        let (depth, rows, columns) = taps
        let (inH, inW) = (g.input[1], g.input[2])
        let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
        var position = 0
        for od in 0..<outD { for oh in 0..<outH {
            let (dCount, hCount) = (depth.count[od], rows.count[oh])
            let corner = (depth.start[od] * inH + rows.start[oh]) * inW
            for ow in 0..<outW {
                let (w0, wCount) = (columns.start[ow], columns.count[ow])
                let taps = dCount * hCount * wCount
                var window = reduction
                window.start(first: taps > 0 ? image[corner + w0] : -.infinity)
                var plane = depth.start[od] * inH
                for _ in 0..<dCount {
                    var row = (plane + rows.start[oh]) * inW + w0
                    for _ in 0..<hCount {
                        var column = row
                        for _ in 0..<wCount {
                            window.take(image[column], at: column)
                            column += columns.dilation
                        }
                        row += rows.dilation * inW
                    }
                    plane += depth.dilation * inH
                }
                result[position] = window.value(taps: taps, padded: depth.padded[od] * rows.padded[oh] * columns.padded[ow])
                indices?[position] = window.index
                position += 1
            }
        } }
    }

    /// Max pooling of one plane of at most two spatial dimensions in two passes: the
    /// maximum of each row's window taps for every output column (into `scratch`, one row
    /// of `outW` per input row), then of those rows for every output row, a run of `outW`
    /// values at a time. Each maximum starts from the first tap and takes a later one only
    /// when it is larger, both along a row and down a column, so the result, NaN included
    /// (it comes through only from a window's first tap), is the one ``reduceWindows(_:_:_:
    /// into:_:indices:)`` gives; a window without taps inside the input gives −∞ as there.
    static func separableMaximum(_ image: UnsafePointer<Float>, _ g: WindowGeometry, rows: WindowTaps, columns: WindowTaps,
                                 scratch: UnsafeMutablePointer<Float>, into result: UnsafeMutablePointer<Float>) {
        let (inH, inW, outH, outW) = (g.input[1], g.input[2], g.output[1], g.output[2])
        // The output columns whose windows lie wholly inside the input are one run, which C
        // computes sixteen columns at a time.
        let kernelW = g.kernel[2], dilation = columns.dilation
        let whole = columns.count.firstIndex(of: kernelW).map { first in
            first..<(columns.count[first...].firstIndex { $0 != kernelW } ?? outW)
        } ?? 0..<0
        let edges = Array(0..<whole.lowerBound) + Array(whole.upperBound..<outW)
        for h in 0..<inH {
            let source = image + h * inW, target = scratch + h * outW
            for ow in edges {
                let (start, count) = (columns.start[ow], columns.count[ow])
                guard count > 0 else {
                    target[ow] = -.infinity
                    continue
                }
                var largest = source[start]
                for k in 1..<count {
                    let value = source[start + k * dilation]
                    largest = value > largest ? value : largest
                }
                target[ow] = largest
            }
            if !whole.isEmpty {
                repprobe_window_maxima(target + whole.lowerBound, source + columns.start[whole.lowerBound], whole.count,
                                       g.strides[2], dilation, kernelW)
            }
        }
        for oh in 0..<outH {
            let target = result + oh * outW, count = rows.count[oh]
            guard count > 0 else {
                target.update(repeating: -.infinity, count: outW)
                continue
            }
            // Column ow's window down the rows: floats ow + k · dilation · outW from the first row.
            repprobe_window_maxima(target, scratch + rows.start[oh] * outW, outW, 1, rows.dilation * outW, count)
        }
    }

    /// Mean or max over all spatial positions, keeping them as size-1 dimensions.
    static func global(_ x: Tensor, max: Bool) throws -> Tensor {
        guard x.rank >= 3 else { throw KernelError("input must be [N, C, spatial…], not \(x.shape)") }
        let xs = try x.requireFloats()
        let planes = x.shape[0] * x.shape[1]
        let size = Tensor.count(Array(x.shape.dropFirst(2)))
        var result = [Float](repeating: 0, count: planes)
        xs.withUnsafeBufferPointer { xs in
            for plane in 0..<planes {
                let values = UnsafeBufferPointer(rebasing: xs[(plane * size)..<((plane + 1) * size)])
                if max {
                    result[plane] = values.max() ?? -Float.infinity
                } else {
                    var sum: Float = 0
                    for v in values { sum += v }
                    result[plane] = sum / Float(size)
                }
            }
        }
        return Tensor(shape: Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.rank - 2), elements: result)
    }
}

/// The kernel taps of a window along one axis, for every output position: the input
/// indices they read that lie inside the input (a strided run, since the source index
/// grows with the tap), and how many read inside the input or its padding.
///
/// Taps that fall into the extra cells ceil mode adds past the end padding count for
/// neither: average pooling with `count_include_pad` divides by the window clipped to the
/// padded input.
struct WindowTaps {
    let dilation: Int
    /// The input index of the first tap inside the input, per output position.
    let start: [Int]
    /// The taps inside the input, per output position; they read `start`, `start + dilation`, …
    let count: [Int]
    /// The taps inside the input or its padding, per output position.
    let padded: [Int]

    init(_ g: WindowGeometry, axis: Int) {
        let (input, kernel) = (g.input[axis], g.kernel[axis])
        let limit = input + g.padEnd[axis]
        dilation = g.dilations[axis]
        var start: [Int] = [], count: [Int] = [], padded: [Int] = []
        for o in 0..<g.output[axis] {
            let origin = o * g.strides[axis] - g.padBegin[axis]
            var a = 0
            while a < kernel && origin + a * dilation < 0 { a += 1 }
            var b = a
            while b < kernel && origin + b * dilation < input { b += 1 }
            var p = 0
            while p < kernel && origin + p * dilation < limit { p += 1 }
            start.append(origin + a * dilation)
            count.append(b - a)
            padded.append(p)
        }
        self.start = start
        self.count = count
        self.padded = padded
    }
}

/// What pooling keeps of the taps of one window.
protocol WindowReduction {
    /// Starts a window; `first` is its first tap inside the input (−∞ if it has none).
    mutating func start(first: Float)
    mutating func take(_ value: Float, at index: Int)
    /// The pooled value, given the taps inside the input and inside the padded input.
    func value(taps: Int, padded: Int) -> Float
    /// The plane index of the value (−1 if none).
    var index: Int { get }
}

/// The first tap is taken whatever its value (a NaN there stays), later ones only if
/// strictly larger: the first of equal maxima wins. Branch-free.
struct WindowMaximum: WindowReduction {
    var largest: Float = 0
    @inline(__always) mutating func start(first: Float) { largest = first }
    @inline(__always) mutating func take(_ value: Float, at index: Int) { largest = value > largest ? value : largest }
    @inline(__always) func value(taps: Int, padded: Int) -> Float { largest }
    var index: Int { -1 }
}

/// ``WindowMaximum`` and where it is.
struct LargestWithIndex: WindowReduction {
    var largest: Float = 0
    var index = -1
    @inline(__always) mutating func start(first: Float) { largest = first; index = -1 }
    @inline(__always) mutating func take(_ value: Float, at index: Int) {
        if value > largest || self.index < 0 { largest = value; self.index = index }
    }
    @inline(__always) func value(taps: Int, padded: Int) -> Float { largest }
}

/// The mean over the taps inside the input, or over those inside the padded input.
struct Mean: WindowReduction {
    let includePadding: Bool
    var sum: Float = 0
    @inline(__always) mutating func start(first: Float) { sum = 0 }
    @inline(__always) mutating func take(_ value: Float, at index: Int) { sum += value }
    @inline(__always) func value(taps: Int, padded: Int) -> Float {
        let divisor = includePadding ? padded : taps
        return divisor > 0 ? sum / Float(divisor) : 0
    }
    var index: Int { -1 }
}

/// Where a sliding window (convolution or pooling kernel) visits the spatial dimensions of
/// an `[N, C, spatial…]` input: kernel, strides, dilations, padding and the output size.
///
/// One, two and three spatial dimensions are handled alike by padding the description to
/// three dimensions with trivial leading ones (size 1, kernel 1, stride 1, no padding).
package struct WindowGeometry: Equatable {
    var input: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var output: [Int]
    /// The number of spatial dimensions before padding to three.
    var spatialRank: Int

    /// The attributes of a windowed node (`kernel_shape`, `strides`, `dilations`, `pads`,
    /// `auto_pad`, `ceil_mode`), checked once at load time.
    struct Attributes: Sendable {
        var kernel: [Int]?
        var strides: [Int]?
        var dilations: [Int]?
        var pads: [Int]?
        var autoPad: String
        var ceilMode: Bool

        /// Explicit strides and pads, nothing else set (unit dilations, no automatic padding).
        init(strides: [Int], pads: [Int]) {
            self.strides = strides
            self.pads = pads
            autoPad = "NOTSET"
            ceilMode = false
        }

        init(_ context: NodeContext) throws {
            kernel = try context.ints("kernel_shape")
            strides = try context.ints("strides")
            dilations = try context.ints("dilations")
            pads = try context.ints("pads")
            autoPad = try context.require("auto_pad", in: ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"], default: "NOTSET")
            ceilMode = try context.int("ceil_mode", default: 0) != 0
            for (name, values) in [("strides", strides), ("dilations", dilations), ("kernel_shape", kernel)] {
                if let values, values.contains(where: { $0 < 1 }) { throw context.invalid("\(name) must be positive, not \(values)") }
            }
            if let pads, pads.contains(where: { $0 < 0 }) { throw context.invalid("pads must not be negative, not \(pads)") }
            for (name, values) in [("strides", strides), ("dilations", dilations), ("pads", pads)] {
                if let values, values.contains(where: { $0 > Self.largestStep }) {
                    throw context.invalid("\(name) \(values) go beyond \(Self.largestStep), the most a window step or padding may be")
                }
            }
        }

        /// The largest stride, dilation or padding accepted (2²⁴): far beyond any real
        /// network, and small enough that no window arithmetic can overflow.
        static let largestStep = 1 << 24
    }

    /// The geometry for an input of spatial shape `input` and a kernel of `kernel` (from the
    /// weight for convolutions, from the attribute for pooling).
    init(input: [Int], kernel: [Int], attributes: Attributes) throws {
        let rank = input.count
        guard (1...3).contains(rank) else {
            throw KernelError("\(rank) spatial dimensions are not supported (1 to 3 are)")
        }
        guard kernel.count == rank else { throw KernelError("kernel \(kernel) does not fit \(rank) spatial dimensions") }
        guard ShapeOperators.product(input) != nil, ShapeOperators.product(kernel) != nil else {
            throw KernelError("input \(input) and kernel \(kernel) are beyond the largest dimension (\(Tensor.maximumCount))")
        }
        let strides = attributes.strides ?? Array(repeating: 1, count: rank)
        let dilations = attributes.dilations ?? Array(repeating: 1, count: rank)
        guard strides.count == rank, dilations.count == rank else {
            throw KernelError("strides \(strides) and dilations \(dilations) must have \(rank) values")
        }
        var begin = Array(repeating: 0, count: rank)
        var end = Array(repeating: 0, count: rank)
        var output = Array(repeating: 0, count: rank)
        for axis in 0..<rank {
            let extent = dilations[axis] * (kernel[axis] - 1) + 1
            switch attributes.autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                output[axis] = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (output[axis] - 1) * strides[axis] + extent - input[axis])
                let small = total / 2
                (begin[axis], end[axis]) = attributes.autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
            case "VALID":
                output[axis] = input[axis] >= extent ? (input[axis] - extent) / strides[axis] + 1 : 0
            default:
                if let pads = attributes.pads {
                    guard pads.count == 2 * rank else { throw KernelError("pads \(pads) must have \(2 * rank) values") }
                    begin[axis] = pads[axis]
                    end[axis] = pads[rank + axis]
                }
                let span = input[axis] + begin[axis] + end[axis] - extent
                guard span >= 0 else {
                    throw KernelError("the kernel (extent \(extent)) is larger than the padded input (\(input[axis] + begin[axis] + end[axis]))")
                }
                if attributes.ceilMode {
                    output[axis] = (span + strides[axis] - 1) / strides[axis] + 1
                    // The last window must start inside the input or its leading padding.
                    if (output[axis] - 1) * strides[axis] >= input[axis] + begin[axis] { output[axis] -= 1 }
                } else {
                    output[axis] = span / strides[axis] + 1
                }
            }
        }
        _ = try Tensor.checkedCount(output, what: "its spatial output")
        let lead = 3 - rank
        func pad(_ values: [Int]) -> [Int] { Array(repeating: 1, count: lead) + values }
        func padZero(_ values: [Int]) -> [Int] { Array(repeating: 0, count: lead) + values }
        self.input = pad(input)
        self.kernel = pad(kernel)
        self.strides = pad(strides)
        self.dilations = pad(dilations)
        self.padBegin = padZero(begin)
        self.padEnd = padZero(end)
        self.output = pad(output)
        self.spatialRank = rank
    }

    /// A 2-D window with one stride and the same zero padding on every side (the training
    /// module's convolutions).
    package init(height: Int, width: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Int) throws {
        try self.init(input: [height, width], kernel: [kernelHeight, kernelWidth],
                      attributes: Attributes(strides: [stride, stride], pads: [padding, padding, padding, padding]))
    }

    package var inputCount: Int { input[0] * input[1] * input[2] }
    package var outputCount: Int { output[0] * output[1] * output[2] }
    package var kernelCount: Int { kernel[0] * kernel[1] * kernel[2] }
    /// The output's spatial shape without the padding dimensions.
    package var outputShape: [Int] { Array(output.suffix(spatialRank)) }

    /// Whether the window is a plain 1×1 (×1) pass over the input: no copy needed.
    var isPointwise: Bool {
        kernel == [1, 1, 1] && strides == [1, 1, 1] && padBegin == [0, 0, 0] && padEnd == [0, 0, 0]
    }

    /// A window over rows and columns only (depth 1): the case of the C kernels
    /// `repprobe_im2col` and `repprobe_col2im`.
    var isPlanar: Bool {
        input[0] == 1 && kernel[0] == 1 && output[0] == 1 && padBegin[0] == 0
    }

    /// Along the innermost axis, for kernel column `kw`: the input offset of output column 0
    /// (`ow·stride + offset` is the input column output column `ow` reads) and the output
    /// columns `first..<last` that read inside the input rather than padding.
    @inline(__always)
    func insideColumns(kernel kw: Int) -> (offset: Int, first: Int, last: Int) {
        let offset = kw * dilations[2] - padBegin[2]
        let stride = strides[2], width = output[2]
        let first = min(width, max(0, (-offset + stride - 1) / stride))
        let last = min(width, max(first, (input[2] - offset + stride - 1) / stride))
        return (offset, first, last)
    }

    /// The input index that output position `o` and kernel offset `k` read along `axis`
    /// (may fall into padding: negative or ≥ input size).
    @inline(__always)
    func source(_ axis: Int, output o: Int, kernel k: Int) -> Int {
        o * strides[axis] - padBegin[axis] + k * dilations[axis]
    }
}

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
        let planes = x.shape[0] * x.shape[1]
        let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
        var values = [Float](repeating: 0, count: planes * g.outputCount)
        var indices = wantsIndices ? [Int64](repeating: 0, count: planes * g.outputCount) : []
        // Average pooling with padding counted divides by the window clipped to the padded
        // input (not to the extra cells that ceil mode adds).
        let limit = (0..<3).map { g.input[$0] + g.padEnd[$0] }
        xs.withUnsafeBufferPointer { xs in
            values.withUnsafeMutableBufferPointer { out in
                var position = 0
                for plane in 0..<planes {
                    let base = plane * g.inputCount
                    for od in 0..<g.output[0] { for oh in 0..<g.output[1] { for ow in 0..<g.output[2] {
                        var best = -Float.infinity, bestIndex = -1
                        var sum: Float = 0, counted = 0, padded = 0
                        for kd in 0..<g.kernel[0] {
                            let id = g.source(0, output: od, kernel: kd)
                            if id >= limit[0] { break }
                            for kh in 0..<g.kernel[1] {
                                let ih = g.source(1, output: oh, kernel: kh)
                                if ih >= limit[1] { break }
                                for kw in 0..<g.kernel[2] {
                                    let iw = g.source(2, output: ow, kernel: kw)
                                    if iw >= limit[2] { break }
                                    padded += 1
                                    guard id >= 0, id < inD, ih >= 0, ih < inH, iw >= 0, iw < inW else { continue }
                                    let index = (id * inH + ih) * inW + iw
                                    let v = xs[base + index]
                                    sum += v
                                    counted += 1
                                    if v > best || bestIndex < 0 { best = v; bestIndex = index }
                                }
                            }
                        }
                        switch kind {
                        case .max:
                            out[position] = bestIndex < 0 ? -Float.infinity : best
                            if wantsIndices {
                                var flat = bestIndex
                                if columnMajor && bestIndex >= 0 {
                                    let (d, h, w) = (bestIndex / (inH * inW), (bestIndex / inW) % inH, bestIndex % inW)
                                    flat = (w * inH + h) * inD + d
                                }
                                indices[position] = Int64(base + flat)
                            }
                        case let .average(includePadding):
                            let divisor = includePadding ? padded : counted
                            out[position] = divisor > 0 ? sum / Float(divisor) : 0
                        }
                        position += 1
                    } } }
                }
            }
        }
        return (values, wantsIndices ? indices : nil, Array(x.shape.prefix(2)) + g.outputShape)
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

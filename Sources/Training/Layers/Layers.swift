import Analysis
import Networks

/// A 2-D convolution, weight `[out, in, k, k]` (PyTorch's `Conv2d`), one stride and one
/// zero padding for both axes.
public final class Conv2D: Layer {
    public let name: String
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int

    public init(_ name: String, inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, generator: inout SeededGenerator) {
        self.name = name
        let fanIn = inputs * kernel * kernel
        weight = Parameter(name: "\(name).weight", shape: [outputs, inputs, kernel, kernel],
                           value: uniformInitialisation(count: outputs * fanIn, fanIn: fanIn, generator: &generator), decays: true)
        self.bias = bias ? Parameter(name: "\(name).bias", shape: [outputs],
                                     value: uniformInitialisation(count: outputs, fanIn: fanIn, generator: &generator), decays: false) : nil
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var state: [(name: String, shape: [Int], values: [Float])] { parameters.map { ($0.name, $0.shape, $0.value) } }

    public func callAsFunction(_ x: Variable) -> Variable {
        x.conv2d(weight: x.tape.read(weight), bias: bias.map { x.tape.read($0) }, stride: stride, padding: padding)
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        var inputs = [input, graph.constant(weight.name, shape: weight.shape, values: weight.value)]
        if let bias { inputs.append(graph.constant(bias.name, shape: bias.shape, values: bias.value)) }
        let k = weight.shape[2]
        return graph.node("Conv", module: name, inputs: inputs, attributes: [
            "kernel_shape": .ints([k, k]), "strides": .ints([stride, stride]),
            "pads": .ints([padding, padding, padding, padding]), "dilations": .ints([1, 1]), "group": .int(1),
        ])
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> { try loadParameters(parameters, values) }
}

/// A fully connected layer, weight `[out, in]` (PyTorch's `Linear`), on `[N, in]`.
public final class Dense: Layer {
    public let name: String
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ name: String, inputs: Int, outputs: Int, bias: Bool = true, generator: inout SeededGenerator) {
        self.name = name
        weight = Parameter(name: "\(name).weight", shape: [outputs, inputs],
                           value: uniformInitialisation(count: outputs * inputs, fanIn: inputs, generator: &generator), decays: true)
        self.bias = bias ? Parameter(name: "\(name).bias", shape: [outputs],
                                     value: uniformInitialisation(count: outputs, fanIn: inputs, generator: &generator), decays: false) : nil
    }

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }
    public var state: [(name: String, shape: [Int], values: [Float])] { parameters.map { ($0.name, $0.shape, $0.value) } }

    public func callAsFunction(_ x: Variable) -> Variable {
        x.dense(weight: x.tape.read(weight), bias: bias.map { x.tape.read($0) })
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        var inputs = [input, graph.constant(weight.name, shape: weight.shape, values: weight.value)]
        if let bias { inputs.append(graph.constant(bias.name, shape: bias.shape, values: bias.value)) }
        return graph.node("Gemm", module: name, inputs: inputs,
                          attributes: ["alpha": .float(1), "beta": .float(1), "transB": .int(1)])
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> { try loadParameters(parameters, values) }
}

/// Batch normalisation over the channels of `[N, C, …]` (PyTorch's `BatchNorm2d`): scale
/// `weight` (γ, from 1), shift `bias` (β, from 0), running mean and variance.
public final class BatchNorm: Layer {
    public let name: String
    public let scale: Parameter
    public let shift: Parameter
    public let statistics: RunningStatistics
    public let epsilon: Float

    public init(_ name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.name = name
        scale = Parameter(name: "\(name).weight", shape: [channels], value: Array(repeating: 1, count: channels), decays: false)
        shift = Parameter(name: "\(name).bias", shape: [channels], value: Array(repeating: 0, count: channels), decays: false)
        statistics = RunningStatistics(channels: channels, momentum: momentum)
        self.epsilon = epsilon
    }

    public var parameters: [Parameter] { [scale, shift] }
    public var state: [(name: String, shape: [Int], values: [Float])] {
        let c = scale.shape
        return [(scale.name, c, scale.value), (shift.name, c, shift.value),
                ("\(name).running_mean", c, statistics.mean), ("\(name).running_var", c, statistics.variance)]
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        x.batchNorm(scale: x.tape.read(scale), shift: x.tape.read(shift), statistics: statistics, epsilon: epsilon)
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        let inputs = state.map { graph.constant($0.name, shape: $0.shape, values: $0.values) }
        return graph.node("BatchNormalization", module: name, inputs: [input] + inputs,
                          attributes: ["epsilon": .float(epsilon), "momentum": .float(1 - statistics.momentum)])
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> {
        var used = try loadParameters(parameters, values)
        try loadArray("\(name).running_mean", into: &statistics.mean, from: values, used: &used)
        try loadArray("\(name).running_var", into: &statistics.variance, from: values, used: &used)
        return used
    }
}

/// A layer without parameters: an activation, a pooling, a reshape.
public final class Function: Layer {
    public enum Kind: Equatable, Sendable {
        case relu, gelu
        case maxPool(kernel: Int, stride: Int)
        case averagePool(kernel: Int, stride: Int)
        case globalAveragePool
        case flatten
    }

    public let name: String
    public let kind: Kind

    public init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    public var parameters: [Parameter] { [] }
    public var state: [(name: String, shape: [Int], values: [Float])] { [] }

    public func callAsFunction(_ x: Variable) -> Variable {
        switch kind {
        case .relu: x.relu()
        case .gelu: x.gelu()
        case let .maxPool(kernel, stride): x.maxPool2d(kernel: kernel, stride: stride)
        case let .averagePool(kernel, stride): x.averagePool2d(kernel: kernel, stride: stride)
        case .globalAveragePool: x.globalAveragePool()
        case .flatten: x.flattened()
        }
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        switch kind {
        case .relu:
            return graph.node("Relu", module: name, inputs: [input])
        case .gelu:
            graph.opset = max(graph.opset, 20)
            return graph.node("Gelu", module: name, inputs: [input])
        case let .maxPool(kernel, stride), let .averagePool(kernel, stride):
            let op = if case .maxPool = kind { "MaxPool" } else { "AveragePool" }
            return graph.node(op, module: name, inputs: [input], attributes: [
                "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([0, 0, 0, 0]),
            ])
        case .globalAveragePool:
            return graph.node("GlobalAveragePool", module: name, inputs: [input])
        case .flatten:
            return graph.node("Flatten", module: name, inputs: [input], attributes: ["axis": .int(1)])
        }
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> { [] }
}

/// Layers applied one after another (PyTorch's `Sequential`, or a module whose forward
/// calls its children in order).
public final class Sequential: Layer {
    public let name: String
    public let layers: [any Layer]

    public init(_ name: String, _ layers: [any Layer]) {
        self.name = name
        self.layers = layers
    }

    public var sublayers: [any Layer] { layers }
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var state: [(name: String, shape: [Int], values: [Float])] { layers.flatMap(\.state) }

    public func callAsFunction(_ x: Variable) -> Variable {
        layers.reduce(x) { value, layer in layer(value) }
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        layers.reduce(input) { value, layer in layer.export(value, into: &graph) }
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> {
        try layers.reduce(into: Set<String>()) { used, layer in used.formUnion(try layer.load(values)) }
    }
}

/// Two 3×3 convolutions with batch normalisation, `relu(bn2(conv2(relu(bn1(conv1(x))))) + x)`,
/// or without the `+ x` for a plain block of the same depth (the `Block` of the shipped
/// digit networks, a ResNet basic block without downsampling).
public final class ResidualBlock: Layer {
    public let name: String
    public let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
    public let relu1: Function, relu2: Function
    /// Whether the input is added back (false: a plain block).
    public let isResidual: Bool

    public init(_ name: String, channels: Int, residual: Bool, generator: inout SeededGenerator) {
        self.name = name
        func child(_ c: String) -> String { name.isEmpty ? c : "\(name).\(c)" }
        conv1 = Conv2D(child("conv1"), inputs: channels, outputs: channels, kernel: 3, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm(child("bn1"), channels: channels)
        conv2 = Conv2D(child("conv2"), inputs: channels, outputs: channels, kernel: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm(child("bn2"), channels: channels)
        relu1 = Function(name, .relu)
        relu2 = Function(name, .relu)
        isResidual = residual
    }

    var children: [any Layer] { [conv1, bn1, conv2, bn2] }
    public var sublayers: [any Layer] { children }
    public var parameters: [Parameter] { children.flatMap(\.parameters) }
    public var state: [(name: String, shape: [Int], values: [Float])] { children.flatMap(\.state) }

    public func callAsFunction(_ x: Variable) -> Variable {
        let y = bn2(conv2(relu1(bn1(conv1(x)))))
        return relu2(isResidual ? y + x : y)
    }

    public func export(_ input: String, into graph: inout GraphBuilder) -> String {
        let first = relu1.export(bn1.export(conv1.export(input, into: &graph), into: &graph), into: &graph)
        let y = bn2.export(conv2.export(first, into: &graph), into: &graph)
        let sum = isResidual ? graph.node("Add", module: name, inputs: [y, input]) : y
        return relu2.export(sum, into: &graph)
    }

    public func load(_ values: [String: [Float]]) throws -> Set<String> {
        try children.reduce(into: Set<String>()) { used, layer in used.formUnion(try layer.load(values)) }
    }
}

/// Loads parameters by name.
func loadParameters(_ parameters: [Parameter], _ values: [String: [Float]]) throws -> Set<String> {
    var used = Set<String>()
    for parameter in parameters { try loadArray(parameter.name, into: &parameter.value, from: values, used: &used) }
    return used
}

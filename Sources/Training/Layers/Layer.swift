import Analysis
import Networks

/// A part of a network: a forward pass over ``Variable``s, its parameters, and its
/// description as ONNX nodes.
///
/// Layers are named by their module path (`layer1.0.conv1`), as PyTorch names modules, and
/// their parameters and statistics by path and role (`layer1.0.conv1.weight`,
/// `layer1.0.bn1.running_mean`), as a PyTorch state dict does. So a checkpoint written here
/// pairs with a PyTorch model of the same structure key for key, and the exported graph's
/// tensors carry the module paths that `repprobe layers` lists.
public protocol Layer: AnyObject {
    /// The module path (`""` for a network's root).
    var name: String { get }
    /// The trainable parameters, this layer's and its sublayers', in a fixed order.
    var parameters: [Parameter] { get }
    /// Every stored array (parameters and running statistics) by state-dict name.
    var state: [(name: String, shape: [Int], values: [Float])] { get }

    /// The forward pass. On an inference tape (``Tape/isTraining`` false) batch
    /// normalisation uses its running statistics.
    func callAsFunction(_ x: Variable) -> Variable

    /// Appends this layer's nodes, reading tensor `input`, and returns its output's name.
    func export(_ input: String, into graph: inout GraphBuilder) -> String

    /// Replaces stored arrays with `values` where the names match; returns the names used.
    func load(_ values: [String: [Float]]) throws -> Set<String>

    /// The layers this one is made of (none for a leaf).
    var sublayers: [any Layer] { get }
}

extension Layer {
    public var sublayers: [any Layer] { [] }

    /// This layer and every layer inside it, depth first.
    public var allLayers: [any Layer] { [self] + sublayers.flatMap(\.allLayers) }
}

extension Layer {
    /// A child's module path.
    func path(_ child: String) -> String { name.isEmpty ? child : "\(name).\(child)" }
}

/// Collects ONNX nodes and initializers for ``Layer/export(_:into:)``.
public struct GraphBuilder {
    var nodes: [Node] = []
    var initializers: [String: Tensor] = [:]
    var initializerOrder: [String] = []
    /// The highest operator-set version a node needs (GELU needs 20).
    var opset = 17

    /// Adds an initializer under its state-dict name and returns the name.
    mutating func constant(_ name: String, shape: [Int], values: [Float]) -> String {
        if initializers[name] == nil { initializerOrder.append(name) }
        initializers[name] = Tensor(shape: shape, elements: values)
        return name
    }

    /// Adds a node named as PyTorch's exporter names them (`/layer1/layer1.0/conv1/Conv`,
    /// output `/layer1/layer1.0/conv1/Conv_output_0`) and returns its output's name.
    mutating func node(_ opType: String, module: String, inputs: [String], attributes: [String: Attribute] = [:]) -> String {
        let scopes = Self.scopes(of: module)
        // Each scope by its attribute name; an index in a sequence keeps its parent's name
        // (`layer1.0`), as the exporter writes them.
        let parts = module.split(separator: ".").map(String.init)
        let labels = parts.indices.map { i in
            i > 0 && parts[i].allSatisfy(\.isNumber) ? "\(parts[i - 1]).\(parts[i])" : parts[i]
        }
        let prefix = "/" + labels.joined(separator: "/")
        var base = (scopes.isEmpty ? "" : prefix) + "/" + opType
        // A module that runs the same operator twice (a residual block's two ReLUs) gets
        // numbered names, as the exporter does.
        var suffix = 0
        while nodes.contains(where: { $0.name == base }) {
            suffix += 1
            base = (scopes.isEmpty ? "" : prefix) + "/\(opType)_\(suffix)"
        }
        let output = base + "_output_0"
        nodes.append(Node(name: base, opType: opType, inputs: inputs, outputs: [output], attributes: attributes,
                          modulePath: module.isEmpty ? nil : module, moduleScopes: scopes))
        return output
    }

    /// `layer1.0.conv1` → `["layer1", "layer1.0", "layer1.0.conv1"]`.
    static func scopes(of module: String) -> [String] {
        guard !module.isEmpty else { return [] }
        let parts = module.split(separator: ".").map(String.init)
        return parts.indices.map { parts[...$0].joined(separator: ".") }
    }
}

/// Errors of model building and loading.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// PyTorch's default initialisation of convolution and linear weights and biases
/// (`kaiming_uniform_(a=√5)`): uniform on `±1/√fan_in`.
func uniformInitialisation(count: Int, fanIn: Int, generator: inout SeededGenerator) -> [Float] {
    let bound = 1 / Double(max(fanIn, 1)).squareRoot()
    return (0..<count).map { _ in Float((2 * generator.nextUnit() - 1) * bound) }
}

/// Loads one stored array by name, checking its size.
func loadArray(_ name: String, into target: inout [Float], from values: [String: [Float]], used: inout Set<String>) throws {
    guard let source = values[name] else { return }
    guard source.count == target.count else {
        throw TrainingError("'\(name)' has \(source.count) values; the model's has \(target.count)")
    }
    target = source
    used.insert(name)
}

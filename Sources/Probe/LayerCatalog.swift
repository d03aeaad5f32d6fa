import Foundation
import Networks

/// The hookable points of a network, under the names users know.
///
/// Every node output can be hooked by its ONNX tensor name. Where the exporter recorded
/// PyTorch module paths, a module path (`layer1.0.conv1`, or a container such as
/// `layer1.0`) names the output of the last node inside that module — what a PyTorch
/// forward hook on the module would see.
public struct LayerCatalog: Sendable {
    /// One hook point.
    public struct Entry: Sendable, Equatable {
        /// The ONNX tensor name.
        public var tensor: String
        /// The operator that computes it (`"input"` for a graph input).
        public var opType: String
        /// The module path whose output this tensor is, if any.
        public var module: String?
    }

    /// Every hook point: graph inputs, then node outputs in execution order.
    public let entries: [Entry]
    /// Module paths in the order their output is computed, with their tensor names.
    public let modules: [(path: String, tensor: String)]
    let tensorOfModule: [String: String]
    let indexOfTensor: [String: Int]
    /// Further names of tensors (``Graph/aliases``), such as TransformerLens hook points.
    public let aliases: [String: String]
    let chosenDefaults: [String]?
    let modelName: String

    public init(_ network: Network) {
        var entries: [Entry] = network.graph.inputs.map { Entry(tensor: $0.name, opType: "input", module: nil) }
        var lastTensorOfModule: [String: (node: Int, tensor: String)] = [:]
        for (index, node) in network.graph.nodes.enumerated() {
            guard let output = node.outputs.first(where: { !$0.isEmpty }) else { continue }
            // The node belongs to its module and to every enclosing module that was called.
            for scope in node.moduleScopes {
                lastTensorOfModule[scope] = (index, output)
            }
        }
        let moduleOfTensor = Dictionary(lastTensorOfModule.map { ($0.value.tensor, $0.key) }) { a, b in
            a.count >= b.count ? a : b
        }
        for node in network.graph.nodes {
            for output in node.outputs where !output.isEmpty {
                entries.append(Entry(tensor: output, opType: node.opType, module: moduleOfTensor[output]))
            }
        }
        self.entries = entries
        self.modules = lastTensorOfModule.sorted { ($0.value.node, $0.key.count) < ($1.value.node, $1.key.count) }
            .map { ($0.key, $0.value.tensor) }
        self.tensorOfModule = lastTensorOfModule.mapValues(\.tensor)
        self.indexOfTensor = Dictionary(entries.enumerated().map { ($1.tensor, $0) }) { first, _ in first }
        self.modelName = network.file
        self.aliases = network.graph.aliases
        self.chosenDefaults = network.graph.defaultLayers
    }

    /// The tensor a name refers to: a tensor name, else a module path, else an alias.
    ///
    /// - Throws: ``ProbeError/unknownLayer(name:model:available:)`` listing module paths
    ///   (or tensor names when the model has none).
    public func tensor(for name: String) throws -> String {
        if indexOfTensor[name] != nil { return name }
        if let tensor = tensorOfModule[name] { return tensor }
        if let tensor = aliases[name], indexOfTensor[tensor] != nil { return tensor }
        let available = modules.isEmpty ? entries.map(\.tensor) : modules.map(\.path)
        throw ProbeError.unknownLayer(name: name, model: modelName, available: available)
    }

    /// The friendly name of a tensor: its module path if it has one, else the tensor name.
    public func displayName(of tensor: String) -> String {
        indexOfTensor[tensor].flatMap { entries[$0].module } ?? tensor
    }

    /// The default layers to capture: the ones the graph names (``Graph/defaultLayers``),
    /// else every module output when the exporter left module paths (leaf and container),
    /// else every node output that is not shape arithmetic.
    public var defaultLayers: [String] {
        if let chosenDefaults { return chosenDefaults }
        if !modules.isEmpty { return modules.map(\.path) }
        let bookkeeping: Set<String> = ["Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Constant", "ConstantOfShape",
                                        "Cast", "Slice", "Range", "Equal", "Where", "Expand", "Identity"]
        return entries.filter { $0.opType != "input" && !bookkeeping.contains($0.opType) }.map(\.tensor)
    }
}

/// Which layers to hook.
public enum LayerFilter: Sendable, CustomStringConvertible {
    /// The catalogue's default layers.
    case all
    /// Exactly these names (tensor names or module paths), in this order.
    case names([String])
    /// Every module path or tensor name that starts with the prefix.
    case prefix(String)
    /// Every hook point for which the predicate holds.
    case predicate(@Sendable (LayerCatalog.Entry) -> Bool)

    /// A list of names as probe sets and the command line give it: `nil` or `["all"]` for
    /// the default layers, a single `PREFIX*` for a prefix, else exactly these names.
    public init(list names: [String]?) {
        guard let names, names != ["all"] else { self = .all; return }
        if names.count == 1, let only = names.first, only.hasSuffix("*") {
            self = .prefix(String(only.dropLast()))
        } else {
            self = .names(names)
        }
    }

    /// ``init(list:)`` of comma-separated names (`layer1.0,layer2.0`, `layer*`, or `nil`).
    public init(parsing text: String?) {
        self.init(list: text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } })
    }

    public var description: String {
        switch self {
        case .all: return "all layers"
        case let .names(names): return "the names \(names.joined(separator: ", "))"
        case let .prefix(prefix): return "the prefix '\(prefix)'"
        case .predicate: return "the predicate"
        }
    }

    /// The selected layers as (name shown to users, tensor name) pairs.
    ///
    /// - Throws: ``ProbeError/unknownLayer(name:model:available:)`` for a name the model
    ///   does not have, ``ProbeError/noLayersMatched(filter:model:)`` if nothing matched.
    public func resolve(in catalog: LayerCatalog) throws -> [(name: String, tensor: String)] {
        let selected: [(String, String)]
        switch self {
        case .all:
            selected = try catalog.defaultLayers.map { ($0, try catalog.tensor(for: $0)) }
        case let .names(names):
            selected = try names.map { ($0, try catalog.tensor(for: $0)) }
        case let .prefix(prefix):
            let modules = catalog.modules.filter { $0.path.hasPrefix(prefix) }.map { ($0.path, $0.tensor) }
            selected = modules.isEmpty
                ? catalog.entries.filter { $0.tensor.hasPrefix(prefix) }.map { ($0.tensor, $0.tensor) }
                : modules
        case let .predicate(predicate):
            selected = catalog.entries.filter(predicate).map { (catalog.displayName(of: $0.tensor), $0.tensor) }
        }
        guard !selected.isEmpty else { throw ProbeError.noLayersMatched(filter: description, model: catalog.modelName) }
        return selected
    }
}

import Foundation
import Formats

/// repprobe's own checkpoint: a safetensors file whose metadata carries the architecture,
/// so it is a complete model by itself and Python's `safetensors` can still read every
/// weight.
///
/// Metadata: `format` = `repprobe-graph`, `repprobe.graph` = the graph as JSON (inputs,
/// outputs, operator sets, nodes with their attributes and module paths, initializer
/// order). Initializers are stored under their own names; tensor-valued node attributes
/// under `__attribute__.NODE.NAME`.
public enum NativeCheckpoint {
    static let formatKey = "format"
    static let formatValue = "repprobe-graph"
    static let graphKey = "repprobe.graph"
    static let attributePrefix = "__attribute__."

    /// Whether safetensors metadata describes a native checkpoint.
    public static func isNative(_ metadata: [String: String]) -> Bool { metadata[graphKey] != nil }

    /// Writes `graph` to `url` atomically.
    public static func write(_ graph: Graph, to url: URL) throws {
        var tensors: [(name: String, array: NumericArray)] = graph.initializerOrder.compactMap { name in
            graph.initializers[name].map { (name, NumericArray($0)) }
        }
        var nodes: [NodeDescription] = []
        for (index, node) in graph.nodes.enumerated() {
            var attributes: [String: AttributeDescription] = [:]
            for (name, value) in node.attributes {
                switch value {
                case let .float(v): attributes[name] = .init(type: "float", floats: [v])
                case let .int(v): attributes[name] = .init(type: "int", ints: [v])
                case let .string(v): attributes[name] = .init(type: "string", strings: [v])
                case let .floats(v): attributes[name] = .init(type: "floats", floats: v)
                case let .ints(v): attributes[name] = .init(type: "ints", ints: v)
                case let .strings(v): attributes[name] = .init(type: "strings", strings: v)
                case let .tensor(t):
                    let key = "\(attributePrefix)\(index).\(name)"
                    tensors.append((key, NumericArray(t)))
                    attributes[name] = .init(type: "tensor", strings: [key])
                case .graph, .unsupported:
                    throw NetworkError.invalidModel(file: url.path, problem: "node '\(node.displayName)' has a subgraph or unsupported attribute '\(name)' that a checkpoint cannot store")
                }
            }
            nodes.append(NodeDescription(name: node.name, op: node.opType, domain: node.domain, inputs: node.inputs,
                                         outputs: node.outputs, attributes: attributes, module: node.modulePath,
                                         scopes: node.moduleScopes))
        }
        let description = GraphDescription(
            version: 1, opsets: graph.opsets,
            inputs: graph.inputs.map { InputDescription(name: $0.name, dtype: $0.dataType?.rawValue, shape: $0.shape) },
            outputs: graph.outputs, initializers: graph.initializerOrder, nodes: nodes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(description), as: UTF8.self)
        try Safetensors.write(tensors, metadata: [formatKey: formatValue, graphKey: json], to: url)
    }

    /// Rebuilds the graph of a native checkpoint from its decoded contents.
    public static func graph(from contents: Safetensors.Contents, file: String) throws -> Graph {
        guard let json = contents.metadata[graphKey] else {
            throw NetworkError.invalidModel(file: file, problem: "is a safetensors file without an architecture (a state dict); pair it with --graph MODEL.onnx")
        }
        let description: GraphDescription
        do {
            description = try JSONDecoder().decode(GraphDescription.self, from: Data(json.utf8))
        } catch {
            throw NetworkError.invalidModel(file: file, problem: "its architecture metadata is not valid: \(error)")
        }
        guard description.version == 1 else {
            throw NetworkError.invalidModel(file: file, problem: "checkpoint version \(description.version) is not supported (1 is)")
        }
        var arrays: [String: NumericArray] = [:]
        for (name, array) in contents.tensors { arrays[name] = array }
        var initializers: [String: Tensor] = [:]
        for name in description.initializers {
            guard let array = arrays[name] else {
                throw NetworkError.invalidModel(file: file, problem: "initializer '\(name)' named by the architecture is missing")
            }
            initializers[name] = Tensor(array)
        }
        let nodes = try description.nodes.map { node -> Node in
            var attributes: [String: Attribute] = [:]
            for (name, value) in node.attributes {
                attributes[name] = try value.attribute(arrays: arrays, node: node.name, file: file)
            }
            return Node(name: node.name, opType: node.op, domain: node.domain, inputs: node.inputs, outputs: node.outputs,
                        attributes: attributes, modulePath: node.module, moduleScopes: node.scopes)
        }
        let inputs = try description.inputs.map { input -> Graph.Input in
            let type = try input.dtype.map { raw -> DataType in
                guard let type = DataType(rawValue: raw) else {
                    throw NetworkError.invalidModel(file: file, problem: "input '\(input.name)' has unknown type '\(raw)'")
                }
                return type
            }
            return Graph.Input(name: input.name, dataType: type, shape: input.shape)
        }
        return Graph(inputs: inputs, outputs: description.outputs, initializers: initializers,
                     initializerOrder: description.initializers, nodes: nodes, opsets: description.opsets)
    }

    struct GraphDescription: Codable {
        var version: Int
        var opsets: [String: Int]
        var inputs: [InputDescription]
        var outputs: [String]
        var initializers: [String]
        var nodes: [NodeDescription]
    }

    struct InputDescription: Codable {
        var name: String
        var dtype: String?
        var shape: [Int?]?
    }

    struct NodeDescription: Codable {
        var name: String
        var op: String
        var domain: String
        var inputs: [String]
        var outputs: [String]
        var attributes: [String: AttributeDescription]
        var module: String?
        var scopes: [String]?
    }

    struct AttributeDescription: Codable {
        var type: String
        var ints: [Int]?
        var floats: [Float]?
        var strings: [String]?

        init(type: String, ints: [Int]? = nil, floats: [Float]? = nil, strings: [String]? = nil) {
            self.type = type
            self.ints = ints
            self.floats = floats
            self.strings = strings
        }

        func attribute(arrays: [String: NumericArray], node: String, file: String) throws -> Attribute {
            func bad() -> NetworkError {
                .invalidModel(file: file, problem: "node '\(node)' has a malformed '\(type)' attribute")
            }
            switch type {
            case "float": guard let v = floats?.first else { throw bad() }; return .float(v)
            case "int": guard let v = ints?.first else { throw bad() }; return .int(v)
            case "string": guard let v = strings?.first else { throw bad() }; return .string(v)
            case "floats": return .floats(floats ?? [])
            case "ints": return .ints(ints ?? [])
            case "strings": return .strings(strings ?? [])
            case "tensor":
                guard let key = strings?.first, let array = arrays[key] else { throw bad() }
                return .tensor(Tensor(array))
            default: throw bad()
            }
        }
    }
}

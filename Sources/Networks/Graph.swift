/// A computation graph: the architecture of a network plus its weights, independent of the
/// file it came from.
///
/// Nodes are in topological order (every input of a node is a graph input, an initializer
/// or an output of an earlier node), as ONNX requires of its files.
public struct Graph: Sendable {
    /// A named input the caller supplies, with the shape the file declares (`nil` for a
    /// dimension the file leaves symbolic, such as the batch).
    public struct Input: Sendable, Equatable {
        public var name: String
        public var dataType: DataType?
        public var shape: [Int?]?

        public init(name: String, dataType: DataType?, shape: [Int?]?) {
            self.name = name
            self.dataType = dataType
            self.shape = shape
        }
    }

    /// The inputs the caller supplies (initializers excluded).
    public var inputs: [Input]
    /// The names of the graph's outputs.
    public var outputs: [String]
    /// Constant tensors (weights, biases, shape constants), by name.
    public var initializers: [String: Tensor]
    /// The order in which initializers appeared in the file (for listings and checkpoints).
    public var initializerOrder: [String]
    /// The operations, in topological order.
    public var nodes: [Node]
    /// Operator-set versions by domain (`""` is the default ONNX domain).
    public var opsets: [String: Int]
    /// Further names of tensors (alias → tensor name): the TransformerLens hook points of a
    /// graph built from a Hugging Face configuration, such as `blocks.0.hook_resid_post`.
    public var aliases: [String: String] = [:]
    /// The layers analyses take when none are named, if the graph's maker chose them (a
    /// transformer's embeddings and block outputs, the hidden states); `nil`: every module.
    public var defaultLayers: [String]?
    /// The most tokens a sequence may have (a transformer's position table), if bounded:
    /// text is truncated to it.
    public var maxSequenceLength: Int?

    public init(inputs: [Input], outputs: [String], initializers: [String: Tensor], initializerOrder: [String],
                nodes: [Node], opsets: [String: Int]) {
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.initializerOrder = initializerOrder
        self.nodes = nodes
        self.opsets = opsets
    }

    /// The version of the default ONNX operator set.
    public var opset: Int { opsets[""] ?? opsets["ai.onnx"] ?? 1 }
}

/// One operation of a ``Graph``.
public struct Node: Sendable {
    /// The node's name in the file (may be empty).
    public var name: String
    /// The operator, e.g. `Conv`.
    public var opType: String
    /// The operator's domain (`""` for standard ONNX).
    public var domain: String
    /// Input tensor names; `""` marks an omitted optional input.
    public var inputs: [String]
    /// Output tensor names; `""` marks an unused optional output.
    public var outputs: [String]
    /// The attributes by name.
    public var attributes: [String: Attribute]
    /// The module path the exporter recorded for this node, e.g. `layer1.0.conv1`, if any.
    public var modulePath: String?
    /// The modules whose call this node runs inside, outermost first
    /// (`["layer1", "layer1.0", "layer1.0.conv1"]`); empty when the exporter left no scopes.
    public var moduleScopes: [String]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:], modulePath: String? = nil, moduleScopes: [String]? = nil) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.modulePath = modulePath
        self.moduleScopes = moduleScopes ?? modulePath.map { [$0] } ?? []
    }

    /// The node's name, or its operator and first output when it has none.
    public var displayName: String { name.isEmpty ? "\(opType) → \(outputs.first ?? "?")" : name }
}

/// The value of a node attribute.
public enum Attribute: Sendable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case floats([Float])
    case ints([Int])
    case strings([String])
    /// A subgraph (`If`, `Loop`, `Scan` bodies); kept so the error can name it.
    case graph
    /// An attribute type the runtime does not read (sparse tensors, type protos).
    case unsupported(String)
}

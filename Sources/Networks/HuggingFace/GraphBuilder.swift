/// Builds a ``Graph`` node by node inside PyTorch module scopes, so that the layer names of a
/// graph made from a configuration are the module paths of the Python model.
///
/// Every node records the modules it runs inside (``Node/moduleScopes``): the output of a
/// module is the output of its last node, as with an exported graph.
final class GraphBuilder {
    private(set) var nodes: [Node] = []
    private(set) var inputs: [Graph.Input] = []
    private(set) var initializers: [String: Tensor] = [:]
    private(set) var initializerOrder: [String] = []
    private(set) var aliases: [String: String] = [:]
    private var scopes: [String] = []
    private var counter = 0

    /// Declares a graph input.
    func input(_ name: String, _ type: DataType, shape: [Int?]) -> String {
        inputs.append(Graph.Input(name: name, dataType: type, shape: shape))
        return name
    }

    /// Adds a constant under `name` (a weight keeps its checkpoint name).
    @discardableResult
    func constant(_ name: String, _ tensor: Tensor) -> String {
        precondition(initializers[name] == nil, "constant '\(name)' defined twice")
        initializers[name] = tensor
        initializerOrder.append(name)
        return name
    }

    /// A fresh constant of integers (shapes, axes, sizes).
    func integers(_ values: [Int]) -> String {
        counter += 1
        return constant("const.\(counter)", TensorMovement.int64Vector(values))
    }

    /// A fresh scalar float constant.
    func scalar(_ value: Float) -> String {
        counter += 1
        return constant("const.\(counter)", Tensor(scalar: value))
    }

    /// Runs `body` inside the module `path` (a full dotted path).
    func module<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        scopes.append(path)
        defer { scopes.removeLast() }
        return try body()
    }

    /// Names `tensor` also `alias` (a TransformerLens-style hook point).
    func alias(_ alias: String, _ tensor: String) { aliases[alias] = tensor }

    /// Adds a node with one output and returns the output's name.
    @discardableResult
    func node(_ opType: String, _ inputs: [String], _ attributes: [String: Attribute] = [:]) -> String {
        node(opType, inputs, attributes, outputs: 1)[0]
    }

    /// Adds a node with `outputs` outputs, named after the module and the operator as the
    /// PyTorch exporter names them (`/encoder/layer.0/output/Add_12`).
    func node(_ opType: String, _ inputs: [String], _ attributes: [String: Attribute] = [:], outputs: Int) -> [String] {
        counter += 1
        let scope = scopes.last.map { "/" + $0.replacingOccurrences(of: ".", with: "/") } ?? ""
        let names = (0..<outputs).map { "\(scope)/\(opType)_\(counter)" + ($0 == 0 ? "" : ".\($0)") }
        nodes.append(Node(name: "\(opType)_\(counter)", opType: opType, inputs: inputs, outputs: names,
                          attributes: attributes, modulePath: scopes.last, moduleScopes: scopes))
        return names
    }

    /// An int64 scalar constant.
    func integer(_ value: Int) -> String {
        counter += 1
        return constant("const.\(counter)", Tensor(scalar: Int64(value)))
    }

    /// `0, 1, …, S − 1` for the length `S` of axis 1 of `x` (positions of a `[B, S]` batch).
    func positions(of x: String) -> String {
        let length = node("Gather", [node("Shape", [x]), integer(1)], ["axis": .int(0)])
        return node("Range", [integer(0), length, integer(1)])
    }

    /// Rows `indices` of an embedding table (`nn.Embedding`).
    func embedding(_ indices: String, table: Tensor, name: String) -> String {
        node("Gather", [constant("\(name).weight", table), indices], ["axis": .int(0)])
    }

    // MARK: Layers

    /// `x · Wᵀ + b` for a PyTorch `nn.Linear` weight `[out, in]`, stored transposed
    /// (`[in, out]`) under the checkpoint's name so that the product is one MatMul.
    func linear(_ x: String, weight: Tensor, bias: Tensor?, name: String) -> String {
        let w = constant("\(name).weight", ShapeOperators.transposed(weight, [1, 0]))
        let product = node("MatMul", [x, w])
        guard let bias else { return product }
        return node("Add", [product, constant("\(name).bias", bias)])
    }

    /// `x · W + b` for a weight already `[in, out]` (GPT-2's `Conv1D`).
    func affine(_ x: String, weight: Tensor, bias: Tensor, name: String) -> String {
        node("Add", [node("MatMul", [x, constant("\(name).weight", weight)]), constant("\(name).bias", bias)])
    }

    func layerNorm(_ x: String, weight: Tensor, bias: Tensor, epsilon: Float, name: String) -> String {
        node("LayerNormalization", [x, constant("\(name).weight", weight), constant("\(name).bias", bias)],
             ["axis": .int(-1), "epsilon": .float(epsilon)])
    }

    /// `[B, S, heads·d] → [B, heads, S, d]`, or `[B, heads, d, S]` with `keysTransposed`.
    func splitHeads(_ x: String, heads: Int, headSize: Int, keysTransposed: Bool = false) -> String {
        let split = node("Reshape", [x, integers([0, 0, heads, headSize])])
        return node("Transpose", [split], ["perm": .ints(keysTransposed ? [0, 2, 3, 1] : [0, 2, 1, 3])])
    }

    /// `[B, heads, S, d] → [B, S, heads·d]`.
    func mergeHeads(_ x: String) -> String {
        node("Reshape", [node("Transpose", [x], ["perm": .ints([0, 2, 1, 3])]), integers([0, 0, -1])])
    }

    /// Scaled dot-product attention of `[B, S, D]` queries, keys and values, with an additive
    /// mask broadcasting to `[B, heads, S, S]`. Returns the merged context and the attention
    /// probabilities (the pattern).
    func attention(query: String, key: String, value: String, mask: String?, heads: Int, headSize: Int,
                   scale: Float) -> (context: String, pattern: String) {
        let q = splitHeads(query, heads: heads, headSize: headSize)
        let k = splitHeads(key, heads: heads, headSize: headSize, keysTransposed: true)
        let v = splitHeads(value, heads: heads, headSize: headSize)
        var scores = node("Mul", [node("MatMul", [q, k]), scalar(scale)])
        if let mask { scores = node("Add", [scores, mask]) }
        let pattern = node("Softmax", [scores], ["axis": .int(-1)])
        return (mergeHeads(node("MatMul", [pattern, v])), pattern)
    }

    /// The additive mask `[B, 1, 1, S]` of a `[B, S]` int64 attention mask: 0 where the mask
    /// is 1, the most negative float where it is 0, as Hugging Face builds it.
    func paddingMask(_ mask: String) -> String {
        let keep = node("Cast", [mask], ["to": .int(1)])
        let masked = node("Sub", [scalar(1), keep])
        let additive = node("Mul", [masked, scalar(-Float.greatestFiniteMagnitude)])
        return node("Unsqueeze", [additive, integers([1, 2])])
    }

    /// The graph, with `outputs` under the names transformers gives them
    /// (`last_hidden_state`, then `pooler_output` when there is a pooler), and the layers
    /// analyses take by default.
    func graph(outputs: [String], defaultLayers: [String]) -> Graph {
        let names = ["last_hidden_state", "pooler_output"]
        precondition(outputs.count <= names.count, "a transformer has at most a hidden state and a pooled output")
        var nodes = nodes
        for (tensor, name) in zip(outputs, names) {
            nodes.append(Node(name: name, opType: "Identity", inputs: [tensor], outputs: [name], attributes: [:], modulePath: nil))
        }
        var graph = Graph(inputs: inputs, outputs: Array(names.prefix(outputs.count)), initializers: initializers,
                          initializerOrder: initializerOrder, nodes: nodes, opsets: ["": 20])
        graph.aliases = aliases
        graph.defaultLayers = defaultLayers
        return graph
    }
}

/// The layers of a transformer whose weights come from a Hugging Face checkpoint, each
/// added inside the module scope of its path, its weights named and checked as the
/// checkpoint names them.
struct CheckpointLayers {
    let builder: GraphBuilder
    let weights: HuggingFaceWeights
    let hidden: Int
    let epsilon: Float

    /// The checkpoint's `name.suffix`, or `alternative.suffix` where transformers 5 named the
    /// module differently.
    private func weight(_ name: String, _ alternative: String?, _ suffix: String, shape: [Int]) throws -> Tensor {
        try weights.tensor(["\(name).\(suffix)"] + (alternative.map { ["\($0).\(suffix)"] } ?? []), shape: shape)
    }

    /// An `nn.Linear` (weight `[outputs, inputs]`).
    func linear(_ x: String, _ name: String, alternative: String? = nil, inputs: Int, outputs: Int, bias: Bool = true) throws -> String {
        try builder.module(name) {
            builder.linear(x, weight: try weight(name, alternative, "weight", shape: [outputs, inputs]),
                           bias: bias ? try weight(name, alternative, "bias", shape: [outputs]) : nil, name: name)
        }
    }

    /// GPT-2's `Conv1D` (weight `[inputs, outputs]`).
    func conv1D(_ x: String, _ name: String, inputs: Int, outputs: Int) throws -> String {
        try builder.module(name) {
            builder.affine(x, weight: try weight(name, nil, "weight", shape: [inputs, outputs]),
                           bias: try weight(name, nil, "bias", shape: [outputs]), name: name)
        }
    }

    /// An `nn.LayerNorm` over the hidden size.
    func layerNorm(_ x: String, _ name: String, alternative: String? = nil) throws -> String {
        try builder.module(name) {
            builder.layerNorm(x, weight: try weight(name, alternative, "weight", shape: [hidden]),
                              bias: try weight(name, alternative, "bias", shape: [hidden]), epsilon: epsilon, name: name)
        }
    }

    /// An `nn.Embedding` of `rows` rows looked up by `indices`.
    func embedding(_ indices: String, _ name: String, rows: Int) throws -> String {
        try builder.module(name) {
            builder.embedding(indices, table: try weights.tensor("\(name).weight", shape: [rows, hidden]), name: name)
        }
    }

    /// BERT's and ViT's `pooler`, if the checkpoint has one: the first token through
    /// `pooler.dense` and a tanh.
    func pooler(_ last: String) throws -> String? {
        guard weights.has("pooler.dense.weight") else { return nil }
        return try builder.module("pooler") { () throws -> String in
            let first = builder.node("Gather", [last, builder.integer(0)], ["axis": .int(1)])
            let dense = try linear(first, "pooler.dense", inputs: hidden, outputs: hidden)
            return builder.module("pooler.activation") { builder.node("Tanh", [dense]) }
        }
    }
}

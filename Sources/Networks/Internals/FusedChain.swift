/// A chain of nodes that one kernel computes whole, found when a network is compiled.
///
/// A run uses the kernel only while nothing asks for a tensor inside the chain: a kept or
/// intercepted interior tensor makes the chain run node by node, so a hook never loses the
/// tensor it names. The kernel runs in place of the chain's first node, which reads the
/// chain's input, and writes the last node's output; the other nodes are skipped.
struct FusedChain: Sendable {
    /// The chain's nodes in execution order.
    let nodes: [Int]
    /// The tensors that only the chain reads, by slot.
    let interior: [Int]
    /// The chain's input and output, by slot.
    let input: Int
    let output: Int
    /// What the kernel computes, for messages.
    let opType: String
    let kernel: any Operator

    /// The exact GELU as PyTorch's exporters spell it, `x · ½ · (1 + erf(x / √2))` in five
    /// nodes: `Div(x, √2)` (or `Mul(x, 1/√2)`), `Erf`, `Add(·, 1)`, and two `Mul`s that bring
    /// in `x` and `½` in either order (the TorchScript exporter multiplies by `x` first, the
    /// dynamo exporter by `½`), every operand order accepted. The constants may be
    /// initializers or `Constant` nodes; each interior tensor must have the chain's next node
    /// as its only reader. The fused kernel is the `Gelu` operator, which computes
    /// `½ · x · (1 + erf(x · (1/√2)))`: the same function, rounded differently in the last
    /// bit or so. ViT-B/16 and BERT exports spend a tenth of their time in these five
    /// passes over the MLP's widest tensor.
    static func gelus(in graph: Graph, slot: (String) -> Int) -> [FusedChain] {
        var readers: [String: [Int]] = [:]
        var producer: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { readers[name, default: []].append(index) }
            for name in node.outputs where !name.isEmpty { producer[name] = index }
        }
        let graphOutputs = Set(graph.outputs)

        /// A float scalar: a one-element initializer or `Constant`.
        func scalar(_ name: String) -> Double? {
            var tensor = graph.initializers[name]
            if tensor == nil, let index = producer[name], graph.nodes[index].opType == "Constant" {
                switch graph.nodes[index].attributes["value"] {
                case let .tensor(value)?: tensor = value
                default:
                    if case let .float(value)? = graph.nodes[index].attributes["value_float"] { return Double(value) }
                }
            }
            guard let tensor, tensor.count == 1 else { return nil }
            return tensor.floats.map { Double($0[0]) } ?? tensor.elements(as: Double.self)?.first
        }
        func isScalar(_ name: String, _ value: Double) -> Bool {
            scalar(name).map { abs($0 - value) <= 1e-6 * value } ?? false
        }
        /// The other operand of a two-input `opType` node whose operands are `name` and another
        /// (in either order).
        func partner(of name: String, in index: Int, _ opType: String) -> String? {
            let node = graph.nodes[index]
            guard node.opType == opType, node.inputs.count == 2, node.outputs.count == 1 else { return nil }
            if node.inputs[0] == name { return node.inputs[1] }
            if node.inputs[1] == name { return node.inputs[0] }
            return nil
        }
        /// The single reader of an interior tensor.
        func onlyReader(of name: String) -> Int? {
            guard !graphOutputs.contains(name), let list = readers[name], list.count == 1 else { return nil }
            return list[0]
        }

        var chains: [FusedChain] = []
        var claimed = Set<Int>()
        for (first, node) in graph.nodes.enumerated() where node.inputs.count == 2 && node.outputs.count == 1 {
            let x: String
            if node.opType == "Div" && isScalar(node.inputs[1], 2.0.squareRoot()) {
                x = node.inputs[0]
            } else if node.opType == "Mul", let operand = node.inputs.firstIndex(where: { !isScalar($0, 0.5.squareRoot()) }),
                      isScalar(node.inputs[1 - operand], 0.5.squareRoot()) {
                x = node.inputs[operand]
            } else {
                continue
            }
            let scaled = node.outputs[0]
            guard let erf = onlyReader(of: scaled), graph.nodes[erf].opType == "Erf",
                  graph.nodes[erf].outputs.count == 1 else { continue }
            let erfOut = graph.nodes[erf].outputs[0]
            guard let add = onlyReader(of: erfOut), let one = partner(of: erfOut, in: add, "Add"), isScalar(one, 1) else { continue }
            let sum = graph.nodes[add].outputs[0]
            guard let mul = onlyReader(of: sum), let factor = partner(of: sum, in: mul, "Mul") else { continue }
            let product = graph.nodes[mul].outputs[0]
            guard let last = onlyReader(of: product), let remaining = partner(of: product, in: last, "Mul"),
                  (factor == x && isScalar(remaining, 0.5)) || (isScalar(factor, 0.5) && remaining == x) else { continue }
            let nodes = [first, erf, add, mul, last]
            guard claimed.isDisjoint(with: nodes) else { continue }
            claimed.formUnion(nodes)
            chains.append(FusedChain(
                nodes: nodes, interior: [scaled, erfOut, sum, product].map(slot),
                input: slot(x), output: slot(graph.nodes[last].outputs[0]), opType: "Gelu",
                kernel: specialised(FloatingMap(function: ActivationOperators.Gelu()))))
        }
        return chains
    }
}

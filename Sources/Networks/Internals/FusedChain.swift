/// A chain of nodes that one kernel computes whole, found when a network is compiled.
///
/// A run uses the kernel only while nothing asks for a tensor inside the chain: a kept or
/// intercepted interior tensor makes the chain run node by node, so a hook never loses the
/// tensor it names. The kernel runs in place of the chain's first node, which reads the
/// chain's first input (any other input is computed before that node), and writes the last
/// node's output; the other nodes are skipped.
struct FusedChain: Sendable {
    /// The chain's nodes in execution order.
    let nodes: [Int]
    /// The tensors that only the chain reads, by slot.
    let interior: [Int]
    /// The chain's inputs (what the kernel is given, in order) and output, by slot.
    let inputs: [Int]
    let output: Int
    /// What the kernel computes, for messages.
    let opType: String
    let kernel: any Operator

    /// Every chain of `graph` that a kernel can run whole, none sharing a node with another;
    /// `slots` numbers the graph's tensors, and `operators` are its compiled nodes.
    static func all(in graph: Graph, slots: [String: Int], operators: [any Operator]) -> [FusedChain] {
        let search = ChainSearch(graph, slots: slots)
        let (gelus, products) = (search.gelus(), search.biasedProducts())
        var claimed = Set<Int>()
        // A linear layer and the GELU after it become one chain before either alone.
        return (search.activatedProducts(products, gelus) + search.residualProducts(products, operators) + gelus + products
            + search.rectifiedConvolutions(operators) + search.attentions(operators)).filter { chain in
            guard claimed.isDisjoint(with: chain.nodes) else { return false }
            claimed.formUnion(chain.nodes)
            return true
        }
    }
}

/// Who reads and writes each tensor of a graph, and its scalar constants.
private struct ChainSearch {
    let graph: Graph
    private let slots: [String: Int]
    private var readers: [String: [Int]] = [:]
    private var producer: [String: Int] = [:]
    private let graphOutputs: Set<String>

    init(_ graph: Graph, slots: [String: Int]) {
        self.graph = graph
        self.slots = slots
        graphOutputs = Set(graph.outputs)
        for (index, node) in graph.nodes.enumerated() {
            for name in node.inputs where !name.isEmpty { readers[name, default: []].append(index) }
            for name in node.outputs where !name.isEmpty { producer[name] = index }
        }
    }

    /// A constant: an initializer or a `Constant` node's value.
    private func constant(_ name: String) -> Tensor? {
        if let tensor = graph.initializers[name] { return tensor }
        guard let index = producer[name], graph.nodes[index].opType == "Constant" else { return nil }
        switch graph.nodes[index].attributes["value"] {
        case let .tensor(value)?: return value
        default:
            if case let .float(value)? = graph.nodes[index].attributes["value_float"] { return Tensor(shape: [], elements: [value]) }
            return nil
        }
    }

    /// Whether `name` is a one-element float constant within 10⁻⁶ (relative) of `value`.
    private func isScalar(_ name: String, _ value: Double) -> Bool {
        guard let tensor = constant(name), tensor.count == 1,
              let actual = tensor.floats.map({ Double($0[0]) }) ?? tensor.elements(as: Double.self)?.first else { return false }
        return abs(actual - value) <= 1e-6 * value
    }

    /// The other operand of node `index` when it is a two-input, one-output `opType` node
    /// reading `name` (in either position).
    private func partner(of name: String, in index: Int, _ opType: String) -> String? {
        let node = graph.nodes[index]
        guard node.opType == opType, node.inputs.count == 2, node.outputs.count == 1 else { return nil }
        if node.inputs[0] == name { return node.inputs[1] }
        if node.inputs[1] == name { return node.inputs[0] }
        return nil
    }

    /// The chain of `nodes` (in execution order) from `input` to the last node's output,
    /// the tensors in `interior` read by the chain alone.
    private func chain(_ nodes: [Int], interior: [String], inputs: [String], opType: String, kernel: any Operator) -> FusedChain {
        FusedChain(nodes: nodes, interior: interior.map { slots[$0]! }, inputs: inputs.map { slots[$0]! },
                   output: slots[graph.nodes[nodes.last!].outputs[0]]!, opType: opType, kernel: kernel)
    }

    /// The other operand of `next` when it is an `Add` of `name` and a tensor that is ready
    /// before node `first` runs (an input, a constant, or an earlier node's output): a
    /// residual connection that a chain starting at `first` can add itself.
    private func residualOperand(of name: String, in next: Int, before first: Int) -> String? {
        guard let other = partner(of: name, in: next, "Add"), other != name,
              producer[other].map({ $0 < first }) ?? true else { return nil }
        return other
    }

    /// The single reader of a tensor that is not a graph output.
    private func onlyReader(of name: String) -> Int? {
        guard !graphOutputs.contains(name), let list = readers[name], list.count == 1 else { return nil }
        return list[0]
    }

    /// The exact GELU as PyTorch's exporters spell it, `x · ½ · (1 + erf(x / √2))` in five
    /// nodes: `Div(x, √2)` (or `Mul(x, 1/√2)`), `Erf`, `Add(·, 1)`, and two `Mul`s that bring
    /// in `x` and `½` in either order (the TorchScript exporter multiplies by `x` first, the
    /// dynamo exporter by `½`), every operand order accepted. The constants may be
    /// initializers or `Constant` nodes; each interior tensor must have the chain's next node
    /// as its only reader. The kernel is the `Gelu` operator, which computes
    /// `½ · x · (1 + erf(x · (1/√2)))`: the same function, rounded differently in the last
    /// bit or so. ViT-B/16 and BERT exports spend a tenth of their time in these five passes
    /// over the MLP's widest tensor.
    func gelus() -> [FusedChain] {
        var chains: [FusedChain] = []
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
            chains.append(chain([first, erf, add, mul, last], interior: [scaled, erfOut, sum, product], inputs: [x],
                                opType: "Gelu", kernel: specialised(FloatingMap(function: ActivationOperators.Gelu()))))
        }
        return chains
    }

    /// A linear layer as exporters write it: `MatMul(x, W)` with a constant float32 `W` of
    /// `k × n`, then `Add` of a constant float32 bias of `n` (either operand order), the
    /// product read by the `Add` alone. The matrix kernel adds the bias to its sums as it
    /// stores them, which saves the Add's pass over the output and its allocation.
    func biasedProducts() -> [FusedChain] {
        var chains: [FusedChain] = []
        for (first, node) in graph.nodes.enumerated() where node.opType == "MatMul" && node.inputs.count == 2 && node.outputs.count == 1 {
            guard let weight = graph.initializers[node.inputs[1]], weight.rank == 2, let weights = weight.floats else { continue }
            let product = node.outputs[0]
            guard let add = onlyReader(of: product), let biasName = partner(of: product, in: add, "Add"),
                  let bias = constant(biasName), bias.shape == [weight.shape[1]], let biases = bias.floats else { continue }
            chains.append(chain([first, add], interior: [product], inputs: [node.inputs[0]], opType: "MatMul+Add",
                                kernel: BiasedProduct(weights: weights, bias: biases, inner: weight.shape[0])))
        }
        return chains
    }

    /// A linear layer (``biasedProducts()``) whose output only a GELU chain (``gelus()``)
    /// reads: one chain whose product applies the GELU to each part of its output as the
    /// kernel finishes it, while it is in the cache, with the bits of the two chains.
    func activatedProducts(_ products: [FusedChain], _ gelus: [FusedChain]) -> [FusedChain] {
        var geluOf: [Int: FusedChain] = [:]
        for gelu in gelus { geluOf[gelu.inputs[0]] = gelu }
        return products.compactMap { product in
            let name = graph.nodes[product.nodes.last!].outputs[0]
            guard let gelu = geluOf[product.output], !graphOutputs.contains(name),
                  readers[name, default: []].allSatisfy(gelu.nodes.contains),
                  let linear = product.kernel as? BiasedProduct else { return nil }
            var activated = linear
            activated.gelu = true
            return FusedChain(nodes: product.nodes + gelu.nodes, interior: product.interior + [product.output] + gelu.interior,
                              inputs: product.inputs, output: gelu.output, opType: "MatMul+Add+Gelu", kernel: activated)
        }
    }

    /// A linear layer (``biasedProducts()``) whose output only an `Add` reads, the Add's other
    /// operand computed before the product (a transformer block's residual connection): one
    /// chain whose product adds that operand to each part of its output as the kernel
    /// finishes it, with the bits of the Add; an operand of another shape or type goes
    /// through the Add's own operator.
    func residualProducts(_ products: [FusedChain], _ operators: [any Operator]) -> [FusedChain] {
        products.compactMap { product in
            let name = graph.nodes[product.nodes.last!].outputs[0]
            guard let next = onlyReader(of: name), let other = residualOperand(of: name, in: next, before: product.nodes[0]),
                  let otherSlot = slots[other], var linear = product.kernel as? BiasedProduct else { return nil }
            linear.residual = operators[next]
            return FusedChain(nodes: product.nodes + [next], interior: product.interior + [product.output],
                              inputs: [product.inputs[0], otherSlot], output: slots[graph.nodes[next].outputs[0]]!,
                              opType: "MatMul+Add+Add", kernel: linear)
        }
    }

    /// `Conv` with constant weights (and bias, if any), its output read by a `Relu` alone, or
    /// by an `Add` alone whose output a `Relu` alone reads (a residual block's end, when the
    /// Add's other operand is computed before the convolution): the convolution adds the
    /// other operand and rectifies its output in place, which saves the passes of the Add
    /// and the Relu to new tensors and their allocations. ResNet-18 has 12 of the first
    /// kind and 5 of the second.
    func rectifiedConvolutions(_ operators: [any Operator]) -> [FusedChain] {
        var chains: [FusedChain] = []
        for (first, node) in graph.nodes.enumerated() where node.opType == "Conv" && node.outputs.count == 1 {
            guard let convolution = operators[first] as? ConvolutionOperator, node.inputs.count >= 2,
                  let weight = graph.initializers[node.inputs[1]] else { continue }
            let hasBias = node.inputs.count > 2 && !node.inputs[2].isEmpty
            let bias = hasBias ? graph.initializers[node.inputs[2]] : nil
            if hasBias && bias == nil { continue }
            let output = node.outputs[0]
            guard let next = onlyReader(of: output) else { continue }
            var interior = [output], inputs = [node.inputs[0]], nodes = [first]
            var residual: (any Operator)?
            if let other = residualOperand(of: output, in: next, before: first), constant(other) == nil {
                interior.append(graph.nodes[next].outputs[0])
                inputs.append(other)
                nodes.append(next)
                residual = operators[next]
            }
            guard let relu = onlyReader(of: interior.last!), graph.nodes[relu].opType == "Relu",
                  graph.nodes[relu].inputs.count == 1, graph.nodes[relu].outputs.count == 1 else { continue }
            var rectified = convolution
            rectified.rectified = true
            chains.append(chain(nodes + [relu], interior: interior, inputs: inputs,
                                opType: residual == nil ? "Conv+Relu" : "Conv+Add+Relu",
                                kernel: RectifiedConvolution(convolution: rectified, weight: weight, bias: bias,
                                                             add: residual, relu: operators[relu])))
        }
        return chains
    }
}

extension ChainSearch {
    /// A `Transpose` node's permutation.
    private func permutation(_ index: Int) -> [Int]? {
        let node = graph.nodes[index]
        guard node.opType == "Transpose", node.inputs.count == 1, node.outputs.count == 1,
              case let .ints(perm)? = node.attributes["perm"] else { return nil }
        return perm
    }

    /// The constant scalar index of a `Gather` on axis 0 with one output.
    private func gatheredIndex(_ index: Int) -> Int? {
        let node = graph.nodes[index]
        guard node.opType == "Gather", node.inputs.count == 2, node.outputs.count == 1 else { return nil }
        if let axis = node.attributes["axis"] { guard case .int(0) = axis else { return nil } }
        guard let indices = constant(node.inputs[1]), indices.rank == 0 else { return nil }
        return indices.elements(as: Int64.self).map { Int($0[0]) } ?? indices.elements(as: Int32.self).map { Int($0[0]) }
    }

    /// Scaled dot-product attention as ViT exports of the timm kind write it, from the
    /// query-key-value product `[B, N, 3·H·D]`: `Reshape` to `[B, N, 3, H, D]`, `Transpose`
    /// (2, 0, 3, 1, 4), three `Gather`s of the constant indices 0, 1 and 2 on axis 0 (the
    /// queries, keys and values, in any order), `Transpose` (0, 1, 3, 2) of the keys, `MatMul`
    /// of the queries by them, `Mul` by a constant scalar, `Softmax` over the last axis,
    /// `MatMul` by the values and `Transpose` (0, 2, 1, 3) back to `[B, N, H, D]`; each
    /// interior tensor read by the chain's next node alone. The kernel reads the queries,
    /// keys and values where the product left them and writes each head's output into its
    /// place in the result, which saves four copies of the product's size and the scale's
    /// pass; the products and the softmax are those of the nodes, with the same bits.
    func attentions(_ operators: [any Operator]) -> [FusedChain] {
        var chains: [FusedChain] = []
        for (first, node) in graph.nodes.enumerated() where node.opType == "Reshape" && node.inputs.count == 2 && node.outputs.count == 1 {
            let reshaped = node.outputs[0]
            guard let split = onlyReader(of: reshaped), permutation(split) == [2, 0, 3, 1, 4] else { continue }
            let heads = graph.nodes[split].outputs[0]
            guard !graphOutputs.contains(heads), let gathers = readers[heads], gathers.count == 3,
                  gathers.compactMap(gatheredIndex).sorted() == [0, 1, 2] else { continue }
            let parts = gathers.map { graph.nodes[$0].outputs[0] }
            // The keys are the part that a Transpose (0, 1, 3, 2) alone reads; the product reads
            // the queries and the transposed keys, the values come in after the softmax.
            guard let keys = parts.firstIndex(where: { onlyReader(of: $0).map { permutation($0) == [0, 1, 3, 2] } ?? false }),
                  let transpose = onlyReader(of: parts[keys]) else { continue }
            let keysTransposed = graph.nodes[transpose].outputs[0]
            guard let scores = onlyReader(of: keysTransposed), graph.nodes[scores].opType == "MatMul",
                  graph.nodes[scores].inputs.count == 2, graph.nodes[scores].inputs[1] == keysTransposed,
                  let queries = parts.firstIndex(of: graph.nodes[scores].inputs[0]), queries != keys,
                  onlyReader(of: parts[queries]) == scores else { continue }
            let values = 3 - keys - queries
            let product = graph.nodes[scores].outputs[0]
            guard let mul = onlyReader(of: product), let factorName = partner(of: product, in: mul, "Mul"),
                  let factor = constant(factorName), factor.count == 1, factor.rank <= 4 else { continue }
            let scaled = graph.nodes[mul].outputs[0]
            guard let softmax = onlyReader(of: scaled), let normalise = operators[softmax] as? SoftmaxOperator,
                  graph.nodes[softmax].opType == "Softmax", normalise.axis == -1 || normalise.axis == 3 else { continue }
            let weights = graph.nodes[softmax].outputs[0]
            guard let mix = onlyReader(of: weights), graph.nodes[mix].opType == "MatMul", graph.nodes[mix].inputs == [weights, parts[values]],
                  onlyReader(of: parts[values]) == mix else { continue }
            let mixed = graph.nodes[mix].outputs[0]
            guard let merge = onlyReader(of: mixed), permutation(merge) == [0, 2, 1, 3] else { continue }
            let order = [queries, keys, values].map { gathers[$0] }
            let kernel = FusedAttention(
                roles: order.map { gatheredIndex($0)! }, scale: factor.floats?[0],
                unfused: FusedAttention.Nodes(
                    reshape: operators[first], split: operators[split], gathers: order.map { operators[$0] },
                    indices: order.map { constant(graph.nodes[$0].inputs[1])! }, keysTransposed: operators[transpose],
                    scores: operators[scores], scale: operators[mul], factor: factor,
                    factorFirst: graph.nodes[mul].inputs[0] == factorName, softmax: operators[softmax],
                    mix: operators[mix], merge: operators[merge]))
            chains.append(chain([first, split] + gathers.sorted() + [transpose, scores, mul, softmax, mix, merge],
                                interior: [reshaped, heads] + parts + [keysTransposed, product, scaled, weights, mixed],
                                inputs: node.inputs, opType: "Attention", kernel: kernel))
        }
        return chains
    }
}

/// A `Conv` with constant operands that rectifies its output, given its input and, when a
/// residual `Add` lies between, the Add's other operand: added to the output in the same
/// pass when it has the output's shape, else (broadcast, or another type) through the
/// `Add` and `Relu` nodes' own operators.
private struct RectifiedConvolution: Operator {
    let convolution: ConvolutionOperator
    let weight: Tensor
    let bias: Tensor?
    let add: (any Operator)?
    let relu: any Operator

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        guard let add else { return try [convolution.convolve(x, weight: weight, bias: bias)] }
        let other = try inputs.required(1)
        if x.rank >= 3, let residual = other.floats,
           let g = try? WindowGeometry(input: Array(x.shape.dropFirst(2)), kernel: Array(weight.shape.dropFirst(2)),
                                       attributes: convolution.attributes),
           other.shape == [x.shape[0], weight.shape[0]] + g.outputShape {
            return try [convolution.convolve(x, weight: weight, bias: bias, residual: residual)]
        }
        var plain = convolution
        plain.rectified = false
        return try relu.run(add.run([plain.convolve(x, weight: weight, bias: bias), other]))
    }
}

/// `x · W + b` for float32 `x` of `[…, k]`, constant `W` of `k × n` and `b` of `n`, passed
/// through the GELU when `gelu` is set.
private struct BiasedProduct: Operator {
    let weights: [Float]
    let bias: [Float]
    let inner: Int
    var gelu = false
    /// The residual connection's `Add`, whose other operand is the second input.
    var residual: (any Operator)?

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0)
        guard let values = x.floats else { throw KernelError("operands must both be float32 or both float64, not \(x.dataType) and float32") }
        let n = bias.count, k = inner
        guard x.rank >= 1, x.shape[x.rank - 1] == k else { throw KernelError("shapes \(x.shape) and \([k, n]) do not fit") }
        let m = Tensor.count(Array(x.shape.dropLast()))
        let shape = Array(x.shape.dropLast()) + [n]
        // The residual added in the product's parts when it has the output's shape.
        let other = residual == nil ? nil : try inputs.required(1)
        let added = other.flatMap { $0.shape == shape ? $0.floats : nil }
        var result: [Float] = ElementLoops.uninitialized(m * n)
        result.withUnsafeMutableBufferPointer { r in
            guard let c = r.baseAddress else { return }
            values.withUnsafeBufferPointer { a in
                weights.withUnsafeBufferPointer { b in
                    bias.withUnsafeBufferPointer { bias in
                        (added ?? []).withUnsafeBufferPointer { addend in
                            let finish: ((UnsafeMutablePointer<Float>, Int) -> Void)?
                            if gelu {
                                finish = { VectorMath.gelu($0, $0, $1) }
                            } else if added != nil, let terms = addend.baseAddress {
                                // (An empty array may have a base address too.)
                                finish = { segment, count in
                                    let from = terms + (segment - c)
                                    for i in 0..<count { segment[i] += from[i] }
                                }
                            } else {
                                finish = nil
                            }
                            // With k = 0, a and b may have no storage: every row is then the bias.
                            RowMajorGEMM.multiply(m: m, n: n, k: k, a: a.baseAddress ?? UnsafePointer(c), lda: max(k, 1),
                                                  b: b.baseAddress ?? UnsafePointer(c), ldb: n, bias: bias.baseAddress!,
                                                  c: c, ldc: n, finish: finish)
                        }
                    }
                }
            }
        }
        let product = Tensor(shape: shape, elements: result)
        if let residual, let other, added == nil { return try residual.run([product, other]) }
        return [product]
    }
}

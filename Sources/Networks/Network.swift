import Tokenization

/// A graph compiled for execution: every node resolved to a kernel with its attributes
/// checked, every tensor name mapped to a slot, and the point after which each
/// intermediate tensor is no longer needed.
///
/// Running keeps only the tensors that later nodes still need (plus the ones asked for), so
/// memory follows the widest cut of the graph, not its depth.
public final class Network: Sendable {
    /// The graph this network runs.
    public let graph: Graph
    /// The model file, as named in messages.
    public let file: String
    /// The tokenizer that turns text into this network's inputs (a Hugging Face folder's),
    /// if it has one.
    public let tokenizer: Tokenizer?

    let operators: [any Operator]
    let slotOfName: [String: Int]
    let names: [String]
    let nodeInputs: [[Int]]
    let nodeOutputs: [[Int]]
    let constants: [(slot: Int, tensor: Tensor)]
    let inputSlots: [Int]
    let outputSlots: [Int]
    /// The index of the last node that reads each slot (`-1` if none, `Int.max` for outputs).
    let lastUse: [Int]
    /// The node that writes each slot (`nil` for inputs and initializers).
    let producer: [Int?]
    /// Whether a slot holds a graph input or a node output (not a constant), so that a run
    /// may free it after its last reader.
    let transient: [Bool]
    /// Chains of nodes that one kernel runs whole when no tensor inside them is asked for.
    let fusedChains: [FusedChain]
    /// The nodes whose inputs are all constants, run once when the network is compiled, and
    /// their outputs by slot: a run that asks for none of these outputs starts with them
    /// and skips the nodes.
    let foldedNodes: Set<Int>
    let folded: [(slot: Int, tensor: Tensor)]

    /// The chains of nodes that one kernel runs whole unless a tensor inside is kept or
    /// hooked: each chain's output, what the kernel computes (`"MatMul+Add"`, `"Gelu"`, …)
    /// and the tensors inside, in execution order.
    public var fusions: [(output: String, opType: String, interior: [String])] {
        fusedChains.map { (names[$0.output], $0.opType, $0.interior.map { names[$0] }) }
    }

    /// The tensors computed once, when the network was compiled, from constants alone
    /// (`Constant` nodes, `Identity` of weights, arithmetic on them). A run that keeps or
    /// hooks one of them runs every node.
    public var foldedTensors: [String] { folded.map { names[$0.slot] } }

    /// Outputs of constant nodes larger than this (elements) are computed at every run
    /// instead of being kept for the network's lifetime; an `Identity` shares its input's
    /// storage and is always folded.
    static let foldedElements = 1 << 16

    /// Compiles `graph`.
    ///
    /// - Throws: ``NetworkError/unsupportedOperator(file:node:opType:problem:)`` for the
    ///   first node the runtime cannot run, and ``NetworkError/invalidModel(file:problem:)``
    ///   when the graph is not one ONNX's checker accepts: a node reads a tensor that nothing
    ///   defines before it (the nodes are not in topological order), a tensor is written
    ///   twice (the graph is not in single static assignment form), two graph inputs share a
    ///   name, or the default domain's operator set is not one from 1 to
    ///   ``newestOperatorSet``.
    public init(graph: Graph, file: String, tokenizer: Tokenizer? = nil) throws {
        self.graph = graph
        self.file = file
        self.tokenizer = tokenizer
        _ = AllocatorSettings.applied
        guard (1...Self.newestOperatorSet).contains(graph.opset) else {
            throw NetworkError.invalidModel(
                file: file, problem: "it imports operator set \(graph.opset) of the default domain; this runtime knows sets 1 to "
                    + "\(Self.newestOperatorSet) (those of ONNX 1.23), and a later set may change what an operator means")
        }
        var slotOfName: [String: Int] = [:]
        var names: [String] = []
        func slot(_ name: String) -> Int {
            if let s = slotOfName[name] { return s }
            slotOfName[name] = names.count
            names.append(name)
            return names.count - 1
        }
        var defined = Set<String>()
        var constants: [(Int, Tensor)] = []
        for name in graph.initializerOrder {
            guard let tensor = graph.initializers[name] else { continue }
            constants.append((slot(name), tensor))
            defined.insert(name)
        }
        var inputSlots: [Int] = []
        var inputNames = Set<String>()
        for input in graph.inputs {
            guard inputNames.insert(input.name).inserted else {
                throw NetworkError.invalidModel(file: file, problem: "two graph inputs are named '\(input.name)'")
            }
            // An input that is also an initializer is an input with a default value (IR < 4).
            inputSlots.append(slot(input.name))
            defined.insert(input.name)
        }
        var operators: [any Operator] = []
        var nodeInputs: [[Int]] = []
        var nodeOutputs: [[Int]] = []
        var producerOfSlot: [Int: Int] = [:]
        var folded: [Int: Tensor] = [:]
        var foldedNodes = Set<Int>()
        let opset = graph.opset
        for (index, node) in graph.nodes.enumerated() {
            var ins: [Int] = []
            var constantInputs: [Int: Tensor] = [:]
            for (position, name) in node.inputs.enumerated() {
                if name.isEmpty { ins.append(-1); continue }
                guard defined.contains(name) else {
                    throw NetworkError.invalidModel(
                        file: file,
                        problem: "node '\(node.displayName)' (\(node.opType)) reads '\(name)', which no earlier node, input or initializer defines")
                }
                if let constant = graph.initializers[name] { constantInputs[position] = constant }
                ins.append(slot(name))
            }
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw NetworkError.unsupportedOperator(
                    file: file, node: node.displayName, opType: node.opType,
                    problem: "operators of domain '\(node.domain)' are not supported")
            }
            guard let factory = OperatorRegistry.factories[node.opType] else {
                throw NetworkError.unsupportedOperator(
                    file: file, node: node.displayName, opType: node.opType,
                    problem: "operator not supported (\(OperatorRegistry.supported.count) operators are; `repprobe operators` lists them)")
            }
            let context = NodeContext(node: node, opset: opset, file: file, constants: constantInputs)
            operators.append(try factory(context))
            var outs: [Int] = []
            for name in node.outputs {
                if name.isEmpty { outs.append(-1); continue }
                guard !defined.contains(name) else {
                    let earlier = graph.initializers[name] != nil ? "an initializer" : inputNames.contains(name) ? "a graph input"
                        : graph.nodes[..<index].first { $0.outputs.contains(name) }.map { "node '\($0.displayName)' (\($0.opType))" }
                        ?? "the same node"
                    throw NetworkError.invalidModel(
                        file: file, problem: "node '\(node.displayName)' (\(node.opType)) writes '\(name)', which \(earlier) already "
                            + "defines: every tensor must have one writer (single static assignment)")
                }
                let s = slot(name)
                producerOfSlot[s] = index
                defined.insert(name)
                outs.append(s)
            }
            nodeInputs.append(ins)
            nodeOutputs.append(outs)
            // A node that reads constants alone (an input with an initializer's name is an
            // input) runs now; if it fails, it fails again at run time with its error. Every
            // operator the runtime has is a function of its inputs (none draws random numbers).
            var operands: [Tensor?]? = []
            for name in node.inputs {
                guard !name.isEmpty else { operands?.append(nil); continue }
                guard !inputNames.contains(name), let tensor = graph.initializers[name] ?? folded[slotOfName[name]!] else {
                    operands = nil
                    break
                }
                operands?.append(tensor)
            }
            if !outs.isEmpty, let operands, let results = try? operators[index].run(operands), results.count >= outs.count,
               node.opType == "Identity" || results.allSatisfy({ $0.count <= Self.foldedElements }) {
                for (slot, result) in zip(outs, results) where slot >= 0 { folded[slot] = result }
                foldedNodes.insert(index)
            }
        }
        var outputSlots: [Int] = []
        for name in graph.outputs {
            guard let s = slotOfName[name], defined.contains(name) else {
                throw NetworkError.invalidModel(file: file, problem: "graph output '\(name)' is never computed")
            }
            outputSlots.append(s)
        }
        var lastUse = Array(repeating: -1, count: names.count)
        for (index, ins) in nodeInputs.enumerated() { for s in ins where s >= 0 { lastUse[s] = index } }
        for s in outputSlots { lastUse[s] = Int.max }
        let producer = names.indices.map { producerOfSlot[$0] }
        let inputSet = Set(inputSlots)

        self.operators = operators
        self.slotOfName = slotOfName
        self.names = names
        self.nodeInputs = nodeInputs
        self.nodeOutputs = nodeOutputs
        self.constants = constants
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        self.lastUse = lastUse
        self.producer = producer
        self.transient = names.indices.map { producer[$0] != nil || inputSet.contains($0) }
        fusedChains = FusedChain.all(in: graph, slots: slotOfName, operators: operators)
        self.foldedNodes = foldedNodes
        self.folded = folded.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The newest operator set of the default domain that the runtime accepts: that of
    /// ONNX 1.23, whose conformance cases it is checked against.
    public static let newestOperatorSet = 28

    /// The ONNX operators (default domain) the runtime implements, sorted.
    public static var supportedOperators: [String] { OperatorRegistry.supported }

    /// Every tensor name a run can produce or hook: graph inputs, then node outputs in
    /// execution order (initializers excluded).
    public var tensorNames: [String] {
        graph.inputs.map(\.name) + graph.nodes.flatMap { $0.outputs.filter { !$0.isEmpty } }
    }

    /// The node that computes `name`, or `nil` for graph inputs and initializers.
    public func producingNode(of name: String) -> Node? {
        guard let s = slotOfName[name], let index = producer[s] else { return nil }
        return graph.nodes[index]
    }

    /// Whether `name` is a tensor that a run computes or receives.
    public func hasTensor(_ name: String) -> Bool {
        guard let s = slotOfName[name] else { return false }
        return transient[s]
    }

    /// Runs the network.
    ///
    /// - Parameters:
    ///   - inputs: a tensor for every graph input, by name.
    ///   - keeping: further tensors to return besides the graph outputs.
    ///   - intercepting: tensors to pass to `intercept` as soon as they are computed.
    ///   - intercept: sees each intercepted tensor (by name) and may return a replacement,
    ///     which later nodes then read; return `nil` to leave it unchanged.
    /// - Returns: the graph outputs and the kept tensors, by name.
    public func run(
        _ inputs: [String: Tensor],
        keeping: Set<String> = [],
        intercepting: Set<String> = [],
        intercept: ((String, Tensor) throws -> Tensor?)? = nil
    ) throws -> [String: Tensor] {
        var keepSlots = Set<Int>()
        for name in keeping.union(intercepting) {
            guard let s = slotOfName[name], hasTensor(name) else {
                throw NetworkError.unknownTensor(file: file, name: name, available: tensorNames)
            }
            if keeping.contains(name) { keepSlots.insert(s) }
        }
        let interceptSlots = Set(intercepting.compactMap { slotOfName[$0] })
        var chainAt: [Int: FusedChain] = [:]
        var skipped = Set<Int>()
        for chain in fusedChains where chain.interior.allSatisfy({ !keepSlots.contains($0) && !interceptSlots.contains($0) }) {
            chainAt[chain.nodes[0]] = chain
            skipped.formUnion(chain.nodes.dropFirst())
        }
        // Asking for a folded tensor runs every node, so that a hook sees (and may replace)
        // what it asks for before the nodes that read it run.
        let folding = folded.allSatisfy { !keepSlots.contains($0.slot) && !interceptSlots.contains($0.slot) }
        var values = [Tensor?](repeating: nil, count: names.count)
        for (slot, tensor) in constants { values[slot] = tensor }
        if folding { for (slot, tensor) in folded { values[slot] = tensor } }
        for name in inputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
            throw NetworkError.invalidInput(
                file: file, problem: "the model has no input named '\(name)'; its inputs are \(graph.inputs.map(\.name).joined(separator: ", "))")
        }
        for (input, slot) in zip(graph.inputs, inputSlots) {
            guard var tensor = inputs[input.name] else {
                throw NetworkError.invalidInput(file: file, problem: "input '\(input.name)' is missing")
            }
            try check(tensor, against: input)
            if interceptSlots.contains(slot), let intercept, let replacement = try intercept(input.name, tensor) {
                tensor = replacement
            }
            values[slot] = tensor
        }
        /// Frees the inputs and graph inputs that no node after `index` reads.
        func release(after index: Int) {
            for slot in nodeInputs[index] where slot >= 0 && lastUse[slot] == index && !keepSlots.contains(slot) {
                if transient[slot] { values[slot] = nil }
            }
        }
        for (index, op) in operators.enumerated() {
            // A skipped node of a fused chain, or a folded one, computes nothing, but still lets go of what it read last.
            if skipped.contains(index) || (folding && foldedNodes.contains(index)) {
                release(after: index)
                continue
            }
            let chain = chainAt[index]
            let node = graph.nodes[chain?.nodes.last ?? index]
            let arguments = chain.map { $0.inputs.map { values[$0] } } ?? nodeInputs[index].map { $0 >= 0 ? values[$0] : nil }
            var results: [Tensor]
            do {
                results = try (chain?.kernel ?? op).run(arguments)
            } catch let error as KernelError {
                let opType = chain.map { "\(node.opType) (fused \($0.opType))" } ?? node.opType
                throw NetworkError.nodeFailed(file: file, node: node.displayName, opType: opType, problem: error.problem)
            }
            let outs = chain.map { [$0.output] } ?? nodeOutputs[index]
            guard results.count >= outs.filter({ $0 >= 0 }).count else {
                throw NetworkError.nodeFailed(
                    file: file, node: node.displayName, opType: node.opType,
                    problem: "produced \(results.count) outputs, the graph expects \(outs.count)")
            }
            for (position, slot) in outs.enumerated() where slot >= 0 && position < results.count {
                if interceptSlots.contains(slot), let intercept,
                   let replacement = try intercept(names[slot], results[position]) {
                    results[position] = replacement
                }
                values[slot] = results[position]
            }
            release(after: index)
            for slot in outs where slot >= 0 && lastUse[slot] < 0 && !keepSlots.contains(slot) {
                values[slot] = nil
            }
        }
        var result: [String: Tensor] = [:]
        for slot in outputSlots + keepSlots.sorted() {
            if let tensor = values[slot] { result[names[slot]] = tensor }
        }
        return result
    }

    /// Zeros of `shape` for the graph input `input` (of its declared type, float32 if it
    /// declares none), refused with an error naming the model when the shape is invalid or
    /// the tensor would take more than ``ResourceLimit/tensor``.
    public func zeros(for input: Graph.Input, shape: [Int]) throws -> Tensor {
        let type = input.dataType ?? .float32
        do {
            let count = try Tensor.checkedCount(shape, elementBytes: type.elementBytes, what: "input '\(input.name)'")
            return Tensor(shape: shape, storage: .zeros(type, count: count))
        } catch let error as KernelError {
            throw NetworkError.invalidInput(file: file, problem: error.problem)
        }
    }

    private func check(_ tensor: Tensor, against input: Graph.Input) throws {
        if let type = input.dataType, type != tensor.dataType {
            throw NetworkError.invalidInput(
                file: file, problem: "input '\(input.name)' must be \(type), not \(tensor.dataType)")
        }
        if let shape = input.shape {
            let fits = shape.count == tensor.rank && zip(shape, tensor.shape).allSatisfy { $0 == nil || $0 == $1 }
            guard fits else {
                let expected = shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ")
                throw NetworkError.invalidInput(
                    file: file, problem: "input '\(input.name)' must have shape [\(expected)], not \(tensor.shape)")
            }
        }
    }
}

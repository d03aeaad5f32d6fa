import Analysis
import Networks

/// A network's architecture with fresh random weights: the baseline that says how much CKA
/// two layers share through architecture and inputs alone, before any training.
public enum RandomInitialization {
    /// A copy of `graph` whose learned weights are drawn as PyTorch initialises its layers.
    ///
    /// - The weight and bias of every Conv, ConvTranspose and Gemm, and the weight operand of
    ///   every MatMul, are uniform on `±1/√fan_in` (PyTorch's default `kaiming_uniform_` with
    ///   `a = √5`, and its bias rule).
    /// - BatchNormalization gets scale 1, shift 0, running mean 0 and variance 1;
    ///   LayerNormalization and InstanceNormalization scale 1 and shift 0.
    ///
    /// Only float32 initializers are replaced; everything else (shapes, constants, integer
    /// tensors) is kept. Returns the new graph and how many initializers were drawn; none
    /// means the graph has no weights this recognises (the weights may be computed inside
    /// the graph, or folded into constants).
    public static func reinitialized(_ graph: Graph, seed: UInt64) -> (graph: Graph, replaced: Int) {
        var generator = SeededGenerator(seed: seed)
        var initializers = graph.initializers
        var replaced = 0
        var done = Set<String>()

        func set(_ name: String, _ make: (Tensor) -> [Float]) {
            guard !done.contains(name), let old = initializers[name], old.dataType == .float32 else { return }
            initializers[name] = Tensor(shape: old.shape, elements: make(old))
            done.insert(name)
            replaced += 1
        }
        func uniform(_ bound: Float) -> (Tensor) -> [Float] {
            { tensor in (0..<Tensor.count(tensor.shape)).map { _ in Float(2 * generator.nextUnit() - 1) * bound } }
        }
        func constant(_ value: Float) -> (Tensor) -> [Float] {
            { tensor in [Float](repeating: value, count: Tensor.count(tensor.shape)) }
        }
        func bound(_ fanIn: Int) -> Float { fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0 }
        func input(_ node: Node, _ index: Int) -> String? {
            index < node.inputs.count && !node.inputs[index].isEmpty ? node.inputs[index] : nil
        }

        for node in graph.nodes {
            switch node.opType {
            case "Conv", "ConvTranspose":
                guard let weight = input(node, 1), let w = initializers[weight], w.rank >= 3 else { continue }
                let fanIn = w.shape.dropFirst().reduce(1, *)
                set(weight, uniform(bound(fanIn)))
                if let bias = input(node, 2) { set(bias, uniform(bound(fanIn))) }
            case "Gemm":
                guard let weight = input(node, 1), let w = initializers[weight], w.rank == 2 else { continue }
                let transposed: Bool
                if case let .int(value)? = node.attributes["transB"] { transposed = value != 0 } else { transposed = false }
                let fanIn = transposed ? w.shape[1] : w.shape[0]
                set(weight, uniform(bound(fanIn)))
                if let bias = input(node, 2) { set(bias, uniform(bound(fanIn))) }
            case "MatMul":
                guard let weight = input(node, 1), let w = initializers[weight], w.rank == 2 else { continue }
                set(weight, uniform(bound(w.shape[0])))
            case "BatchNormalization":
                for (index, value) in [(1, Float(1)), (2, 0), (3, 0), (4, 1)] {
                    if let name = input(node, index) { set(name, constant(value)) }
                }
            case "LayerNormalization", "InstanceNormalization":
                if let scale = input(node, 1) { set(scale, constant(1)) }
                if let shift = input(node, 2) { set(shift, constant(0)) }
            default:
                continue
            }
        }
        var copy = graph
        copy.initializers = initializers
        return (copy, replaced)
    }
}

import Activations
import Analysis
import Networks
import Probe

/// The capture step every analysis of a comparison starts from: one model's layers on one
/// probe set, reduced, as *samples × features* matrices.
struct ModelCapture {
    var layers: [ActivationSet.Layer]
    var layerNames: [String] { layers.map(\.name) }
    /// Tensor name of each layer name.
    var tensorNames: [String: String]

    /// Captures `layers` of `model` on `probeSet` with its reduction and batch size. The
    /// model's default layers are thinned to one name per tensor (a container whose output
    /// is its last child's keeps the container's name) unless `exactNames`.
    init(_ model: ComparedModel, probeSet: ProbeSet, layers: LayerFilter, label: String, exactNames: Bool = false,
         memoryLimit: Int = ActivationCollector.defaultMemoryLimit, progress: ((String) -> Void)?) throws {
        self = try Self.captures(model, probeSet: probeSet, layers: layers, reductions: [probeSet.reduction], label: label,
                                 exactNames: exactNames, memoryLimit: memoryLimit, progress: progress)[0]
    }

    /// The layers `layers` names in `model`, with their tensors, in execution order; the
    /// model's default layers thinned to one name per tensor (a container whose output is its
    /// last child's keeps the container's name) unless `exactNames`.
    static func resolve(_ layers: LayerFilter, in model: ComparedModel, exactNames: Bool = false) throws -> [(name: String, tensor: String)] {
        let resolved = try layers.resolve(in: HookedNetwork(model.network).catalog)
        guard case .all = layers, !exactNames else { return resolved.map { ($0.name, $0.tensor) } }
        var lastNameOfTensor: [String: String] = [:]
        for layer in resolved { lastNameOfTensor[layer.tensor] = layer.name }
        var seen = Set<String>()
        // Keep execution order: a container's output appears where its last child's does.
        return resolved.compactMap { layer in
            guard let name = lastNameOfTensor[layer.tensor], seen.insert(layer.tensor).inserted else { return nil }
            return (name, layer.tensor)
        }
    }

    /// The same layers reduced each of `reductions` ways, from one run of the model over
    /// `probeSet`: one capture per reduction.
    static func captures(_ model: ComparedModel, probeSet: ProbeSet, layers: LayerFilter, reductions: [Reduction], label: String,
                         exactNames: Bool = false, memoryLimit: Int = ActivationCollector.defaultMemoryLimit,
                         progress: ((String) -> Void)?) throws -> [ModelCapture] {
        let hooked = HookedNetwork(model.network)
        let resolved = try resolve(layers, in: model, exactNames: exactNames)
        progress?("running \(label) (\(model.name)) on \(probeSet.count) samples, \(resolved.count) layers"
            + (reductions.count > 1 ? ", reduced \(reductions.map(\.description).joined(separator: " and "))" : ""))
        let names = resolved.map(\.name)
        let collector = ActivationCollector(memoryLimit: memoryLimit)
        try Capture.run(
            reductions.map { Capture.Part(model: hooked, layers: .names(names), reduction: $0) },
            inputs: try probeSet.sources(for: model.network),
            settings: .init(reduction: probeSet.reduction, batchSize: probeSet.batchSize), into: collector)
        let tensorNames = Dictionary(resolved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        return try reductions.indices.map { k in
            var capture = ModelCapture(layers: try collector.activationSet(source: model.name,
                                                                          layers: (k * names.count)..<((k + 1) * names.count)).layers)
            capture.tensorNames = tensorNames
            return capture
        }
    }

    /// Takes out the layers that are identical on every input (``CKAMatrix/isConstant(_:)``)
    /// and returns their names: they carry nothing about the probe set, their similarity with
    /// anything is undefined, and every analysis of a comparison would stop at them.
    mutating func removeConstantLayers() -> [String] {
        let constant = layers.filter { CKAMatrix.isConstant($0.matrix) }.map(\.name)
        if !constant.isEmpty { layers.removeAll { constant.contains($0.name) } }
        return constant
    }

    init(layers: [ActivationSet.Layer]) {
        self.layers = layers
        tensorNames = [:]
    }
}

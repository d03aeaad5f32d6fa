import Activations
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
         progress: ((String) -> Void)?) throws {
        let hooked = HookedNetwork(model.network)
        var resolved = try layers.resolve(in: hooked.catalog)
        if case .all = layers, !exactNames {
            var lastNameOfTensor: [String: String] = [:]
            for layer in resolved { lastNameOfTensor[layer.tensor] = layer.name }
            var seen = Set<String>()
            resolved = resolved.compactMap { layer in
                guard let name = lastNameOfTensor[layer.tensor], seen.insert(layer.tensor).inserted else { return nil }
                return (name, layer.tensor)
            }
            // Keep execution order: a container's output appears where its last child's does.
        }
        progress?("running \(label) (\(model.name)) on \(probeSet.count) samples, \(resolved.count) layers")
        let collector = ActivationCollector()
        try Capture.run(
            hooked, inputs: try probeSet.sources(for: model.network),
            settings: .init(layers: .names(resolved.map(\.name)), reduction: probeSet.reduction, batchSize: probeSet.batchSize),
            into: collector)
        self.layers = try collector.activationSet(source: model.name).layers
        tensorNames = Dictionary(resolved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    init(layers: [ActivationSet.Layer]) {
        self.layers = layers
        tensorNames = [:]
    }
}

import Activations
import Analysis
import Foundation
import Networks
import Probe

/// The layer × layer CKA of a comparison, without the other analyses.
public struct LayerSimilarity: Sendable {
    /// Rows: the layers of A; columns: the layers of B.
    public var layersA: [String]
    public var layersB: [String]
    public var values: [[Double]]
    public var samples: Int
    /// The reduction the activations went through.
    public var reduction: Reduction
}

extension ComparisonPlan {
    /// Captures A and B (every layer ``layersA`` and ``layersB`` name, streamed batch by
    /// batch) and computes only their CKA matrix with ``cka``; A against ``Subject/same`` is
    /// the symmetric matrix of A's layers.
    ///
    /// - Parameters:
    ///   - progress: hears each step.
    ///   - batches: a callback for each model's batches (`done`, `total`), by label `A`/`B`.
    public func similarity(progress: ((String) -> Void)? = nil,
                           batches: ((String) -> ((Int, Int) -> Void)?)? = nil) throws -> LayerSimilarity {
        let setA = try capture(modelA, layers: layersA, label: "A", progress: batches?("model A"))
        let setB: ActivationSet?
        switch modelB {
        case .same:
            setB = nil
        case let .network(b):
            setB = try capture(b, layers: layersB, label: "B", progress: batches?("model B"))
        case .v1:
            setB = try ActivationSet(layers: try receptiveFieldAnalysis(layers: layersA, progress: progress).v1Layers(probeSet()),
                                     source: Self.v1Name)
        }
        progress?("CKA between \(setA.layers.count) + \(setB?.layers.count ?? 0) layers")
        let layers = setA.layers.map(\.matrix), names = setA.layers.map(\.name)
        // A layer identical on every input has no similarity: its entries are left empty.
        let matrix = try setB.map {
            try CKAMatrix.computeUndefinedForConstant(layers, $0.layers.map(\.matrix), namesA: names, namesB: $0.layers.map(\.name),
                                                      options: cka)
        } ?? CKAMatrix.computeUndefinedForConstant(layers, names: names, options: cka)
        return LayerSimilarity(layersA: names, layersB: (setB ?? setA).layers.map(\.name),
                               values: (0..<matrix.rows).map { matrix.row($0) }, samples: setA.sampleCount, reduction: reduction)
    }

    /// Every layer `layers` names, as a capture streams them (no thinning of containers).
    func capture(_ model: ComparedModel, layers: LayerFilter, label: String, progress: ((Int, Int) -> Void)?) throws -> ActivationSet {
        let sources: [String: any InputSource]
        switch inputs {
        case let .probeSet(set):
            sources = try set.sources(for: model.network)
        case let .arrays(files):
            sources = try NPYInputs.sources(files, for: model.network)
        }
        let collector = ActivationCollector()
        try Capture.run(HookedNetwork(model.network), inputs: sources,
                        settings: Capture.Settings(layers: layers, reduction: reduction, batchSize: batchSize),
                        into: collector, progress: progress)
        return try collector.activationSet(source: model.network.file)
    }
}

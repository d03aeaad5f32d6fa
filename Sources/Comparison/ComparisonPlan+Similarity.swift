import Activations
import Analysis
import Formats
import Foundation
import Networks
import Probe
import Results

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

extension LayerSimilarity {
    /// The table of minibatch CKA statistics whose layers are named `A.name` and `B.name`:
    /// A's layers against B's, or against A's own when there are no B layers.
    ///
    /// - Throws: ``AnalysisError`` when no batch was added.
    public init(minibatch statistics: MinibatchCKA, reduction: Reduction) throws {
        let names = statistics.layerNames
        let matrix = try statistics.cka()
        let rows = names.indices.filter { names[$0].hasPrefix("A.") }
        let others = names.indices.filter { names[$0].hasPrefix("B.") }
        let columns = others.isEmpty ? rows : others
        self.init(layersA: rows.map { String(names[$0].dropFirst(2)) }, layersB: columns.map { String(names[$0].dropFirst(2)) },
                  values: rows.map { i in columns.map { matrix[i, $0] } }, samples: statistics.samples, reduction: reduction)
    }
}

extension ComparisonPlan {
    /// Captures A and B (every layer ``layersA`` and ``layersB`` name, streamed batch by
    /// batch) and computes only their CKA matrix with ``cka``; A against ``Subject/same`` is
    /// the symmetric matrix of A's layers.
    ///
    /// - Parameters:
    ///   - progress: hears each step.
    ///   - batches: a callback for each model's batches (`done`, `total`), by label `A`/`B`.
    ///
    /// When the activations would need more than ``memoryBudget`` and the CKA is linear, the
    /// matrix is streamed instead, and `notice` hears why: with the biased estimator exactly
    /// (``StreamingCKA``, the same numbers with memory set by the layers' widths, not by the
    /// number of inputs); with the unbiased one as minibatch CKA (``MinibatchCKA``, Nguyen et
    /// al. 2021: each batch's unbiased HSIC averaged over batches, in memory independent of
    /// widths and inputs), which estimates the population CKA and is not the unbiased CKA of
    /// all the inputs at once.
    public func similarity(notice: ((String) -> Void)? = nil, progress: ((String) -> Void)? = nil,
                           batches: ((String) -> ((Int, Int) -> Void)?)? = nil) throws -> LayerSimilarity {
        do {
            return try similarityInMemory(progress: progress, batches: batches)
        } catch let ProbeError.captureTooLarge(_, samples, _, needed, available) where canStream || canStreamMinibatches {
            let why = Self.overBudget(samples: samples, needed: needed, available: available)
            if canStream {
                notice?("\(why): streaming linear CKA instead")
                return try streamedSimilarity(progress: progress, batches: batches)
            }
            notice?("\(why): streaming minibatch CKA instead (Nguyen et al. 2021: the unbiased HSIC of each batch of \(batchSize), "
                    + "averaged over batches; an estimate of the population CKA, not the unbiased CKA of all \(samples) inputs at once)")
            return try minibatchSimilarity(notice: notice, batches: batches)
        }
    }

    /// Why a capture was refused, for the notice that streaming takes over.
    static func overBudget(samples: Int, needed: Int?, available: Int) -> String {
        "the activations of \(samples) inputs would need at least \(needed.map(ProbeError.readable(bytes:)) ?? "more memory than any machine has"), "
            + "more than the \(ProbeError.readable(bytes: available)) budget"
    }

    /// Whether the matrix can be streamed as minibatch CKA: linear with the unbiased
    /// estimator, against a network (or A itself).
    var canStreamMinibatches: Bool {
        guard case .linear = cka.kernel, cka.estimator == .unbiased else { return false }
        if case .v1 = modelB { return false }
        return true
    }

    /// The parts a streamed run captures together, batch by batch: A's layers as `A.name`,
    /// then B's as `B.name` (B reading the inputs through its own tokenizer), unless A is
    /// compared with itself.
    func streamedParts() throws -> [Capture.Part] {
        var parts = [Capture.Part(label: "A", model: HookedNetwork(modelA.network), layers: layersA)]
        if case let .network(b) = modelB {
            parts.append(Capture.Part(label: "B", model: HookedNetwork(b.network), layers: layersB, inputs: try sources(for: b)))
        }
        return parts
    }

    /// The matrix as minibatch CKA from one streamed run of A and B over the inputs.
    func minibatchSimilarity(notice: ((String) -> Void)?, batches: ((String) -> ((Int, Int) -> Void)?)?) throws -> LayerSimilarity {
        let parts = try streamedParts()
        let sink = MinibatchCKASink()
        try Capture.run(parts, inputs: try sources(for: modelA), settings: Capture.Settings(reduction: reduction, batchSize: batchSize),
                        into: sink, progress: batches?(parts.count == 1 ? "model A" : "models A and B"))
        if sink.skippedSamples > 0 {
            notice?("minibatch CKA leaves out the last batch of \(sink.skippedSamples) input\(sink.skippedSamples == 1 ? "" : "s"): "
                    + "an unbiased HSIC needs at least 4")
        }
        return try LayerSimilarity(minibatch: sink.accumulator, reduction: reduction)
    }

    /// Whether the matrix can be streamed: linear CKA with the biased estimator, against a
    /// network (or A itself).
    var canStream: Bool {
        guard case .linear = cka.kernel, cka.estimator == .biased else { return false }
        if case .v1 = modelB { return false }
        return true
    }

    /// The matrix from one streamed run of A and B over the inputs, batch by batch.
    func streamedSimilarity(progress: ((String) -> Void)?, batches: ((String) -> ((Int, Int) -> Void)?)?) throws -> LayerSimilarity {
        let accumulator = try similarityAccumulator(batches: batches, recordingFiles: false)
        progress?("CKA between \(accumulator.statistics.layerNames.count) layers, streamed")
        return try accumulator.similarity()
    }

    /// The statistics of the linear CKA table (biased estimator) over the plan's inputs, or
    /// over ``shard`` of them, streamed from one run of A and B: what shards write and
    /// ``SimilarityAccumulator/merging(_:)`` joins.
    ///
    /// - Parameters:
    ///   - batches: a callback for the batches (`done`, `total`), by what is run.
    ///   - recordingFiles: whether the provenance lists the model and input files with their
    ///     SHA-256 (which reads every input once more): what shards are checked by.
    ///   - allPairs: whether to keep the statistics of every pair of layers (for the tables
    ///     within A and within B of a report), not only of the pairs across, when they fit:
    ///     in a third of ``memoryBudget`` for ``shard`` (room to join them later), else in
    ///     all of it; `notice` hears when they do not.
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for another CKA than linear with
    ///   the biased estimator, the V1 model as B, or a shard without samples;
    ///   ``ProbeError/streamTooWide(layers:features:widest:needed:available:)`` when the
    ///   statistics would exceed ``memoryBudget``.
    public func similarityAccumulator(batches: ((String) -> ((Int, Int) -> Void)?)? = nil, recordingFiles: Bool = true, allPairs: Bool = false,
                                      notice: ((String) -> Void)? = nil) throws -> SimilarityAccumulator {
        guard canStream else {
            throw ProbeError.invalidInput(file: modelA.network.file, problem: "streamed and sharded tables are linear CKA with the biased estimator against a network or A itself")
        }
        let parts = try streamedParts()
        let all = try allSources(for: modelA)
        let total = all.values.first?.count ?? 0
        let sources = try sharded(all)
        // A's layers against B's: each layer's own co-moments and the cross block, or all of
        // them.
        let sink = StreamingCKASink(memoryLimit: memoryBudget, rowLayers: parts.count == 1 ? nil : { $0.hasPrefix("A.") },
                                    allPairsLimit: allPairs ? (shard == nil ? memoryBudget : memoryBudget / 3) : nil, notice: notice)
        try Capture.run(parts, inputs: sources, settings: Capture.Settings(reduction: reduction, batchSize: batchSize),
                        into: sink, progress: batches?(parts.count == 1 ? "model A" : "models A and B"))
        guard let statistics = sink.accumulator else {
            throw ProbeError.invalidInput(file: modelA.network.file, problem: "there are no inputs to compare on")
        }
        let provenance = SimilarityAccumulator.Provenance(reduction: reduction, inputs: total, batchSize: batchSize, shardCount: shard?.count ?? 1,
                                                          files: recordingFiles ? try inputFiles() : [], repprobeVersion: toolVersion,
                                                          probeSet: inputsName)
        return try SimilarityAccumulator(statistics: statistics, provenance: provenance, shards: [shard?.index ?? 1])
    }

    /// The probe set's name, or the input arrays' (`x`, or `ids=ids, mask=mask`).
    var inputsName: String {
        switch inputs {
        case let .probeSet(set): return set.name
        case let .arrays(arrays):
            let stems = arrays.sorted { $0.key < $1.key }.map { ($0.key, $0.value.deletingPathExtension().lastPathComponent) }
            return stems.map { $0.0.isEmpty ? $0.1 : "\($0.0)=\($0.1)" }.joined(separator: ", ")
        }
    }

    /// The model and input files with their SHA-256, for provenance.
    func inputFiles() throws -> [ComparisonResults.Provenance.File] {
        typealias File = ComparisonResults.Provenance.File
        var files = try File.records(of: modelA, role: "model_a") + (modelB.network.map { try File.records(of: $0, role: "model_b") } ?? [])
        switch inputs {
        case let .probeSet(set):
            files += try File.records(of: set)
        case let .arrays(arrays):
            for (name, url) in arrays.sorted(by: { $0.key < $1.key }) {
                files.append(File(role: name.isEmpty ? "input" : "input_\(name)", name: url.lastPathComponent, format: "npy",
                                  sha256: try SHA256.hexDigest(ofFile: url)))
            }
        }
        return files
    }

    /// The layers captured whole, then the matrix.
    func similarityInMemory(progress: ((String) -> Void)?, batches: ((String) -> ((Int, Int) -> Void)?)?) throws -> LayerSimilarity {
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
        let collector = ActivationCollector(memoryLimit: memoryBudget)
        try Capture.run(HookedNetwork(model.network), inputs: try sources(for: model),
                        settings: Capture.Settings(layers: layers, reduction: reduction, batchSize: batchSize),
                        into: collector, progress: progress)
        return try collector.activationSet(source: model.network.file)
    }

    /// The plan's inputs as `model` takes them: ``shard`` of them when there is one.
    func sources(for model: ComparedModel) throws -> [String: any InputSource] {
        try sharded(try allSources(for: model))
    }

    /// ``shard`` of `all`, or all of them.
    func sharded(_ all: [String: any InputSource]) throws -> [String: any InputSource] {
        guard let shard else { return all }
        return try shard.slice(all, batchSize: batchSize).sources
    }

    /// Every input, whatever the shard.
    func allSources(for model: ComparedModel) throws -> [String: any InputSource] {
        switch inputs {
        case let .probeSet(set): return try set.sources(for: model.network)
        case let .arrays(files): return try NPYInputs.sources(files, for: model.network)
        }
    }
}

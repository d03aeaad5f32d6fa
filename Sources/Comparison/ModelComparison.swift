import Activations
import Analysis
import Foundation
import Formats
import LinearAlgebra
import Networks
import Probe
import Report

/// `repprobe compare`: runs two networks on one probe set, captures their layers, and
/// measures how the layers correspond (CKA with bootstrap intervals and a random-weights
/// baseline), where labels become linearly decodable, how many dimensions each layer uses,
/// which samples the conclusions lean on, and what the first layers' filters look like.
public struct ModelComparison {
    /// A model to compare, with the files it came from (for provenance).
    public struct Model {
        public var name: String
        public var loaded: ModelLoader.Loaded
        /// The model file, and the graph file when the weights came from a state dict.
        public var files: [URL]

        public init(name: String, loaded: ModelLoader.Loaded, files: [URL]) {
            self.name = name
            self.loaded = loaded
            self.files = files
        }
    }

    public struct Settings: Sendable {
        public var cka = CKAOptions()
        public var bootstrapResamples = 1000
        public var confidence = 0.95
        public var probeFolds = 5
        public var ridgeAlphas: [Double] = [0.01, 0.1, 1, 10, 100, 1000]
        public var randomBaseline = true
        public var influentialSamples = 10
        /// The layer of A whose 2-D projection is drawn (with its best match in B); by
        /// default A's last layer before the graph output.
        public var projectionLayer: String?
        /// Layers of B, when they differ from the probe set's.
        public var layersB: LayerFilter?
        /// Overrides the probe set's layers for both models.
        public var layers: LayerFilter?
        public var seed: UInt64 = 0
        public var toolVersion = "unknown"
        /// Gratings at the models' input size: when set, each model also gets a receptive-field
        /// analysis (Gabor fits, grating tuning, CKA with the V1 model on the probe set).
        public var gratings: ProbeSet?
        /// The V1 model of the receptive-field analysis and of a comparison against V1.
        public var v1 = V1Model.Settings()

        public init() {}
    }

    public var settings: Settings
    /// Called with a short description of each step, for progress on a terminal.
    public var progress: ((String) -> Void)?

    public init(settings: Settings = Settings(), progress: ((String) -> Void)? = nil) {
        self.settings = settings
        self.progress = progress
    }

    /// What model B is: a network, or the V1 model (``V1Model``) as a representation of two
    /// layers, its simple and its complex cells.
    public enum Side {
        case network(Model)
        case v1

        var network: Model? {
            if case let .network(model) = self { return model }
            return nil
        }
    }

    /// The name model B has when it is the V1 model.
    public static let v1Name = "V1 model"

    /// Runs the comparison.
    public func run(_ a: Model, _ b: Model, probeSet: ProbeSet) throws -> ComparisonResults {
        try run(a, against: .network(b), probeSet: probeSet)
    }

    /// Runs the comparison of `a` with a network or with the V1 model.
    public func run(_ a: Model, against side: Side, probeSet: ProbeSet) throws -> ComparisonResults {
        let clock = ContinuousClock.now
        let capturedA = try capture(a, probeSet: probeSet, layers: settings.layers ?? probeSet.layers, label: "A")
        var receptiveFields = ReceptiveFieldAnalysis.Settings()
        receptiveFields.v1 = settings.v1
        receptiveFields.cka = settings.cka
        receptiveFields.layers = settings.layers ?? probeSet.layers
        receptiveFields.toolVersion = settings.toolVersion
        let rf = ReceptiveFieldAnalysis(settings: receptiveFields, progress: progress)
        var v1Layers: [ActivationSet.Layer]?
        if side.network == nil || settings.gratings != nil { v1Layers = try rf.v1Layers(probeSet) }
        let capturedB: Captured
        if let b = side.network {
            capturedB = try capture(b, probeSet: probeSet, layers: settings.layersB ?? settings.layers ?? probeSet.layers, label: "B")
        } else {
            capturedB = Captured(layers: v1Layers ?? [], tensorNames: [:])
        }
        let matricesA = capturedA.layers.map(\.matrix), matricesB = capturedB.layers.map(\.matrix)
        let namesA = capturedA.layerNames, namesB = capturedB.layerNames

        progress?("CKA between \(namesA.count) + \(namesB.count) layers")
        let all = try CKAMatrix.compute(matricesA + matricesB, options: settings.cka)
        func block(_ rows: Range<Int>, _ columns: Range<Int>) -> [[Double]] {
            rows.map { i in columns.map { j in all[i, j] } }
        }
        let la = namesA.count, lb = namesB.count
        let ab = block(0..<la, la..<(la + lb)), aa = block(0..<la, 0..<la), bb = block(la..<(la + lb), la..<(la + lb))
        let deviation = (0..<(la + lb)).map { abs(all[$0, $0] - 1) }.max() ?? 0

        var correspondences = try bestMatches(ab, namesA, namesB, matricesA, matricesB)

        var randomMatrix: ComparisonResults.LayerMatrix?
        var randomNote: String?
        if settings.randomBaseline, side.network == nil {
            randomNote = "B is the V1 model, which has no weights to re-draw"
        } else if settings.randomBaseline, let b = side.network {
            progress?("random-weights baseline")
            let (graph, replaced) = RandomInitialization.reinitialized(b.loaded.graph, seed: settings.seed &+ 1)
            if replaced == 0 {
                randomNote = "no weights of B's graph could be re-drawn"
            } else {
                var random = b
                random.loaded.network = try Network(graph: graph, file: b.loaded.network.file)
                let names = capturedB.layerNames
                let capturedRandom = try capture(random, probeSet: probeSet, layers: .names(names), label: "random B", exactNames: true)
                let cross = try CKAMatrix.compute(matricesA, capturedRandom.layers.map(\.matrix), options: settings.cka)
                let values = (0..<la).map { i in (0..<cross.columns).map { cross[i, $0] } }
                randomMatrix = .init(layersA: namesA, layersB: names, values: values)
                for (i, row) in values.enumerated() {
                    correspondences[i].randomBaseline = row.filter(\.isFinite).max()
                }
            }
        }

        let summariesA = try summaries(matricesA, namesA, labels: probeSet.labels, model: "A")
        let summariesB = try summaries(matricesB, namesB, labels: probeSet.labels, model: "B")

        let projectionIndex = try projectionLayerIndex(namesA, graph: a.loaded.graph, tensors: capturedA.tensorNames)
        var projections = [try project(matricesA[projectionIndex], model: "A", layer: namesA[projectionIndex])]
        if let match = correspondences.first(where: { $0.layer == namesA[projectionIndex] }),
           let j = namesB.firstIndex(of: match.bestMatch) {
            projections.append(try project(matricesB[j], model: "B", layer: namesB[j]))
        }

        progress?("leave-one-out influence")
        let influential = try influentialSamples(correspondences, namesA, namesB, matricesA, matricesB, labels: probeSet.labels)

        typealias Provenance = ComparisonResults.Provenance
        let files = try Provenance.files(of: a, role: "model_a") + (side.network.map { try Provenance.files(of: $0, role: "model_b") } ?? [])
            + Provenance.files(of: probeSet)
        let chance = probeSet.labels.map(LinearProbe.chance)
        let classNames = probeSet.labels.map { labels in
            (0...(labels.max() ?? 0)).map { probeSet.classNames[$0] ?? String($0) }
        }
        var receptiveFieldsA: ReceptiveFieldResults?, receptiveFieldsB: ReceptiveFieldResults?
        if let gratings = settings.gratings, let v1Layers {
            receptiveFieldsA = try rf.run(a, captured: capturedA.layers, v1: v1Layers, gratings: gratings, inputs: probeSet)
            if let b = side.network {
                var settingsB = receptiveFields
                settingsB.layers = settings.layersB ?? settings.layers ?? probeSet.layers
                receptiveFieldsB = try ReceptiveFieldAnalysis(settings: settingsB, progress: progress).run(b, captured: capturedB.layers, v1: v1Layers, gratings: gratings, inputs: probeSet)
            }
        }
        return ComparisonResults(
            modelA: a.name, modelB: side.network?.name ?? Self.v1Name, v1Model: side.network == nil ? settings.v1 : nil,
            cka: .init(layersA: namesA, layersB: namesB, values: ab),
            ckaAA: .init(layersA: namesA, layersB: namesA, values: aa),
            ckaBB: .init(layersA: namesB, layersB: namesB, values: bb),
            ckaRandomB: randomMatrix, correspondences: correspondences,
            layersA: summariesA, layersB: summariesB, chance: chance, classNames: classNames,
            projections: projections, projectionLabels: probeSet.labels,
            filtersA: Self.firstLayerFilters(a.loaded.graph, catalog: LayerCatalog(a.loaded.network)),
            filtersB: side.network.flatMap { Self.firstLayerFilters($0.loaded.graph, catalog: LayerCatalog($0.loaded.network)) },
            influentialSamples: influential,
            receptiveFieldsA: receptiveFieldsA, receptiveFieldsB: receptiveFieldsB,
            checks: .init(selfSimilarityMaxDeviation: deviation,
                          randomBaselineMean: randomMatrix.map { _ in
                              let values = correspondences.compactMap(\.randomBaseline)
                              return values.reduce(0, +) / Double(max(values.count, 1))
                          },
                          randomBaselineNote: randomNote),
            provenance: .init(
                files: files, probeSet: probeSet.name, samples: probeSet.inputs.shape.first ?? 0,
                reduction: probeSet.reduction.description, estimator: settings.cka.estimator.rawValue,
                kernel: settings.cka.kernel.description,
                dtype: settings.cka.precision == .float32 ? "float32 activations, float32 CKA products" : "float32 activations, float64 analysis",
                seed: settings.seed, bootstrapResamples: settings.bootstrapResamples, confidence: settings.confidence,
                repprobeVersion: settings.toolVersion,
                seconds: Provenance.seconds(since: clock)))
    }

    // MARK: - Steps

    struct Captured {
        var layers: [ActivationSet.Layer]
        var layerNames: [String] { layers.map(\.name) }
        /// Tensor name of each layer name.
        var tensorNames: [String: String]
    }

    /// Captures `layers` of `model` on the probe set. The model's default layers are thinned
    /// to one name per tensor (a container whose output is its last child's keeps the
    /// container's name).
    func capture(_ model: Model, probeSet: ProbeSet, layers: LayerFilter, label: String, exactNames: Bool = false) throws -> Captured {
        let hooked = HookedNetwork(model.loaded.network)
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
        progress?("running \(label) (\(model.name)) on \(probeSet.inputs.shape.first ?? 0) samples, \(resolved.count) layers")
        guard let inputName = model.loaded.network.graph.inputs.first?.name, model.loaded.network.graph.inputs.count == 1 else {
            throw ProbeError.invalidInput(file: model.loaded.network.file, problem: "compare needs a model with exactly one input")
        }
        let collector = ActivationCollector()
        let names = resolved.map(\.name)
        try Capture.run(
            hooked, inputs: [inputName: TensorInputs(probeSet.inputs, origin: probeSet.name)],
            settings: .init(layers: .names(names), reduction: probeSet.reduction, batchSize: probeSet.batchSize),
            into: collector)
        let set = try collector.activationSet(source: model.name)
        return Captured(layers: set.layers, tensorNames: Dictionary(resolved.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
    }

    /// For each layer of A, the best and second-best layer of B, with a bootstrap interval
    /// for the best (``LayerCorrespondence/bestMatchesWithIntervals``); a layer with no
    /// finite CKA gets an empty match.
    func bestMatches(_ ab: [[Double]], _ namesA: [String], _ namesB: [String],
                     _ a: [Matrix<Double>], _ b: [Matrix<Double>]) throws -> [ComparisonResults.Correspondence] {
        progress?("bootstrap intervals (\(settings.bootstrapResamples) resamples × \(namesA.count) layers)")
        let table = LabelledMatrix(rowLabels: namesA, columnLabels: namesB, values: ab)
        let matches = settings.bootstrapResamples >= 2
            ? try LayerCorrespondence.bestMatchesWithIntervals(
                table, a: a, b: b, cka: settings.cka, resamples: settings.bootstrapResamples,
                confidence: settings.confidence, seed: settings.seed)
            : LayerCorrespondence.bestMatches(table)
        let byLayer = Dictionary(matches.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        return namesA.map { name in
            guard let m = byLayer[name] else { return .init(layer: name, bestMatch: "", cka: .nan) }
            return .init(layer: name, bestMatch: m.bestMatch, cka: m.similarity, lower: m.interval?.lower, upper: m.interval?.upper,
                         runnerUp: m.runnerUp, runnerUpCKA: m.runnerUpSimilarity)
        }
    }

    /// PCA spectrum, participation ratio and linear-probe accuracy of every layer.
    func summaries(_ matrices: [Matrix<Double>], _ names: [String], labels: [Int]?, model: String) throws -> [ComparisonResults.LayerSummary] {
        progress?(labels == nil ? "PCA of \(model)'s layers" : "PCA and linear probes of \(model)'s layers")
        let folds = try labels.map { try StratifiedKFold.assign(labels: $0, folds: settings.probeFolds) }
        return try zip(matrices, names).map { x, name in
            var summary = ComparisonResults.LayerSummary(layer: name, width: x.columns, explainedVarianceRatio: [])
            if x.rows >= 2 && x.columns >= 1, let pca = try? PCA.fit(x) {
                summary.participationRatio = pca.participationRatio
                summary.explainedVarianceRatio = Array(pca.explainedVarianceRatio.prefix(50))
                var total = 0.0
                summary.components90 = pca.explainedVarianceRatio.firstIndex { total += $0; return total >= 0.9 }.map { $0 + 1 }
            }
            if let labels, let folds {
                let evaluation = try LinearProbe.evaluate(x, labels: labels, model: .ridge(alphas: settings.ridgeAlphas),
                                                          folds: folds, controlSeed: settings.seed)
                summary.probeAccuracy = evaluation.best.mean
                summary.probeAccuracySD = evaluation.best.standardDeviation
                summary.shuffledLabelAccuracy = evaluation.control?.mean
            }
            return summary
        }
    }

    /// The projected layer: the one asked for, else the last layer of A that is not a graph
    /// output (the last hidden representation).
    func projectionLayerIndex(_ names: [String], graph: Graph, tensors: [String: String]) throws -> Int {
        if let wanted = settings.projectionLayer {
            guard let index = names.firstIndex(of: wanted) else {
                throw ProbeError.unknownLayer(name: wanted, model: "model A", available: names)
            }
            return index
        }
        let outputs = Set(graph.outputs)
        return names.lastIndex { !outputs.contains(tensors[$0] ?? $0) } ?? names.count - 1
    }

    func project(_ x: Matrix<Double>, model: String, layer: String) throws -> ComparisonResults.Projection {
        let components = min(2, x.rows, x.columns)
        guard components >= 1, x.rows >= 2 else {
            return .init(model: model, layer: layer, points: [], explained: [])
        }
        let pca = try PCA.fit(x, components: components)
        let projected = pca.transform(x)
        // Fix each axis's sign (PCA leaves it arbitrary) so reruns and platforms agree:
        // the largest-magnitude coordinate is positive.
        var signs = [Double](repeating: 1, count: components)
        for c in 0..<components {
            let column = projected.column(c)
            if let extreme = column.max(by: { abs($0) < abs($1) }), extreme < 0 { signs[c] = -1 }
        }
        let points = (0..<x.rows).map { i in (0..<components).map { projected[i, $0] * signs[$0] } }
        return .init(model: model, layer: layer, points: points, explained: Array(pca.explainedVarianceRatio.prefix(components)))
    }

    /// The samples whose removal lowers (or raises) the CKA of a corresponding pair most.
    func influentialSamples(_ matches: [ComparisonResults.Correspondence], _ namesA: [String], _ namesB: [String],
                            _ a: [Matrix<Double>], _ b: [Matrix<Double>], labels: [Int]?) throws -> [ComparisonResults.InfluentialSample] {
        guard settings.influentialSamples > 0 else { return [] }
        var strongest: [Int: ComparisonResults.InfluentialSample] = [:]
        for match in matches {
            guard let i = namesA.firstIndex(of: match.layer), let j = namesB.firstIndex(of: match.bestMatch), a[i].rows >= 3 else { continue }
            let without = try CKAResampling.leaveOneOut(a[i], b[j], kernel: settings.cka.kernel, estimator: settings.cka.estimator)
            for (sample, value) in without.enumerated() where value.isFinite {
                let change = abs(match.cka - value)
                if change > abs((strongest[sample]?.cka ?? 0) - (strongest[sample]?.ckaWithout ?? 0)) || strongest[sample] == nil {
                    strongest[sample] = .init(sample: sample, label: labels?[sample], layerA: match.layer, layerB: match.bestMatch,
                                              cka: match.cka, ckaWithout: value)
                }
            }
        }
        return strongest.values
            .sorted { abs($0.cka - $0.ckaWithout) > abs($1.cka - $1.ckaWithout) || (abs($0.cka - $0.ckaWithout) == abs($1.cka - $1.ckaWithout) && $0.sample < $1.sample) }
            .prefix(settings.influentialSamples).map { $0 }
    }

    /// The weights of the first convolution (in execution order) whose weight is a 4-D
    /// initializer or the output of a `Constant` node (as some exporters write weights):
    /// `[out, in, kh, kw]`.
    public static func firstLayerFilters(_ graph: Graph, catalog: LayerCatalog) -> ComparisonResults.Filters? {
        var constants: [String: Tensor] = [:]
        for node in graph.nodes where node.opType == "Constant" && node.outputs.count == 1 {
            if case let .tensor(value)? = node.attributes["value"] { constants[node.outputs[0]] = value }
        }
        for node in graph.nodes where node.opType == "Conv" && node.inputs.count >= 2 {
            guard let weight = graph.initializers[node.inputs[1]] ?? constants[node.inputs[1]], weight.rank == 4,
                  let values = weight.floats else { continue }
            let layer = node.outputs.first.map { catalog.displayName(of: $0) } ?? node.displayName
            return .init(layer: layer, shape: weight.shape, values: values)
        }
        return nil
    }
}

import Activations
import Analysis
import Foundation
import LinearAlgebra
import Networks
import Probe
import Results

extension ComparisonPlan {
    /// Runs every analysis of the comparison; `progress` hears a short description of each
    /// step.
    ///
    /// - Throws: ``ProbeError`` for layers, inputs or probe sets that do not fit the models,
    ///   ``AnalysisError`` for data the measures cannot take.
    public func run(progress: ((String) -> Void)? = nil) throws -> ComparisonResults {
        if case .same = modelB {
            var plan = self
            plan.modelB = .network(modelA)
            return try plan.run(progress: progress)
        }
        let clock = ContinuousClock.now
        let probeSet = try self.probeSet()
        var capturedA = try ModelCapture(modelA, probeSet: probeSet, layers: layersA, label: "A", memoryLimit: memoryBudget, progress: progress)
        let constantA = try removeConstantLayers(&capturedA, model: modelA, probeSet: probeSet, progress: progress)
        let rfA = receptiveFieldAnalysis(layers: layersA, progress: progress)
        var v1Layers: [ActivationSet.Layer]?
        if modelB.network == nil || gratings != nil { v1Layers = try rfA.v1Layers(probeSet) }
        var capturedB: ModelCapture, constantB: [String] = []
        if let b = modelB.network {
            capturedB = try ModelCapture(b, probeSet: probeSet, layers: layersB, label: "B", memoryLimit: memoryBudget, progress: progress)
            constantB = try removeConstantLayers(&capturedB, model: b, probeSet: probeSet, progress: progress)
        } else {
            capturedB = ModelCapture(layers: v1Layers ?? [])
        }
        let matricesA = capturedA.layers.map(\.matrix), matricesB = capturedB.layers.map(\.matrix)
        let namesA = capturedA.layerNames, namesB = capturedB.layerNames

        progress?("CKA between \(namesA.count) + \(namesB.count) layers")
        let all = try CKAMatrix.compute(matricesA + matricesB, names: namesA.map { "A \($0)" } + namesB.map { "B \($0)" }, options: cka)
        func block(_ rows: Range<Int>, _ columns: Range<Int>) -> [[Double]] {
            rows.map { i in columns.map { j in all[i, j] } }
        }
        let la = namesA.count, lb = namesB.count
        let ab = block(0..<la, la..<(la + lb)), aa = block(0..<la, 0..<la), bb = block(la..<(la + lb), la..<(la + lb))
        let deviation = (0..<(la + lb)).map { abs(all[$0, $0] - 1) }.max() ?? 0

        var correspondences = try bestMatches(ab, namesA, namesB, matricesA, matricesB, progress: progress)
        let (randomMatrix, randomNote) = try randomWeightsBaseline(matricesA, namesA, names: capturedB.layerNames,
                                                                    probeSet: probeSet, correspondences: &correspondences,
                                                                    progress: progress)

        let summariesA = try summaries(matricesA, namesA, labels: probeSet.labels, model: "A", progress: progress)
        let summariesB = try summaries(matricesB, namesB, labels: probeSet.labels, model: "B", progress: progress)

        let projectionIndex = try projectionLayerIndex(namesA, graph: modelA.loaded.graph, tensors: capturedA.tensorNames)
        var projections = [try project(matricesA[projectionIndex], model: "A", layer: namesA[projectionIndex])]
        if let match = correspondences.first(where: { $0.layer == namesA[projectionIndex] }),
           let j = namesB.firstIndex(of: match.bestMatch) {
            projections.append(try project(matricesB[j], model: "B", layer: namesB[j]))
        }

        progress?("leave-one-out influence")
        let influential = try mostInfluentialSamples(correspondences, namesA, namesB, matricesA, matricesB, labels: probeSet.labels)

        typealias File = ComparisonResults.Provenance.File
        let files = try File.records(of: modelA, role: "model_a") + (modelB.network.map { try File.records(of: $0, role: "model_b") } ?? [])
            + File.records(of: probeSet)
        let chance = probeSet.labels.map(LinearProbe.chance)
        let classNames = probeSet.labels.map { labels in
            (0...(labels.max() ?? 0)).map { probeSet.classNames[$0] ?? String($0) }
        }
        var receptiveFieldsA: ReceptiveFieldResults?, receptiveFieldsB: ReceptiveFieldResults?
        if let gratings, let v1Layers {
            receptiveFieldsA = try rfA.run(modelA, captured: capturedA.layers, v1: v1Layers, gratings: gratings, inputs: probeSet)
            if let b = modelB.network {
                receptiveFieldsB = try receptiveFieldAnalysis(layers: layersB, progress: progress)
                    .run(b, captured: capturedB.layers, v1: v1Layers, gratings: gratings, inputs: probeSet)
            }
        }
        let baselines = correspondences.compactMap(\.randomBaseline)
        return ComparisonResults(
            modelA: modelA.name, modelB: modelB.network?.name ?? Self.v1Name, v1Model: modelB.network == nil ? v1 : nil,
            cka: .init(layersA: namesA, layersB: namesB, values: ab),
            ckaAA: .init(layersA: namesA, layersB: namesA, values: aa),
            ckaBB: .init(layersA: namesB, layersB: namesB, values: bb),
            ckaRandomB: randomMatrix, correspondences: correspondences,
            layersA: summariesA, layersB: summariesB, chance: chance, classNames: classNames,
            projections: projections, projectionLabels: probeSet.labels,
            filtersA: ReceptiveFieldAnalysis.firstLayerFilters(of: modelA),
            filtersB: modelB.network.flatMap { ReceptiveFieldAnalysis.firstLayerFilters(of: $0) },
            influentialSamples: influential,
            receptiveFieldsA: receptiveFieldsA, receptiveFieldsB: receptiveFieldsB,
            checks: .init(selfSimilarityMaxDeviation: deviation,
                          randomBaselineMean: randomMatrix.map { _ in baselines.reduce(0, +) / Double(max(baselines.count, 1)) },
                          randomBaselineNote: randomNote,
                          constantLayersA: constantA.isEmpty ? nil : constantA, constantLayersB: constantB.isEmpty ? nil : constantB),
            provenance: .init(
                files: files, probeSet: probeSet.name, samples: probeSet.count,
                reduction: probeSet.reduction.description, estimator: cka.estimator.rawValue,
                kernel: cka.kernel.description,
                dtype: cka.precision == .float32 ? "float32 activations, float32 CKA products" : "float32 activations, float64 analysis",
                seed: seed, bootstrapResamples: bootstrapResamples, confidence: confidence, probeFolds: probeFolds,
                repprobeVersion: toolVersion, seconds: ComparisonResults.Provenance.seconds(since: clock)))
    }

    /// ``run(progress:)``, or, when the activations would take more than ``memoryBudget``
    /// and the CKA is linear with the biased estimator, the results that statistics streamed
    /// from the forward pass give (``SimilarityAccumulator/comparisonResults(seconds:)``: the
    /// CKA tables, best matches and spectra of the same layers), which `notice` hears.
    public func results(progress: ((String) -> Void)? = nil, notice: ((String) -> Void)? = nil,
                        batches: ((String) -> ((Int, Int) -> Void)?)? = nil) throws -> ComparisonResults {
        let clock = ContinuousClock.now
        do {
            return try run(progress: progress)
        } catch let ProbeError.captureTooLarge(_, samples, _, needed, available) where canStream {
            notice?(Self.overBudget(samples: samples, needed: needed, available: available) + ": the report comes from streamed statistics (CKA tables, best matches and spectra; no intervals, baseline, probes or projections)")
            var streamed = self
            // The layers one run would have compared.
            streamed.layersA = .names(try ModelCapture.resolve(layersA, in: modelA).map(\.name))
            if case let .network(b) = modelB { streamed.layersB = .names(try ModelCapture.resolve(layersB, in: b).map(\.name)) }
            let accumulator = try streamed.similarityAccumulator(batches: batches, allPairs: true, notice: notice)
            return try accumulator.comparisonResults(seconds: ComparisonResults.Provenance.seconds(since: clock))
        }
    }

    // MARK: - Steps

    /// Takes the layers that are identical on every input out of `capture`, saying so, and
    /// returns their names; refuses a model all of whose layers are.
    func removeConstantLayers(_ capture: inout ModelCapture, model: ComparedModel, probeSet: ProbeSet,
                              progress: ((String) -> Void)?) throws -> [String] {
        let constant = capture.removeConstantLayers()
        guard !constant.isEmpty else { return [] }
        guard !capture.layers.isEmpty else {
            throw ProbeError.invalidInput(file: model.name, problem: "every layer compared (\(constant.joined(separator: ", "))) "
                + "is identical on every input of probe set '\(probeSet.name)': there is nothing to compare")
        }
        progress?("left out of \(model.name), identical on every input: \(constant.joined(separator: ", "))")
        return constant
    }

    /// The receptive-field stage for one model's layers, with the plan's V1 model and CKA.
    func receptiveFieldAnalysis(layers: LayerFilter, progress: ((String) -> Void)?) -> ReceptiveFieldAnalysis {
        var settings = ReceptiveFieldAnalysis.Settings()
        settings.v1 = v1
        settings.cka = cka
        settings.layers = layers
        settings.toolVersion = toolVersion
        return ReceptiveFieldAnalysis(settings: settings, progress: progress)
    }

    /// For each layer of A, the best and second-best layer of B, with a bootstrap interval
    /// for the best (``LayerCorrespondence/bestMatchesWithIntervals``); a layer with no
    /// finite CKA gets an empty match.
    func bestMatches(_ ab: [[Double]], _ namesA: [String], _ namesB: [String], _ a: [Matrix<Double>], _ b: [Matrix<Double>],
                     progress: ((String) -> Void)?) throws -> [ComparisonResults.Correspondence] {
        progress?("bootstrap intervals (\(bootstrapResamples) resamples × \(namesA.count) layers)")
        let matches = bootstrapResamples >= 2
            ? try LayerCorrespondence.bestMatchesWithIntervals(
                ab, rows: namesA, columns: namesB, a: a, b: b, cka: cka, resamples: bootstrapResamples,
                confidence: confidence, seed: seed)
            : LayerCorrespondence.bestMatches(ab, rows: namesA, columns: namesB)
        return ComparisonResults.Correspondence.list(matches, layers: namesA)
    }

    /// CKA of A's layers with B's architecture under freshly drawn weights; each
    /// correspondence gets its layer's best such value. Returns the matrix, or why there is
    /// none.
    func randomWeightsBaseline(_ matricesA: [Matrix<Double>], _ namesA: [String], names: [String], probeSet: ProbeSet,
                               correspondences: inout [ComparisonResults.Correspondence],
                               progress: ((String) -> Void)?) throws -> (ComparisonResults.LayerMatrix?, String?) {
        guard randomBaseline else { return (nil, nil) }
        guard let b = modelB.network else { return (nil, "B is the V1 model, which has no weights to re-draw") }
        progress?("random-weights baseline")
        let (graph, replaced) = RandomInitialization.reinitialized(b.loaded.graph, seed: seed &+ 1)
        guard replaced > 0 else { return (nil, "no weights of B's graph could be re-drawn") }
        var random = b
        random.loaded.network = try Network(graph: graph, file: b.network.file, tokenizer: b.network.tokenizer)
        let captured = try ModelCapture(random, probeSet: probeSet, layers: .names(names), label: "random B", exactNames: true,
                                        progress: progress)
        // A layer that freshly drawn weights leave constant has no similarity to report.
        let cross = try CKAMatrix.computeUndefinedForConstant(matricesA, captured.layers.map(\.matrix), namesA: namesA,
                                                              namesB: names, options: cka)
        let values = (0..<namesA.count).map { i in (0..<cross.columns).map { cross[i, $0] } }
        for (i, row) in values.enumerated() {
            correspondences[i].randomBaseline = row.filter(\.isFinite).max()
        }
        return (.init(layersA: namesA, layersB: names, values: values), nil)
    }

    /// PCA spectrum, participation ratio and linear-probe accuracy of every layer.
    func summaries(_ matrices: [Matrix<Double>], _ names: [String], labels: [Int]?, model: String,
                   progress: ((String) -> Void)?) throws -> [ComparisonResults.LayerSummary] {
        progress?(labels == nil ? "PCA of \(model)'s layers" : "PCA and linear probes of \(model)'s layers")
        let folds = try labels.map { try StratifiedKFold.assign(labels: $0, folds: probeFolds) }
        return try zip(matrices, names).map { x, name in
            var summary = ComparisonResults.LayerSummary(layer: name, width: x.columns,
                                                         spectrum: x.rows >= 2 && x.columns >= 1 ? try? PCA.spectrum(x) : nil)
            if let labels, let folds {
                let evaluation = try LinearProbe.evaluate(x, labels: labels, model: .ridge(alphas: ridgeAlphas),
                                                          folds: folds, controlSeed: seed)
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
        if let wanted = projectionLayer {
            guard let index = names.firstIndex(of: wanted) else {
                throw ProbeError.unknownLayer(name: wanted, model: "model A", available: names)
            }
            return index
        }
        let outputs = Set(graph.outputs)
        return names.lastIndex { !outputs.contains(tensors[$0] ?? $0) } ?? names.count - 1
    }

    /// The first two principal components of one layer, each axis's sign fixed.
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
    func mostInfluentialSamples(_ matches: [ComparisonResults.Correspondence], _ namesA: [String], _ namesB: [String],
                            _ a: [Matrix<Double>], _ b: [Matrix<Double>], labels: [Int]?) throws -> [ComparisonResults.InfluentialSample] {
        guard influentialSamples > 0 else { return [] }
        var strongest: [Int: ComparisonResults.InfluentialSample] = [:]
        for match in matches {
            guard let i = namesA.firstIndex(of: match.layer), let j = namesB.firstIndex(of: match.bestMatch), a[i].rows >= 3 else { continue }
            let without = try CKAResampling.leaveOneOut(a[i], b[j], kernel: cka.kernel, estimator: cka.estimator)
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
            .prefix(influentialSamples).map { $0 }
    }
}

extension ComparisonResults.Correspondence {
    /// One correspondence per layer of A, in order: its match, or an empty one for a layer
    /// with no finite CKA.
    static func list(_ matches: [LayerCorrespondence], layers: [String]) -> [Self] {
        let byLayer = Dictionary(matches.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        return layers.map { name in
            guard let m = byLayer[name] else { return .init(layer: name, bestMatch: "", cka: .nan) }
            return .init(layer: name, bestMatch: m.bestMatch, cka: m.similarity, lower: m.interval?.lower, upper: m.interval?.upper,
                         runnerUp: m.runnerUp, runnerUpCKA: m.runnerUpSimilarity)
        }
    }
}

extension ComparisonResults.LayerSummary {
    /// A layer's summary with what its PCA says of its dimensions (nothing without one).
    /// A layer's summary from its spectrum (``PCA/spectrum(_:)``): the variance along every
    /// component, descending, and the total.
    init(layer: String, width: Int, spectrum: (variances: [Double], total: Double)?) {
        self.init(layer: layer, width: width, explainedVarianceRatio: [])
        guard let spectrum else { return }
        let ratios = spectrum.variances.map { $0 / spectrum.total }  // nonzero: PCA.spectrum refuses constant layers
        participationRatio = PCA.participationRatio(spectrum.variances)
        explainedVarianceRatio = Array(ratios.prefix(50))
        var total = 0.0
        components90 = ratios.firstIndex { total += $0; return total >= 0.9 }.map { $0 + 1 }
    }
}

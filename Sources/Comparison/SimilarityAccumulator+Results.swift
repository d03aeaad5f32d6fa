import Analysis
import Probe
import Results

extension SimilarityAccumulator {
    /// The results of the comparison that the joined statistics of every shard determine,
    /// in the layout of one run's (``ComparisonPlan/run(progress:)``): the CKA table with
    /// each layer's best match and runner-up, the tables within A and within B when the
    /// statistics keep every pair (``keepsAllPairs``), and each layer's PCA spectrum from its
    /// own co-moments. What needs every activation or the models at once (bootstrap
    /// intervals, the random-weights baseline, linear probes, projections, filters, receptive
    /// fields, influential samples) is absent, and ``ComparisonResults/Provenance/joinedShards``
    /// says so.
    ///
    /// Layers identical on every input are left out, as in one run, and listed in the checks.
    ///
    /// - Parameter seconds: the wall-clock time to record.
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` when shards are missing or every
    ///   layer of a model is constant, ``AnalysisError`` below two samples.
    public func comparisonResults(seconds: Double = 0) throws -> ComparisonResults {
        let (table, within) = try tables()
        let same = layersB.isEmpty
        let namesA = layersA, namesB = same ? layersA : layersB

        // Layer k of the statistics is A's k-th, then B's; B is A when A is compared with itself.
        let offsetB = same ? 0 : namesA.count
        let moments = (0..<statistics.layerNames.count).map { statistics.layerMoments($0) }
        func isConstant(_ k: Int) -> Bool {
            (0..<moments[k].width).allSatisfy { moments[k].values[0][$0, $0] == 0 }
        }
        let keptA = namesA.indices.filter { !isConstant($0) }
        let keptB = namesB.indices.filter { !isConstant(offsetB + $0) }
        for (model, kept, names) in [("A", keptA, namesA), ("B", keptB, namesB)] where kept.isEmpty {
            throw ProbeError.invalidInput(file: origin, problem: "every layer of \(model) compared (\(names.joined(separator: ", "))) is identical on every input: "
                                          + "there is nothing to compare")
        }
        func select(_ values: [[Double]], _ rows: [Int], _ columns: [Int]) -> [[Double]] {
            rows.map { i in columns.map { values[i][$0] } }
        }
        let rowNames = keptA.map { namesA[$0] }, columnNames = keptB.map { namesB[$0] }
        let ab = select(table.values, keptA, keptB)
        var aa: [[Double]]?, bb: [[Double]]?
        if same {
            (aa, bb) = (ab, ab)
        } else if let within {
            (aa, bb) = (select(within.a, keptA, keptA), select(within.b, keptB, keptB))
        }
        let diagonals = [aa, bb].compactMap { $0 }.flatMap { m in m.indices.map { abs(m[$0][$0] - 1) } }

        func summaries(_ kept: [Int], names: [String], offset: Int) -> [ComparisonResults.LayerSummary] {
            kept.map { k in
                let m = moments[offset + k]
                return ComparisonResults.LayerSummary(layer: names[k], width: m.width,
                                                      spectrum: m.samples >= 2 ? try? PCA.spectrum(m) : nil)
            }
        }
        let constantA = namesA.indices.filter { !keptA.contains($0) }.map { namesA[$0] }
        let constantB = namesB.indices.filter { !keptB.contains($0) }.map { namesB[$0] }
        let p = provenance
        // Models, or the activation files of `repprobe cka --shard`.
        let modelA = p.files.first { $0.role == "model_a" || $0.role == "activations_a" }?.name ?? "A"
        let modelB = same ? modelA : p.files.first { $0.role == "model_b" || $0.role == "activations_b" }?.name ?? "B"
        return ComparisonResults(
            modelA: modelA, modelB: modelB,
            cka: .init(layersA: rowNames, layersB: columnNames, values: ab),
            ckaAA: aa.map { .init(layersA: rowNames, layersB: rowNames, values: $0) },
            ckaBB: bb.map { .init(layersA: columnNames, layersB: columnNames, values: $0) },
            correspondences: ComparisonResults.Correspondence.list(LayerCorrespondence.bestMatches(ab, rows: rowNames, columns: columnNames), layers: rowNames),
            layersA: summaries(keptA, names: namesA, offset: 0), layersB: summaries(keptB, names: namesB, offset: offsetB),
            projections: [], influentialSamples: [],
            checks: .init(selfSimilarityMaxDeviation: diagonals.max(),
                          randomBaselineNote: "streamed statistics do not hold it (it needs B's graph and every input at once)",
                          constantLayersA: constantA.isEmpty ? nil : constantA, constantLayersB: constantB.isEmpty ? nil : constantB),
            provenance: .init(
                files: p.files, probeSet: p.probeSet ?? "inputs", samples: statistics.samples,
                reduction: table.reduction.description, estimator: CKAEstimator.biased.rawValue, kernel: CKAKernel.linear.description,
                dtype: "float32 activations, float64 statistics", seed: p.reductionSeed ?? 0, bootstrapResamples: 0,
                repprobeVersion: p.repprobeVersion, seconds: seconds, joinedShards: p.shardCount))
    }
}

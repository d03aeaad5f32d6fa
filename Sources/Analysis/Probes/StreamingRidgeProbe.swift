import LinearAlgebra

/// Cross-validated ridge probes (``RidgeClassifier``, one-vs-rest ±1 targets) of data seen a
/// block of samples at a time: the evaluation ``LinearProbe/evaluate(_:labels:model:folds:foldCount:controlSeed:)``
/// makes of data in memory, with memory set by the width, not by the number of samples.
///
/// Two passes over the samples. The first gathers, for each test fold, the ``CoMoments`` of
/// the features side by side with the one-hot classes (and the one-hot shuffled labels of
/// the control); a training set is then every other fold, joined exactly. Its centred
/// co-moments `M_xx = V diag(λ) Vᵀ` and `M_xt` with the ±1 targets give every α's weights,
/// `W = V diag(1/(λ + α)) Vᵀ M_xt` (the same as the SVD path: `λ = s²`), and the second pass
/// scores each test fold with its training fold's weights. Labels and folds are small and
/// held whole, so the folds are those of the in-memory evaluation; accuracies agree with it,
/// to ties of decision values at rounding level. With `α = 0`, eigenvalues below
/// `d · ε · λ_max` count as zero, where the SVD path drops singular values below
/// `1e-15 · s_max`: on rank-deficient data the two can differ.
public enum StreamingRidgeProbe {
    /// Evaluates the ridge probe for each of `alphas` on blocks that `pass` hands to its
    /// argument (each block: samples × features, and which samples they are), in two calls
    /// of `pass`.
    ///
    /// - Parameters:
    ///   - labels: one per sample.
    ///   - folds: the test fold of each sample (``StratifiedKFold/assign(labels:folds:)``).
    ///   - controlSeed: seeds the label permutation of the shuffled-label control, as
    ///     ``LinearProbe`` does; `nil` for none.
    /// - Throws: ``AnalysisError`` for invalid strengths, labels, folds or blocks.
    public static func evaluate(labels: [Int], folds: [Int], alphas: [Double], controlSeed: UInt64? = 0,
                                pass: ((Matrix<Double>, Range<Int>) throws -> Void) throws -> Void) throws -> ProbeEvaluation {
        guard !alphas.isEmpty, alphas.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw AnalysisError.invalidArgument("streamed ridge probe: regularisation strengths must be finite and non-negative, got \(alphas)")
        }
        _ = try FoldSplit.splits(folds, samples: labels.count)
        let foldIDs = Array(Set(folds)).sorted()
        let foldIndex = Dictionary(uniqueKeysWithValues: foldIDs.enumerated().map { ($1, $0) })
        let classes = Array(Set(labels)).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var shuffled: [Int]?
        if let controlSeed {
            var generator = SeededGenerator(seed: controlSeed)
            var copy = labels
            generator.shuffle(&copy)
            shuffled = copy
        }
        let targetSets = [labels] + (shuffled.map { [$0] } ?? [])
        let c = classes.count

        // Pass 1: per test fold, the co-moments of [x, one-hot labels, one-hot shuffled labels].
        var perFold: [CoMoments] = []
        var width = 0
        try pass { block, samples in
            guard block.rows == samples.count, samples.lowerBound >= 0, samples.upperBound <= labels.count else {
                throw AnalysisError.invalidArgument("streamed ridge probe: a block of \(block.rows) rows for samples \(samples) of \(labels.count)")
            }
            if perFold.isEmpty {
                width = block.columns
                perFold = foldIDs.map { _ in CoMoments(width: width + c * targetSets.count) }
            }
            guard block.columns == width else {
                throw AnalysisError.invalidArgument("streamed ridge probe: a block of \(block.columns) features after blocks of \(width)")
            }
            for (f, rows) in Self.rowsByFold(samples, folds: folds, index: foldIndex) {
                var z = Matrix<Double>(rows: rows.count, columns: width + c * targetSets.count)
                for (i, row) in rows.enumerated() {
                    for j in 0..<width { z[i, j] = block[row, j] }
                    for (t, targets) in targetSets.enumerated() { z[i, width + t * c + classIndex[targets[samples.lowerBound + row]]!] = 1 }
                }
                try perFold[f].add(z)
            }
        }
        guard !perFold.isEmpty else { throw AnalysisError.tooFewSamples(needed: 2, got: 0, context: "streamed ridge probe") }

        // Each training set (every other fold): its weights for every α and target set, from
        // one eigen-decomposition of its feature co-moments.
        var models: [[TrainedFold]] = []
        for f in foldIDs.indices {
            var training = CoMoments(width: width + c * targetSets.count)
            for g in foldIDs.indices where g != f { training.merge(perFold[g]) }
            guard let xx = training.part(rows: 0..<width, columns: 0..<width) else { preconditionFailure("all co-moments are kept") }
            let eigen = try xx.symmetricEigen()
            let cutoff = Double(width) * Double.ulpOfOne * Swift.max(eigen.values.first ?? 0, 0)
            let basis = eigen.vectors ?? Matrix(rows: width, columns: 0)
            let trainLabelSets = targetSets.map { targets in folds.indices.filter { folds[$0] != foldIDs[f] }.map { targets[$0] } }
            models.append(try trainLabelSets.indices.map { t in
                try TrainedFold(training, width: width, classes: classes, targetColumns: width + t * c, trainLabels: trainLabelSets[t],
                                alphas: alphas, basis: basis, values: eigen.values, cutoff: cutoff)
            })
        }

        // Pass 2: each test fold scored by its training fold's weights.
        var correct = [[[Int]]](repeating: [[Int]](repeating: [Int](repeating: 0, count: foldIDs.count), count: alphas.count), count: targetSets.count)
        var tested = [Int](repeating: 0, count: foldIDs.count)
        try pass { block, samples in
            guard block.columns == width, block.rows == samples.count else {
                throw AnalysisError.invalidArgument("streamed ridge probe: the second pass gave a block of \(block.rows) × \(block.columns)")
            }
            for (f, rows) in Self.rowsByFold(samples, folds: folds, index: foldIndex) {
                let x = block.selectingRows(rows)
                tested[f] += rows.count
                for (t, targets) in targetSets.enumerated() {
                    for (k, predicted) in models[f][t].predictions(x).enumerated() {
                        correct[t][k][f] += zip(predicted, rows).filter { $0 == targets[samples.lowerBound + $1] }.count
                    }
                }
            }
        }
        let expected = foldIDs.map { id in folds.filter { $0 == id }.count }
        guard tested == expected else {
            throw AnalysisError.invalidArgument("streamed ridge probe: the second pass scored \(tested) samples per fold, the first saw \(expected)")
        }
        func scores(_ t: Int, _ k: Int) -> FoldScores {
            FoldScores(accuracies: foldIDs.indices.map { Double(correct[t][k][$0]) / Double(Swift.max(tested[$0], 1)) })
        }
        let all = alphas.indices.map { scores(0, $0) }
        let best = LinearProbe.bestIndex(all)
        return ProbeEvaluation(model: .ridge(alphas: alphas), scores: all, bestIndex: best,
                               control: shuffled == nil ? nil : scores(1, best), chance: LinearProbe.chance(labels), folds: folds)
    }

    /// The rows of a block of `samples` in each fold (by fold position), in order.
    private static func rowsByFold(_ samples: Range<Int>, folds: [Int], index: [Int: Int]) -> [(Int, [Int])] {
        var rows: [Int: [Int]] = [:]
        for (row, sample) in samples.enumerated() { rows[index[folds[sample]]!, default: []].append(row) }
        return rows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// One training set's ridge weights for every α, for one set of targets.
    private struct TrainedFold {
        let mean: [Double]
        /// Each α's `d × m` weights `V diag(1/(λ + α)) Vᵀ M_xt`, and the target means.
        let weights: [Matrix<Double>]
        let targetMean: [Double]
        /// The training classes; a decision picks one of them.
        let classes: [Int]

        /// The weights from the training co-moments and the eigen-decomposition `V diag(λ) Vᵀ`
        /// of their feature block (eigenvalues below `cutoff` count as zero).
        init(_ statistics: CoMoments, width d: Int, classes all: [Int], targetColumns: Int, trainLabels: [Int], alphas: [Double],
             basis: Matrix<Double>, values: [Double], cutoff: Double) throws {
            let encoding = try ClassEncoding(trainLabels, context: "ridge probe training fold")
            classes = encoding.classes
            let present = encoding.classes.map { all.firstIndex(of: $0)! }
            // ±1 targets: one column (the second class) for two classes, else one per class.
            let columns = present.count == 2 ? [present[1]] : present
            mean = Array(statistics.means[0..<d])
            var xt = Matrix<Double>(rows: d, columns: columns.count)
            for (k, column) in columns.enumerated() {
                guard let part = statistics.part(rows: 0..<d, columns: (targetColumns + column)..<(targetColumns + column + 1)) else {
                    preconditionFailure("all co-moments are kept")
                }
                for i in 0..<d { xt[i, k] = 2 * part[i, 0] }
            }
            targetMean = columns.map { 2 * statistics.means[targetColumns + $0] - 1 }
            let projected = basis.transposedTimes(xt)
            weights = alphas.map { alpha in
                var s = projected
                for i in 0..<s.rows {
                    let factor = values[i] > cutoff ? 1 / (values[i] + alpha) : 0
                    for j in 0..<s.columns { s[i, j] *= factor }
                }
                return basis.multiplied(by: s)
            }
        }

        /// Predicted labels of samples `x` for each α.
        func predictions(_ x: Matrix<Double>) -> [[Int]] {
            var centred = x
            centred.subtractColumnMeans(mean)
            return weights.map { RidgePath.decide(centred.affine($0, bias: targetMean)).map { classes[$0] } }
        }
    }
}

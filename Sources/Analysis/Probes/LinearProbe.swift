import LinearAlgebra

/// The classifier a linear probe trains, with the regularisation strengths to try.
public enum ProbeModel: Sendable, Equatable {
    /// ``RidgeClassifier`` for each α; one factorisation per fold serves all of them.
    case ridge(alphas: [Double])
    /// ``LogisticRegression`` for each inverse regularisation strength C.
    case logistic(c: [Double])

    public var name: String {
        switch self {
        case .ridge: return "ridge"
        case .logistic: return "logistic"
        }
    }

    /// The regularisation values, in order.
    public var settings: [Double] {
        switch self {
        case let .ridge(alphas): return alphas
        case let .logistic(c): return c
        }
    }
}

/// Cross-validated accuracy of a linear probe for every regularisation strength, and a
/// shuffled-label control.
public struct ProbeEvaluation: Sendable {
    public var model: ProbeModel
    /// Scores per setting, in the order of ``ProbeModel/settings``.
    public var scores: [FoldScores]
    /// The setting with the highest mean accuracy. Chosen on the same folds that score it,
    /// so its accuracy is slightly optimistic; the control below is scored the same way.
    public var bestIndex: Int
    /// The best setting's scores with labels randomly permuted (same folds): what the
    /// probe reaches by memorising rather than by reading out the representation.
    public var control: FoldScores?
    /// Accuracy of always guessing the most frequent class.
    public var chance: Double
    /// Test fold of each sample.
    public var folds: [Int]

    public var best: FoldScores { scores[bestIndex] }
}

/// Linear probes (Alain & Bengio 2016): how well a linear classifier reads class labels
/// out of a representation, by stratified k-fold cross-validation.
public enum LinearProbe {
    /// Evaluates `model` on samples × features `x` with one label per row. `folds` gives
    /// the test fold of each sample; by default ``StratifiedKFold`` with `foldCount` folds.
    /// `controlSeed` (nil: no control) seeds the label permutation of the control.
    public static func evaluate(
        _ x: Matrix<Double>, labels: [Int], model: ProbeModel, folds: [Int]? = nil, foldCount: Int = 5,
        controlSeed: UInt64? = 0
    ) throws -> ProbeEvaluation {
        try AnalysisError.checkSameSamples(x.rows, labels.count, "linear probe labels")
        if model.settings.isEmpty { throw AnalysisError.invalidArgument("linear probe: no regularisation strength given") }
        var isLogistic = false
        if case .logistic = model { isLogistic = true }
        for value in model.settings where !(value >= 0 && value.isFinite) || (isLogistic && value == 0) {
            throw AnalysisError.invalidArgument("linear probe: invalid regularisation strength \(value)")
        }
        let assignment = try folds ?? StratifiedKFold.assign(labels: labels, folds: foldCount)
        let splits = try FoldSplit.splits(assignment, samples: x.rows)
        var factorisations: [Int: RidgePath] = [:]
        var gram: Matrix<Double>?
        if case .ridge = model, x.columns > splits.map(\.train.count).max() ?? 0 {
            gram = x.centeringColumns().outerGram()
        }
        let scores = try score(x, labels: labels, model: model, splits: splits, gram: gram, factorisations: &factorisations)
        let bestIndex = Self.bestIndex(scores)
        var control: FoldScores?
        if let controlSeed {
            var generator = SeededGenerator(seed: controlSeed)
            var shuffled = labels
            generator.shuffle(&shuffled)
            let setting: ProbeModel
            switch model {
            case let .ridge(alphas): setting = .ridge(alphas: [alphas[bestIndex]])
            case let .logistic(c): setting = .logistic(c: [c[bestIndex]])
            }
            control = try score(x, labels: shuffled, model: setting, splits: splits, gram: gram,
                                factorisations: &factorisations).first
        }
        return ProbeEvaluation(model: model, scores: scores, bestIndex: bestIndex, control: control,
                               chance: chance(labels), folds: assignment)
    }

    /// The setting with the highest mean accuracy; the first of equals.
    static func bestIndex(_ scores: [FoldScores]) -> Int {
        scores.indices.max { scores[$0].mean < scores[$1].mean || (scores[$0].mean == scores[$1].mean && $0 > $1) } ?? 0
    }

    /// The accuracy of always guessing the most frequent class.
    public static func chance(_ labels: [Int]) -> Double {
        var counts = [Int: Int]()
        for label in labels { counts[label, default: 0] += 1 }
        return Double(counts.values.max() ?? 0) / Double(Swift.max(labels.count, 1))
    }

    /// Accuracy of every setting on every split. Ridge factorises each training fold once:
    /// `factorisations` keeps the factorisations by fold, and a later call on the same folds
    /// (the shuffled-label control) reuses them with its own targets.
    ///
    /// With more features than training samples, ridge works on Gram matrices (see
    /// ``RidgePath``), and one `n × n` Gram matrix of all samples, centred on their mean
    /// (`gram`, which the caller makes once for the scores and the control), serves every
    /// fold: with `m` the training fold's mean and `r_u = (1/|T|)·Σ_{t∈T} G_ut`,
    /// `(x_u − m)·(x_v − m) = G_uv − r_u − r_v + (1/|T|)·Σ_{t∈T} r_t` gives the fold's centred
    /// training Gram matrix and its test samples' cross-Gram matrix without another product
    /// with the features (the shift from the whole mean to the fold's is small, so little
    /// cancels).
    static func score(_ x: Matrix<Double>, labels: [Int], model: ProbeModel, splits: [FoldSplit], gram: Matrix<Double>?,
                      factorisations: inout [Int: RidgePath]) throws -> [FoldScores] {
        var accuracies = [[Double]](repeating: [], count: model.settings.count)
        for (fold, split) in splits.enumerated() {
            let trainLabels = split.train.map { labels[$0] }
            let testLabels = split.test.map { labels[$0] }
            switch model {
            case let .ridge(alphas):
                let encoding = try ClassEncoding(trainLabels, context: "ridge probe training fold")
                let path: RidgePath
                if let known = factorisations[fold] {
                    path = known.retargeted(codes: encoding.codes, classCount: encoding.classes.count)
                } else if let gram {
                    path = try RidgePath(centredGram: foldGram(gram, rows: split.train, training: split.train),
                                         codes: encoding.codes, classCount: encoding.classes.count)
                    factorisations[fold] = path
                } else {
                    path = try RidgePath(x: x.selectingRows(split.train), codes: encoding.codes, classCount: encoding.classes.count)
                    factorisations[fold] = path
                }
                let decisions = gram.map { path.decisions(cross: foldGram($0, rows: split.test, training: split.train), alphas: alphas) }
                    ?? path.decisions(test: x.selectingRows(split.test), alphas: alphas)
                for (k, z) in decisions.enumerated() {
                    let predicted = RidgePath.decide(z).map { encoding.classes[$0] }
                    accuracies[k].append(accuracy(predicted, testLabels))
                }
            case let .logistic(cs):
                let train = x.selectingRows(split.train), test = x.selectingRows(split.test)
                for (k, c) in cs.enumerated() {
                    let fitted = try LogisticRegression(x: train, labels: trainLabels, c: c)
                    accuracies[k].append(accuracy(fitted.predict(test), testLabels))
                }
            }
        }
        return accuracies.map { FoldScores(accuracies: $0) }
    }

    /// `(x_u − m)·(x_t − m)` for the samples `u` in `rows` and `t` in `training`, with `m`
    /// the mean of the training samples, from the Gram matrix `G` of all samples.
    static func foldGram(_ g: Matrix<Double>, rows: [Int], training: [Int]) -> Matrix<Double> {
        let count = Double(training.count)
        let r = (0..<g.rows).map { u in training.reduce(0.0) { $0 + g[u, $1] } / count }
        let shift = training.reduce(0.0) { $0 + r[$1] } / count
        var result = Matrix<Double>(rows: rows.count, columns: training.count)
        for (b, t) in training.enumerated() {
            for (a, u) in rows.enumerated() { result[a, b] = g[u, t] - r[u] - r[t] + shift }
        }
        return result
    }

    static func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        let correct = zip(predicted, truth).filter { $0 == $1 }.count
        return Double(correct) / Double(Swift.max(truth.count, 1))
    }
}

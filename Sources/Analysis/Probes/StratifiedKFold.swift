/// Stratified k-fold assignment: every fold gets about the same share of each class.
///
/// Without shuffling, the assignment is exactly scikit-learn's `StratifiedKFold(n_splits,
/// shuffle=False)`: classes are numbered in order of first appearance, the sorted class
/// codes are dealt to folds round-robin to decide how many of each class each fold gets,
/// and each class's samples are then given to folds in sample order. With a seed, samples
/// are first permuted within each class by ``SeededGenerator`` (not scikit-learn's stream).
public enum StratifiedKFold {
    /// The test fold (0 ..< `folds`) of each sample.
    public static func assign(labels: [Int], folds k: Int, seed: UInt64? = nil) throws -> [Int] {
        let n = labels.count
        guard k >= 2 && k <= n else {
            throw AnalysisError.invalidArgument("stratified k-fold: the number of folds must be between 2 and the sample count \(n), got \(k)")
        }
        // Class codes in order of first appearance.
        var code = [Int: Int]()
        var encoded = [Int](repeating: 0, count: n)
        for (i, label) in labels.enumerated() {
            if code[label] == nil { code[label] = code.count }
            encoded[i] = code[label]!
        }
        let classCount = code.count
        let sortedCodes = encoded.sorted()
        // allocation[f][c]: samples of class c that fold f receives.
        var allocation = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: k)
        for (position, c) in sortedCodes.enumerated() { allocation[position % k][c] += 1 }
        var members = [[Int]](repeating: [], count: classCount)
        for i in 0..<n { members[encoded[i]].append(i) }
        if let seed {
            var generator = SeededGenerator(seed: seed)
            for c in 0..<classCount { generator.shuffle(&members[c]) }
        }
        var assignment = [Int](repeating: 0, count: n)
        for c in 0..<classCount {
            var next = 0
            for f in 0..<k {
                for _ in 0..<allocation[f][c] {
                    assignment[members[c][next]] = f
                    next += 1
                }
            }
        }
        return assignment
    }
}

/// Accuracy on each cross-validation fold, with mean and standard deviation.
public struct FoldScores: Sendable, Codable, Equatable {
    /// Fraction of test samples classified correctly, per fold.
    public var accuracies: [Double]
    public var mean: Double
    /// Population standard deviation over folds (NumPy's default `ddof=0`).
    public var standardDeviation: Double

    public init(accuracies: [Double]) {
        self.accuracies = accuracies
        let n = Double(Swift.max(accuracies.count, 1))
        mean = accuracies.reduce(0, +) / n
        let m = mean
        standardDeviation = (accuracies.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
    }
}

/// Class labels mapped to codes `0 ..< classes.count` in sorted label order (as
/// scikit-learn's `classes_`).
public struct ClassEncoding: Sendable, Equatable {
    public let classes: [Int]
    public let codes: [Int]

    public init(_ labels: [Int], context: String) throws {
        classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else {
            throw AnalysisError.invalidLabels("\(context): labels must name at least 2 classes, found \(classes.count)")
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        codes = labels.map { index[$0]! }
    }
}

/// Folds given as a test-fold index per sample, split into index lists.
struct FoldSplit {
    var train: [Int]
    var test: [Int]

    static func splits(_ folds: [Int], samples: Int) throws -> [FoldSplit] {
        guard folds.count == samples else {
            throw AnalysisError.sampleCountMismatch(first: samples, second: folds.count, context: "probe folds")
        }
        let ids = Array(Set(folds)).sorted()
        guard ids.count >= 2 else { throw AnalysisError.invalidArgument("probe folds: need at least 2 folds, got \(ids.count)") }
        return ids.map { f in
            FoldSplit(train: folds.indices.filter { folds[$0] != f }, test: folds.indices.filter { folds[$0] == f })
        }
    }
}

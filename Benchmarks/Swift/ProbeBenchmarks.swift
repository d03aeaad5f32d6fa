import RepProbeKit

/// Cross-validated ridge and logistic probes on the folds `make_data.py` fixed.
func benchmarkProbes(_ data: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
    let p = manifest.probe
    let x = try data.matrix(p.x)
    let labels = try data.integers(p.labels)
    let folds = try data.integers(p.folds)
    let foldCount = Set(folds).count
    let shape = "\(p.n)×\(p.d), \(p.classes) classes, \(foldCount) folds"
    log("repprobe: probes")

    let ridge = try recorder.measure("probe.ridge", shape: shape + ", \(p.alphas.count) alphas") {
        try LinearProbe.evaluate(x, labels: labels, model: .ridge(alphas: p.alphas), folds: folds, controlSeed: nil)
    }
    recorder.attach("probe.ridge", [
        "mean_accuracy": ridge.scores.map(\.mean),
        "fold_accuracy": ridge.scores.flatMap(\.accuracies),
    ])

    let logistic = try recorder.measure("probe.logistic", shape: shape + ", C=\(p.c)") {
        try LinearProbe.evaluate(x, labels: labels, model: .logistic(c: p.c), folds: folds, controlSeed: nil)
    }
    // Iterations of one fold's fit (untimed), to compare the solvers' stopping points.
    let train = folds.indices.filter { folds[$0] != 0 }
    let single = try LogisticRegression(x: x.selectingRows(train), labels: train.map { labels[$0] }, c: p.c[0])
    recorder.attach("probe.logistic", [
        "mean_accuracy": logistic.scores.map(\.mean),
        "fold_accuracy": logistic.scores.flatMap(\.accuracies),
        "iterations_fold0": [Double(single.iterations)],
    ])
}

import RepProbeKit

/// The public building blocks of `CKA.linear` and of exact PCA timed one by one on their
/// inputs, to show where a slow call spends its time (not part of the default run:
/// `repprobe-bench DATA_DIR breakdown`).
func benchmarkBreakdown(_ data: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
    let c = manifest.cka
    log("repprobe: CKA building blocks f64")
    try breakdown(x: data.matrix(c.xF64), y: data.matrix(c.yF64), precision: "f64", &recorder)
    log("repprobe: CKA building blocks f32")
    try breakdown(x: data.floatMatrix(c.xF32), y: data.floatMatrix(c.yF32), precision: "f32", &recorder)
    log("repprobe: exact PCA building blocks")
    try pcaBreakdown(data.matrix(manifest.pcaExact.x), &recorder)
}

private func breakdown<S: BLASScalar>(x: Matrix<S>, y: Matrix<S>, precision: String, _ recorder: inout Recorder) throws {
    let n = x.rows
    let shape = "\(n)×\(x.columns)"
    let prefix = "breakdown.\(precision)"
    _ = try recorder.measure("\(prefix).columnMeans", shape: shape) { x.columnMeans }
    _ = try recorder.measure("\(prefix).centeringColumns", shape: shape) { x.centeringColumns() }
    _ = try recorder.measure("\(prefix).frobeniusNorm", shape: shape) { x.frobeniusNorm }
    let stacked = Matrix(rows: n, columns: x.columns + y.columns, columnMajor: x.storage + y.storage)
    _ = try recorder.measure(
        "\(prefix).gram", shape: "\(n)×\(stacked.columns)",
        flops: CKAFlops.feature(samples: n, widths: [stacked.columns])
    ) {
        stacked.gram()
    }
    let gram = try recorder.measure(
        "\(prefix).outerGram", shape: shape, repeatsKey: "gram",
        flops: Double(n) * Double(n + 1) * Double(x.columns)
    ) {
        x.outerGram()
    }
    _ = try recorder.measure("\(prefix).converted", shape: "\(n)×\(n)", repeatsKey: "gram") {
        gram.converted(to: Double.self)
    }
}

/// Exact PCA's steps: the column means, the covariance from blocks of centred rows
/// (`syrk`), its eigen-decomposition, and the whole fit.
private func pcaBreakdown(_ x: Matrix<Double>, _ recorder: inout Recorder) throws {
    let shape = "\(x.rows)×\(x.columns)"
    let means = try recorder.measure("breakdown.pca.columnMeans", shape: shape) { x.columnMeans }
    let covariance = try recorder.measure(
        "breakdown.pca.centredGram", shape: shape, flops: Double(x.rows) * Double(x.columns) * Double(x.columns + 1)
    ) {
        x.centredGram(means: means, scale: 1 / Double(x.rows - 1))
    }
    _ = try recorder.measure("breakdown.pca.symmetricEigen", shape: "\(x.columns)×\(x.columns)") {
        try covariance.symmetricEigen()
    }
    _ = try recorder.measure("breakdown.pca.fit", shape: shape) { try PCA.fit(x, method: .exact) }
}

import RepProbeKit

/// Exact PCA (all components) and randomized top-k PCA.
func benchmarkPCA(_ data: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
    let top = manifest.pcaCompareTop
    log("repprobe: PCA")
    let exact = manifest.pcaExact
    let x = try data.matrix(exact.x)
    let fitted = try recorder.measure("pca.exact", shape: "\(x.rows)×\(x.columns)") {
        try PCA.fit(x, method: .exact)
    }
    recorder.attach("pca.exact", ["explained_variance": Array(fitted.explainedVariance.prefix(top))])

    let randomized = manifest.pcaRandomized
    let k = randomized.components ?? top
    let method = PCAMethod.randomized(oversampling: randomized.oversampling ?? 10, powerIterations: nil, seed: 0)
    let wide = try data.matrix(randomized.x)
    let leading = try recorder.measure("pca.randomized", shape: "\(wide.rows)×\(wide.columns), top \(k)") {
        try PCA.fit(wide, components: k, method: method)
    }
    recorder.attach("pca.randomized", ["explained_variance": Array(leading.explainedVariance.prefix(top))])
}

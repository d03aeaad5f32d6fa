import Activations
import Analysis
import Formats
import Foundation
import LinearAlgebra
import Testing

/// Layers too wide for their covariance stream by a randomized sketch whose leading
/// components are those of the exact PCA; narrower layers stream exactly.
@Suite struct ActivationStreamTests {
    /// `n` samples: a 6-dimensional signal with a decaying spectrum in `d` features, plus
    /// small noise, far from zero.
    static func lowRank(_ n: Int, _ d: Int, seed: UInt64) -> Matrix<Double> {
        var generator = SeededGenerator(seed: seed)
        var x = Matrix<Double>(rows: n, columns: d)
        var basis = Matrix<Double>(rows: 6, columns: d)
        for i in basis.storage.indices { basis.storage[i] = generator.nextGaussian() }
        for i in 0..<n {
            let signal = (0..<6).map { generator.nextGaussian() * pow(0.5, Double($0)) * 10 }
            for j in 0..<d {
                x[i, j] = 100 + 0.01 * generator.nextGaussian() + (0..<6).reduce(0) { $0 + signal[$1] * basis[$1, j] }
            }
        }
        return x
    }

    @Test func wideLayersStreamBySketchNarrowOnesExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let wide = Self.lowRank(500, 300, seed: 1), narrow = Self.lowRank(500, 20, seed: 2)
        let url = folder.appendingPathComponent("acts.safetensors")
        try ArrayFile.write([("narrow", NumericArray(shape: [500, 20], float64: narrow.rowMajorElements)),
                             ("wide", NumericArray(shape: [500, 300], float64: wide.rowMajorElements))], to: url, format: .safetensors)
        let stream = try ActivationStream(url)
        #expect(try stream.reducedWidths() == [20, 300])
        // 300² doubles (720 kB) do not fit 400 kB; a sketch of 15 directions does.
        let results = try stream.pca(components: 5, memoryLimit: 400_000, seed: 3)
        #expect(results.map(\.layer) == ["narrow", "wide"] && results.map(\.sketched) == [false, true])
        for (result, x) in zip(results, [narrow, wide]) {
            let exact = try PCA.fit(x, components: 5)
            let variance = zip(result.pca.explainedVariance, exact.explainedVariance).map { abs($0 / $1 - 1) }.max() ?? .infinity
            #expect(variance <= 1e-9, "\(result.layer): explained variance \(variance)")
            #expect(abs(result.pca.totalVariance / exact.totalVariance - 1) <= 1e-12)
            for c in 0..<5 {
                let dot = (0..<x.columns).reduce(0.0) { $0 + result.pca.components[c, $1] * exact.components[c, $1] }
                #expect(abs(dot - 1) <= 1e-7, "\(result.layer) component \(c): \(dot)")
            }
            #expect((result.pca.participationRatio == nil) == result.sketched)
        }
        // Too little memory for even the sketch says so, naming the layer.
        #expect {
            try stream.pca(components: 5, memoryLimit: 50_000, seed: 3)
        } throws: { "\($0)".contains("wide 300") }
    }
}

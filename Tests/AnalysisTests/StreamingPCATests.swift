@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// PCA from streamed co-moments is the PCA of the data in memory.
@Suite struct StreamingPCATests {
    /// Feeds `x` a few rows at a time, in batches of the sizes given (cycled).
    static func statistics(_ x: Matrix<Double>, batches: [Int]) -> CoMoments {
        var statistics = CoMoments(width: x.columns)
        var start = 0, k = 0
        while start < x.rows {
            let end = min(x.rows, start + batches[k % batches.count])
            #expect(throws: Never.self) { try statistics.add(x.selectingRows(Array(start..<end))) }
            start = end
            k += 1
        }
        return statistics
    }

    @Test func streamedEqualsInMemory() throws {
        // Correlated features with a mean far from zero.
        var x = gaussianMatrix(300, 6, seed: 7) * gaussianMatrix(6, 6, seed: 8)
        for i in x.storage.indices { x.storage[i] += 1e4 }
        let expected = try PCA.fit(x)
        for batches in [[300], [1, 7, 64]] {
            let streamed = try PCA.fit(Self.statistics(x, batches: batches))
            expectClose(streamed.explainedVariance, expected.explainedVariance, rtol: 1e-9)
            expectClose(streamed.explainedVarianceRatio, expected.explainedVarianceRatio, rtol: 1e-9)
            expectClose(streamed.mean, expected.mean, rtol: 1e-12)
            expectClose(streamed.components.storage, expected.components.storage, rtol: 1e-7, atol: 1e-9)
            expectClose(streamed.totalVariance, expected.totalVariance, rtol: 1e-10)
            expectClose(try #require(streamed.participationRatio), try #require(expected.participationRatio), rtol: 1e-10)
        }
        // Three components only, and shards merged.
        var merged = Self.statistics(x.selectingRows(Array(0..<120)), batches: [50])
        merged.merge(Self.statistics(x.selectingRows(Array(120..<300)), batches: [50]))
        let three = try PCA.fit(merged, components: 3)
        expectClose(three.explainedVariance, Array(expected.explainedVariance.prefix(3)), rtol: 1e-9)
    }

    /// Fewer samples than features: the in-memory path takes the SVD, the streamed one the
    /// rank-deficient covariance; the variances agree.
    /// The spectrum alone (no components) is the variance along every component that the
    /// full PCA finds: from the Gram matrix for data wider than its samples, from the
    /// covariance otherwise, and from streamed co-moments.
    @Test(arguments: [(30, 80), (80, 30)])
    func spectrumAloneIsThePCAVariances(shape: (Int, Int)) throws {
        var x = gaussianMatrix(shape.0, shape.1, seed: 7)
        for k in x.storage.indices { x.storage[k] = x.storage[k] * Double(1 + k % 5) + 20 }
        let pca = try PCA.fit(x)
        for (variances, total) in [try PCA.spectrum(x), try PCA.spectrum(Self.statistics(x, batches: [7, 3]))] {
            #expect(variances.count == min(shape.0, shape.1) || variances.count == shape.1)
            #expect(abs(total / pca.totalVariance - 1) <= 1e-12)
            for (a, b) in zip(variances, pca.explainedVariance) { #expect(abs(a - b) <= 1e-10 * pca.explainedVariance[0], "\(a) \(b)") }
            #expect(abs(PCA.participationRatio(variances) - (pca.participationRatio ?? .nan)) <= 1e-9)
        }
    }

    @Test func wideDataGiveTheSameSpectrum() throws {
        let x = gaussianMatrix(6, 9, seed: 3)
        let expected = try PCA.fit(x)
        let streamed = try PCA.fit(Self.statistics(x, batches: [2]))
        #expect(streamed.explainedVariance.count == 6)
        expectClose(Array(streamed.explainedVariance.prefix(5)), Array(expected.explainedVariance.prefix(5)), rtol: 1e-9)
        #expect(throws: AnalysisError.self) { try PCA.fit(CoMoments(width: 3)) }
        #expect(throws: AnalysisError.self) { try PCA.fit(Self.statistics(x, batches: [6]), components: 7) }
        var statistics = CoMoments(width: 2)
        #expect(throws: AnalysisError.self) { try statistics.add(gaussianMatrix(3, 4, seed: 1)) }
        #expect(throws: AnalysisError.nonFinite(context: "feature 1")) {
            try statistics.add(Matrix<Double>(rows: 2, columns: 2, rowMajor: [1, 2, 3, .nan]))
        }
        #expect(statistics.samples == 0)
    }
}

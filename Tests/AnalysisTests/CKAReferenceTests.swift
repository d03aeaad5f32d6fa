import Analysis
import LinearAlgebra
import Testing

/// CKA against independent references: the golden values of Kornblith et al.'s demo and
/// NumPy implementations of every variant (Tests/Fixtures/analysis/make_analysis_fixtures.py).
@Suite struct CKAReferenceTests {
    @Test func kornblithDemoGoldenValues() throws {
        let x = try Fixture.matrix("kornblith_demo_X.npy", folder: "reference")
        let y = try Fixture.matrix("kornblith_demo_Y.npy", folder: "reference")
        let golden = try Fixture.json("reference/kornblith_demo.json")
        let linear = try #require(golden["linear_cka"] as? Double)
        let rbf = try #require(golden["rbf_cka_threshold_0.5"] as? Double)
        let debiased = try #require(golden["debiased_linear_cka"] as? Double)
        for form in [CKAForm.gram, .feature] {
            expectClose(try CKA.linear(x, y, form: form), linear, rtol: 1e-12)
            expectClose(try CKA.linear(x, y, estimator: .unbiased, form: form), debiased, rtol: 1e-12)
        }
        expectClose(try CKA.rbf(x, y, threshold: 0.5), rbf, rtol: 1e-12)
        // The five published digits.
        #expect(String(format: "%.5f", try CKA.linear(x, y)) == "0.55761")
        #expect(String(format: "%.5f", try CKA.rbf(x, y, threshold: 0.5)) == "0.65483")
        #expect(String(format: "%.5f", try CKA.linear(x, y, estimator: .unbiased)) == "0.51346")
    }

    @Test(arguments: ["X_Y", "X_Z"])
    func everyVariantMatchesNumPy(pair: String) throws {
        let x = try Fixture.matrix("X.npy")
        let y = try Fixture.matrix(pair == "X_Y" ? "Y.npy" : "Z.npy")
        for form in [CKAForm.gram, .feature, .automatic] {
            expectClose(try CKA.linear(x, y, form: form), try Fixture.number("cka", pair, "linear"), rtol: 1e-10)
            expectClose(try CKA.linear(x, y, estimator: .unbiased, form: form), try Fixture.number("cka", pair, "unbiased_linear"), rtol: 1e-10)
        }
        expectClose(try CKA.rbf(x, y, threshold: 0.5), try Fixture.number("cka", pair, "rbf_0.5"), rtol: 1e-10)
        expectClose(try CKA.rbf(x, y, threshold: 1.0), try Fixture.number("cka", pair, "rbf_1.0"), rtol: 1e-10)
        expectClose(try CKA.rbf(x, y, threshold: 0.5, estimator: .unbiased), try Fixture.number("cka", pair, "unbiased_rbf_0.5"), rtol: 1e-10)
    }

    @Test func hsicEstimatorsMatchNumPy() throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Y.npy")
        let k = KernelMatrix.linear(x), l = KernelMatrix.linear(y)
        expectClose(HSIC.biased(k, l), try Fixture.number("cka", "X_Y", "hsic_biased"), rtol: 1e-11)
        expectClose(try HSIC.unbiased(k, l), try Fixture.number("cka", "X_Y", "hsic_unbiased_linear"), rtol: 1e-11)
        expectClose(try CKA.fromGrams(k, l, estimator: .unbiased), try Fixture.number("cka", "X_Y", "unbiased_linear"), rtol: 1e-11)
    }

    @Test func minibatchIsTheRatioOfAveragedHSICs() throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Y.npy")
        var accumulator = MinibatchCKA(layerNames: ["X", "Y"])
        for start in stride(from: 0, to: 60, by: 20) {
            let rows = Array(start..<(start + 20))
            try accumulator.update([x.selectingRows(rows), y.selectingRows(rows)])
        }
        let value = try accumulator.cka()[0, 1]
        expectClose(value, try Fixture.number("cka", "X_Y", "minibatch_linear"), rtol: 1e-11)
        // Regression: the average of per-batch CKAs is a different (biased) number.
        let wrong = try Fixture.number("cka", "X_Y", "minibatch_mean_of_batch_ckas")
        #expect(abs(value - wrong) > 1e-4)
    }

    @Test func minibatchAccumulatorsMergeAndSerialise() throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Y.npy")
        var first = MinibatchCKA(layerNames: ["X", "Y"]), second = MinibatchCKA(layerNames: ["X", "Y"])
        try first.update([x.selectingRows(Array(0..<20)), y.selectingRows(Array(0..<20))])
        for start in [20, 40] {
            let rows = Array(start..<(start + 20))
            try second.update([x.selectingRows(rows), y.selectingRows(rows)])
        }
        let restored = try JSONDecoder().decode(MinibatchCKA.self, from: JSONEncoder().encode(second))
        try first.merge(restored)
        #expect(first.batches == 3 && first.samples == 60)
        expectClose(try first.cka()[0, 1], try Fixture.number("cka", "X_Y", "minibatch_linear"), rtol: 1e-11)
    }

    @Test(arguments: [CKAEstimator.biased, .unbiased])
    func allPairsMatrixMatchesNumPy(estimator: CKAEstimator) throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Y.npy"), z = try Fixture.matrix("Z.npy")
        let r = Matrix(try Fixture.rows("cka", "R_orthogonal_12x12"))
        let layers = [x, y, z, x * r]
        let key = estimator == .biased ? "matrix_linear" : "matrix_unbiased_linear"
        for form in [CKAForm.gram, .feature] {
            let m = try CKAMatrix.compute(layers, options: CKAOptions(estimator: estimator, form: form))
            expectClose(m, try Fixture.rows("cka", key), rtol: 1e-10)
        }
        // A against B reads the same entries.
        let cross = try CKAMatrix.compute([x, y], [z, x * r], options: CKAOptions(estimator: estimator))
        let full = try Fixture.rows("cka", key)
        expectClose(cross, [[full[0][2], full[0][3]], [full[1][2], full[1][3]]], rtol: 1e-10)
    }

    @Test func float32AgreesWithFloat64() throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Z.npy")
        let single = try CKA.linear(x.converted(to: Float.self), y.converted(to: Float.self))
        expectClose(single, try Fixture.number("cka", "X_Z", "linear"), rtol: 1e-5)
    }
}

import Foundation

@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// PCA and linear probes against scikit-learn on the same data and the same folds.
@Suite struct PCAAndProbeReferenceTests {
    @Test(arguments: ["X", "Z"])
    func exactPCAMatchesScikitLearn(name: String) throws {
        let x = try Fixture.matrix("\(name).npy")
        let pca = try PCA.fit(x)
        let variance = try Fixture.numbers("pca", name, "explained_variance")
        expectClose(pca.explainedVariance, variance, rtol: 1e-9, atol: 1e-9 * variance[0])
        expectClose(pca.explainedVarianceRatio, try Fixture.numbers("pca", name, "explained_variance_ratio"), rtol: 1e-9, atol: 1e-12)
        let singular = try Fixture.numbers("pca", name, "singular_values")
        expectClose(pca.singularValues, singular, rtol: 1e-9, atol: 1e-7 * singular[0])
        expectClose(pca.mean, try Fixture.numbers("pca", name, "mean"), rtol: 1e-12, atol: 1e-14)
        expectClose(try #require(pca.participationRatio), try Fixture.number("pca", name, "participation_ratio"), rtol: 1e-10)
        // Components, with scikit-learn's sign convention (rows stored for well-separated values).
        let components = try Fixture.rows("pca", name, "components")
        let kept = Matrix(components).rows
        let ours = pca.components.transposed().leadingColumns(kept).transposed()
        expectClose(ours, components, rtol: 1e-6, atol: 1e-8)
    }

    @Test func randomizedPCAFindsTheLeadingVariances() throws {
        let z = try Fixture.matrix("Z.npy")
        let pca = try PCA.fit(z, components: 3, method: .randomized(seed: 7))
        let exact = try Fixture.numbers("pca", "Z", "explained_variance")
        expectClose(pca.explainedVariance, Array(exact.prefix(3)), rtol: 1e-6)
        expectClose(pca.explainedVariance, try Fixture.numbers("pca", "Z_randomized_3", "explained_variance"), rtol: 1e-6)
        #expect(pca.participationRatio == nil)
    }

    /// A representation whose every feature is constant has no components: its ratios would
    /// be 0/0. Every PCA path refuses it, as CKA does; one varying feature is enough.
    @Test(arguments: [(6, 3), (3, 6)])
    func aConstantRepresentationIsRefusedByEveryPath(samples: Int, features: Int) throws {
        var x = Matrix<Double>(rows: samples, columns: features)
        for i in 0..<samples { for j in 0..<features { x[i, j] = Double(j) - 1.5 } }
        let constant = AnalysisError.constantRepresentation(context: "PCA")
        #expect(throws: constant) { try PCA.fit(x) }
        #expect(throws: constant) { try PCA.fit(x, components: 1, method: .randomized(seed: 1)) }
        #expect(throws: constant) { try PCA.spectrum(x) }
        var moments = CoMoments(width: features)
        try moments.add(x)
        #expect(throws: constant) { try PCA.fit(moments) }
        #expect(throws: constant) { try PCA.spectrum(moments) }
        x[0, features - 1] += 1
        let varying = try PCA.fit(x)
        #expect(abs(varying.explainedVarianceRatio[0] - 1) < 1e-12)
        #expect(abs(try PCA.spectrum(x).total - varying.totalVariance) < 1e-15)
    }

    @Test func stratifiedFoldsAreScikitLearns() throws {
        let y = try Fixture.integers("probe_y.npy")
        #expect(try StratifiedKFold.assign(labels: y, folds: 5) == (try Fixture.integers("folds.npy")))
        let yb = try Fixture.integers("probe_y_binary.npy")
        #expect(try StratifiedKFold.assign(labels: yb, folds: 5) == (try Fixture.integers("folds_binary.npy")))
        let y2 = try Fixture.integers("strat_y2.npy")
        let expected = try #require(try Fixture.value("stratified", "stratified_folds_y2") as? [Int])
        #expect(try StratifiedKFold.assign(labels: y2, folds: 4) == expected)
    }

    /// `wide` has more features than samples (80 × 300), which the probe fits from the Gram
    /// matrix rather than an SVD of the samples.
    @Test(arguments: ["multiclass", "binary", "wide"])
    func ridgeProbeMatchesRidgeClassifier(task: String) throws {
        let x = try Fixture.matrix(task == "wide" ? "probe_wide_X.npy" : "probe_X.npy")
        let y = try Fixture.integers(["binary": "probe_y_binary.npy", "wide": "probe_wide_y.npy"][task] ?? "probe_y.npy")
        let folds = try Fixture.integers(["binary": "folds_binary.npy", "wide": "folds_wide.npy"][task] ?? "folds.npy")
        let alphas = ["0.01", "1.0", "100.0"]
        let result = try LinearProbe.evaluate(x, labels: y, model: .ridge(alphas: alphas.map { Double($0)! }), folds: folds)
        for (k, alpha) in alphas.enumerated() {
            // Identical folds, identical predictions: one changed prediction would move an
            // accuracy by 1/30; the tolerance only absorbs the JSON parser's last-digit rounding.
            expectClose(result.scores[k].accuracies, try Fixture.numbers("ridge_probe", task, alpha, "fold_accuracies"), rtol: 1e-14)
            expectClose(result.scores[k].mean, try Fixture.number("ridge_probe", task, alpha, "mean"), rtol: 1e-14)
            expectClose(result.scores[k].standardDeviation, try Fixture.number("ridge_probe", task, alpha, "std"), rtol: 1e-12, atol: 1e-15)
        }
        // Fold 0 at α = 1: coefficients, intercept and decision values to 1e-8.
        let train = folds.indices.filter { folds[$0] != 0 }, test = folds.indices.filter { folds[$0] == 0 }
        let model = try RidgeClassifier(x: x.selectingRows(train), labels: train.map { y[$0] }, alpha: 1)
        expectClose(model.weights.transposed(), try Fixture.rows("ridge_probe", task, "1.0", "fold0", "coef"), rtol: 1e-8, atol: 1e-12)
        expectClose(model.intercept, try Fixture.numbers("ridge_probe", task, "1.0", "fold0", "intercept"), rtol: 1e-8, atol: 1e-12)
        let decision = model.decisionFunction(x.selectingRows(test))
        if task == "binary" {
            expectClose(decision.column(0), try Fixture.numbers("ridge_probe", task, "1.0", "fold0", "decision_function"), rtol: 1e-8, atol: 1e-12)
        } else {
            expectClose(decision, try Fixture.rows("ridge_probe", task, "1.0", "fold0", "decision_function"), rtol: 1e-8, atol: 1e-12)
        }
        let predicted = try #require(try Fixture.value("ridge_probe", task, "1.0", "fold0", "predict") as? [Int])
        #expect(model.predict(x.selectingRows(test)) == predicted)
        if task == "wide" {
            // The probe's own route: the fold's centred Gram and cross-Gram matrices taken
            // from one Gram matrix of all samples, centred on their mean.
            let gram = x.centeringColumns().outerGram()
            let encoding = try ClassEncoding(train.map { y[$0] }, context: "test")
            let path = try RidgePath(centredGram: LinearProbe.foldGram(gram, rows: train, training: train),
                                     codes: encoding.codes, classCount: encoding.classes.count)
            let z = path.decisions(cross: LinearProbe.foldGram(gram, rows: test, training: train), alphas: [1])[0]
            expectClose(z, try Fixture.rows("ridge_probe", task, "1.0", "fold0", "decision_function"), rtol: 1e-8, atol: 1e-12)
        }
    }

    @Test(arguments: ["multiclass", "binary"])
    func logisticProbeMatchesLogisticRegression(task: String) throws {
        let x = try Fixture.matrix("probe_X.npy")
        let y = try Fixture.integers(task == "binary" ? "probe_y_binary.npy" : "probe_y.npy")
        let folds = try Fixture.integers(task == "binary" ? "folds_binary.npy" : "folds.npy")
        let result = try LinearProbe.evaluate(x, labels: y, model: .logistic(c: [0.1, 1.0]), folds: folds)
        for (k, c) in ["0.1", "1.0"].enumerated() {
            expectClose(result.scores[k].accuracies, try Fixture.numbers("logistic_probe", task, c, "fold_accuracies"), rtol: 1e-14)
        }
        let train = folds.indices.filter { folds[$0] != 0 }, test = folds.indices.filter { folds[$0] == 0 }
        let model = try LogisticRegression(x: x.selectingRows(train), labels: train.map { y[$0] }, c: 1, tolerance: 1e-12,
                                           solver: .newton)
        #expect(model.converged)
        // The exact optimum (Newton to machine precision; the probe above takes L-BFGS for
        // the multiclass task's parameters) and scikit-learn's own stopping point.
        let fold0 = ["logistic_probe", task, "1.0", "fold0"]
        expectClose(model.weights.transposed(), try Fixture.rows(fold0[0], fold0[1], fold0[2], fold0[3], "coef_exact_optimum"), rtol: 1e-8, atol: 1e-10)
        expectClose(model.intercept, try Fixture.numbers(fold0[0], fold0[1], fold0[2], fold0[3], "intercept_exact_optimum"), rtol: 1e-8, atol: 1e-10)
        expectClose(model.probabilities(x.selectingRows(test)), try Fixture.rows(fold0[0], fold0[1], fold0[2], fold0[3], "predict_proba_exact_optimum"), rtol: 1e-8, atol: 1e-10)
        expectClose(model.weights.transposed(), try Fixture.rows(fold0[0], fold0[1], fold0[2], fold0[3], "coef"), rtol: 1e-4, atol: 1e-5)
    }

    @Test(arguments: ["multiclass", "binary"])
    func lbfgsReachesTheSameOptimumAsNewton(task: String) throws {
        let x = try Fixture.matrix("probe_X.npy")
        let y = try Fixture.integers(task == "binary" ? "probe_y_binary.npy" : "probe_y.npy")
        let folds = try Fixture.integers(task == "binary" ? "folds_binary.npy" : "folds.npy")
        let train = folds.indices.filter { folds[$0] != 0 }
        let model = try LogisticRegression(x: x.selectingRows(train), labels: train.map { y[$0] }, c: 1, tolerance: 1e-10, solver: .lbfgs)
        #expect(model.converged)
        // L-BFGS stops when the objective stops changing beyond rounding, which leaves the
        // parameters within ~√ε of the optimum: closer than scikit-learn's own stop (4e-7).
        expectClose(model.weights.transposed(), try Fixture.rows("logistic_probe", task, "1.0", "fold0", "coef_exact_optimum"), rtol: 1e-5, atol: 3e-7)
    }

    @Test func shuffledLabelControlFallsToChance() throws {
        let x = try Fixture.matrix("probe_X.npy"), y = try Fixture.integers("probe_y.npy")
        let result = try LinearProbe.evaluate(x, labels: y, model: .ridge(alphas: [1]), controlSeed: 3)
        let control = try #require(result.control)
        #expect(result.best.mean > 0.7)
        #expect(control.mean < result.chance + 0.15)
        #expect(result.chance == 60.0 / 150.0)
    }
}

import Analysis
import Foundation
import LinearAlgebra
import Testing

/// CCA family, Procrustes, RSA and k-NN alignment against NumPy/SciPy references.
@Suite struct OtherMeasureReferenceTests {
    @Test func ccaMatchesNumPy() throws {
        let result = try CCA.canonicalCorrelations(try Fixture.matrix("cca_X.npy"), try Fixture.matrix("cca_Y.npy"))
        expectClose(result.correlations, try Fixture.numbers("cca", "rho"), rtol: 1e-9, atol: 1e-10)
        expectClose(result.meanCorrelation, try Fixture.number("cca", "mean_rho"), rtol: 1e-9)
        expectClose(result.meanSquaredCorrelation, try Fixture.number("cca", "r2_cca"), rtol: 1e-9)
    }

    @Test func svccaKeepsTheSameDimensionsAndMatches() throws {
        let result = try CCA.svcca(try Fixture.matrix("svcca_X.npy"), try Fixture.matrix("svcca_Y.npy"), varianceKept: 0.99)
        #expect(Double(result.keptX) == (try Fixture.number("svcca", "kept_x")))
        #expect(Double(result.keptY) == (try Fixture.number("svcca", "kept_y")))
        expectClose(result.cca.correlations, try Fixture.numbers("svcca", "rho"), rtol: 1e-9, atol: 1e-10)
        expectClose(result.similarity, try Fixture.number("svcca", "mean_rho"), rtol: 1e-9)
    }

    @Test func pwccaMatchesMorcosDefinitionBothWays() throws {
        let x = try Fixture.matrix("cca_X.npy"), y = try Fixture.matrix("cca_Y.npy")
        let forward = try CCA.pwcca(x, y)
        expectClose(forward.similarity, try Fixture.number("pwcca", "value"), rtol: 1e-9)
        expectClose(forward.weights, try Fixture.numbers("pwcca", "weights"), rtol: 1e-7, atol: 1e-10)
        let backward = try CCA.pwcca(y, x)
        expectClose(backward.similarity, try Fixture.number("pwcca", "value_yx"), rtol: 1e-9)
    }

    @Test func ccaRefusesTooFewSamples() throws {
        let x = gaussianMatrix(20, 30, seed: 1), y = gaussianMatrix(20, 5, seed: 2)
        #expect(throws: AnalysisError.tooFewSamplesForCCA(samples: 20, features: 30, context: "CCA")) {
            try CCA.canonicalCorrelations(x, y)
        }
        // SVCCA reduces first and so works on the same data only if the kept dimensions fit.
        let error = #expect(throws: AnalysisError.self) { try CCA.canonicalCorrelations(x, y) }
        #expect(error?.description.contains("SVCCA") == true)
    }

    @Test func procrustesMatchesDefinitionAndSciPy() throws {
        let result = try Procrustes.compare(try Fixture.matrix("X.npy"), try Fixture.matrix("Y.npy"))
        expectClose(result.nuclearNorm, try Fixture.number("procrustes", "nuclear"), rtol: 1e-11)
        expectClose(result.squaredDistance, try Fixture.number("procrustes", "distance_squared"), rtol: 1e-10)
        expectClose(result.angularDistance, try Fixture.number("procrustes", "angular"), rtol: 1e-10)
        let x = try Fixture.matrix("X.npy")
        let same = try Procrustes.compare(x, x * Matrix(try Fixture.rows("cka", "R_orthogonal_12x12")))
        #expect(abs(same.squaredDistance) < 1e-12)
    }

    @Test func rsaMatchesSciPy() throws {
        let x = try Fixture.matrix("X.npy"), y = try Fixture.matrix("Y.npy")
        expectClose(try RSA.compare(x, y, metric: .correlation), try Fixture.number("rsa", "rsa_correlation_spearman"), rtol: 1e-10)
        expectClose(try RSA.compare(x, y, metric: .euclidean), try Fixture.number("rsa", "rsa_euclidean_spearman"), rtol: 1e-10)
        expectClose(try RSA.compare(x, y, metric: .correlation, comparison: .pearson), try Fixture.number("rsa", "rsa_correlation_pearson"), rtol: 1e-10)
        expectClose(Array(try RSA.dissimilarities(x, metric: .correlation).prefix(5)), try Fixture.numbers("rsa", "rdm_X_correlation_first5"), rtol: 1e-11)
        expectClose(Array(try RSA.dissimilarities(x, metric: .euclidean).prefix(5)), try Fixture.numbers("rsa", "rdm_X_euclidean_first5"), rtol: 1e-10)
    }

    @Test func spearmanAveragesTies() {
        #expect(Correlation.ranks([3, 1, 3, 2]) == [3.5, 1, 3.5, 2])
        #expect(abs(Correlation.spearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-15)
    }

    @Test func mutualKNNMatchesBruteForce() throws {
        let value = try NeighborAlignment.mutualKNN(try Fixture.matrix("X.npy"), try Fixture.matrix("Y.npy"), k: 5)
        expectClose(value, try Fixture.number("mutual_knn", "knn_k5"), rtol: 1e-14)
        let x = try Fixture.matrix("X.npy")
        #expect(try NeighborAlignment.mutualKNN(x, x, k: 5) == 1)
    }
}

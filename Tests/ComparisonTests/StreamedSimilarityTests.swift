import Activations
import Analysis
@testable import Comparison
import Foundation
import Probe
import Testing

/// A layer-by-layer similarity whose activations would not fit the memory budget is
/// streamed, with the numbers of the in-memory one.
@Suite struct StreamedSimilarityTests {
    static func plan() throws -> ComparisonPlan {
        let a = try ComparedModel.load(ComparisonPlanTests.root.appendingPathComponent("models/digits-plain-seed1.onnx"))
        let b = try ComparedModel.load(ComparisonPlanTests.root.appendingPathComponent("models/digits-residual-seed1.onnx"))
        var digits = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/digits.yaml").path, for: a.network)
            .slice(0..<300)
        digits.reduction = .mean
        var plan = ComparisonPlan(a: a, b: .network(b), probeSet: digits)
        plan.layersA = .names(ComparisonPlanTests.layers)
        plan.layersB = .names(ComparisonPlanTests.layers)
        return plan
    }

    static func expectSame(_ streamed: LayerSimilarity, _ inMemory: LayerSimilarity) {
        #expect(streamed.layersA == inMemory.layersA && streamed.layersB == inMemory.layersB)
        #expect(streamed.samples == inMemory.samples)
        let error = zip(streamed.values.joined(), inMemory.values.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error <= 1e-10, "largest difference \(error)")
    }

    @Test func overTheBudgetTheMatrixIsStreamedWithTheSameNumbers() throws {
        var plan = try Self.plan()
        let inMemory = try plan.similarity()
        // Five layers of 10–12 channels per model: 300 samples of A alone take 209 kB in
        // memory, the streamed co-moments (each layer's own and the 58 × 58 cross block) 38 kB.
        plan.memoryBudget = 150_000
        var heard: [String] = []
        let streamed = try plan.similarity(notice: { heard.append($0) })
        #expect(heard.contains { $0.contains("streaming linear CKA instead") }, "\(heard)")
        Self.expectSame(streamed, inMemory)

        plan.modelB = .same
        plan.memoryBudget = ActivationCollector.defaultMemoryLimit
        let selfInMemory = try plan.similarity()
        plan.memoryBudget = 150_000
        Self.expectSame(try plan.similarity(), selfInMemory)
    }

    @Test func whatCannotBeStreamedSaysWhy() throws {
        var plan = try Self.plan()
        plan.memoryBudget = 20_000
        #expect {
            try plan.similarity()
        } throws: { error in
            guard case ProbeError.streamTooWide = error else { return false }
            return error.localizedDescription.contains("116 features in all")
        }
        // The unbiased estimator is not streamed: the capture's own error stands.
        plan.memoryBudget = 150_000
        plan.cka = CKAOptions(estimator: .unbiased)
        #expect {
            try plan.similarity()
        } throws: { error in
            guard case ProbeError.captureTooLarge = error else { return false }
            return true
        }
    }
}

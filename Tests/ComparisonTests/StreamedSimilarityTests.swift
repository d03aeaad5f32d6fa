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
        // The RBF kernel is not streamed: the capture's own error stands.
        plan.memoryBudget = 150_000
        plan.cka = CKAOptions(kernel: .rbf(threshold: 0.5))
        #expect {
            try plan.similarity()
        } throws: { error in
            guard case ProbeError.captureTooLarge = error else { return false }
            return true
        }
    }

    @Test func theUnbiasedEstimatorStreamsAsMinibatchCKA() throws {
        var plan = try Self.plan()
        plan.cka = CKAOptions(estimator: .unbiased)
        plan.batchSize = 32
        plan.memoryBudget = 150_000
        var heard: [String] = []
        let streamed = try plan.similarity(notice: { heard.append($0) })
        #expect(heard.contains { $0.contains("streaming minibatch CKA instead (Nguyen et al. 2021") }, "\(heard)")
        // 300 inputs in batches of 32: the last batch of 12 counts too.
        #expect(streamed.samples == 300 && !heard.contains { $0.contains("leaves out") })

        // What MinibatchCKA gives for the activations in memory, fed in the same batches.
        plan.memoryBudget = ActivationCollector.defaultMemoryLimit
        let a = try plan.capture(plan.modelA, layers: plan.layersA, label: "A", progress: nil)
        guard case let .network(modelB) = plan.modelB else { Issue.record("B is a network"); return }
        let b = try plan.capture(modelB, layers: plan.layersB, label: "B", progress: nil)
        var reference = MinibatchCKA(layerNames: a.layerNames.map { "A.\($0)" } + b.layerNames.map { "B.\($0)" })
        for start in stride(from: 0, to: a.sampleCount, by: plan.batchSize) {
            let rows = Array(start..<min(a.sampleCount, start + plan.batchSize))
            try reference.update((a.layers + b.layers).map { $0.matrix.selectingRows(rows) })
        }
        let matrix = try reference.cka()
        #expect(streamed.layersA == a.layerNames && streamed.layersB == b.layerNames)
        let la = a.layerNames.count
        let error = streamed.values.enumerated().flatMap { i, row in row.enumerated().map { abs($1 - matrix[i, la + $0]) } }.max() ?? .infinity
        #expect(error <= 1e-12, "largest difference \(error)")
        // It estimates CKA: close to the unbiased CKA of all inputs at once, not equal.
        let whole = try plan.similarity()
        let gap = zip(whole.values.joined(), streamed.values.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(gap > 1e-6 && gap < 0.2, "minibatch against whole: \(gap)")
    }
}

import Activations
import Networks
import Report
@testable import Comparison
import Foundation
import Probe
import Testing

/// The receptive-field analysis runs the model once over the gratings when the V1
/// comparison is on them too; the numbers are those of the two separate runs.
@Suite struct ReceptiveFieldAnalysisTests {
    static let model = ComparisonPlanTests.root.appendingPathComponent("models/digits-plain-seed1.onnx")
    static let layers = ["stem.0", "layer1", "pool2", "fc"]

    @Test func onePassOverTheGratingsGivesTheNumbersOfTwo() throws {
        let model = try ComparedModel.load(Self.model)
        var settings = ReceptiveFieldAnalysis.Settings()
        settings.layers = .names(Self.layers)
        let analysis = ReceptiveFieldAnalysis(settings: settings)
        let gratings = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/gratings.yaml").path, for: model.network)
        var inputs = gratings
        inputs.reduction = .mean
        #expect(analysis.sharedLayers(gratings: gratings, inputs: inputs) != nil)
        let fused = try analysis.run(model, gratings: gratings, inputs: inputs)
        let tuning = try analysis.tuning(model, gratings: gratings)
        let v1 = try analysis.v1Similarity(model, inputs: inputs)
        #expect(fused.tuning?.layers.map(\.layer) == Self.layers)
        #expect(fused.tuning == tuning)
        #expect(fused.v1 == v1)
        #expect(fused.v1?.reduction == "mean" && fused.tuning?.reduction == "center")

        // Other stimuli for the comparison need their own run.
        var noise = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/noise.yaml").path, for: model.network)
        noise.reduction = .mean
        #expect(analysis.sharedLayers(gratings: gratings, inputs: noise) == nil)
    }

    @Test func severalReductionsOfOnePassEqualSeparateCaptures() throws {
        let model = try ComparedModel.load(Self.model)
        var gratings = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/gratings.yaml").path, for: model.network)
        gratings.batchSize = 20
        let reductions: [Reduction] = [.center, .max, .project(dimensions: 7, seed: 3)]
        let together = try ModelCapture.captures(model, probeSet: gratings, layers: .names(Self.layers), reductions: reductions,
                                                 label: "gratings", progress: nil)
        #expect(together.count == reductions.count)
        for (capture, reduction) in zip(together, reductions) {
            var alone = gratings
            alone.reduction = reduction
            let separate = try ModelCapture(model, probeSet: alone, layers: .names(Self.layers), label: "gratings", progress: nil)
            #expect(capture.layerNames == Self.layers)
            #expect(capture.layers.map(\.matrix) == separate.layers.map(\.matrix), "\(reduction)")
        }
    }
}

/// A layer identical on every input (a dead layer, or a squeeze-and-excitation gate that
/// random weights leave at one value) has no similarity with anything: a comparison leaves
/// it out and says so, and the V1 comparison leaves its entries empty.
@Suite struct ConstantLayerTests {
    /// The shipped digit network with the classifier's weights set to zero: its output is
    /// the bias, whatever the input.
    static func deadClassifier() throws -> ComparedModel {
        var model = try ComparedModel.load(ReceptiveFieldAnalysisTests.model)
        var graph = model.loaded.graph
        let weight = try #require(graph.initializers["fc.weight"])
        graph.initializers["fc.weight"] = Tensor(shape: weight.shape, elements: [Float](repeating: 0, count: weight.count))
        model.loaded.network = try Network(graph: graph, file: model.network.file)
        model.loaded.graph = graph
        return model
    }

    @Test func aComparisonLeavesConstantLayersOutAndListsThem() throws {
        let dead = try Self.deadClassifier()
        let other = try ComparedModel.load(ComparisonPlanTests.root.appendingPathComponent("models/digits-residual-seed1.onnx"))
        var digits = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/digits.yaml").path, for: dead.network)
            .slice(0..<60)
        digits.reduction = .mean
        var plan = ComparisonPlan(a: dead, b: .network(other), probeSet: digits)
        plan.layersA = .names(["stem", "layer1", "fc"])
        plan.layersB = .names(["stem", "layer1", "fc"])
        plan.bootstrapResamples = 0
        plan.randomBaseline = false
        var heard: [String] = []
        let results = try plan.run { heard.append($0) }
        #expect(results.cka.layersA == ["stem", "layer1"] && results.cka.layersB == ["stem", "layer1", "fc"])
        #expect(results.checks.constantLayersA == ["fc"] && results.checks.constantLayersB == nil)
        #expect(heard.contains { $0.contains("identical on every input: fc") })
        let report = ComparisonReport(results).markdown()
        #expect(report.contains("Left out of A, identical on every input of the probe set"), "\(report.prefix(2000))")

        // The table alone keeps the layer, with no values.
        let table = try plan.similarity()
        #expect(table.layersA == ["stem", "layer1", "fc"] && table.values[2].allSatisfy { $0.isNaN })
        #expect(table.values[0].allSatisfy { $0.isFinite })

        // A model whose every compared layer is constant has nothing to compare.
        plan.layersA = .names(["fc"])
        #expect(throws: ProbeError.self) { try plan.run() }
    }

    @Test func theV1ComparisonLeavesConstantLayersEmpty() throws {
        let dead = try Self.deadClassifier()
        var settings = ReceptiveFieldAnalysis.Settings()
        settings.layers = .names(["stem.0", "fc"])
        let gratings = try ProbeSet.load(ComparisonPlanTests.root.appendingPathComponent("probes/gratings.yaml").path, for: dead.network)
        let results = try ReceptiveFieldAnalysis(settings: settings).run(dead, gratings: gratings)
        let v1 = try #require(results.v1)
        #expect(v1.layers == ["stem.0", "fc"])
        #expect(v1.simple[0] != nil && v1.simple[1] == nil && v1.complex[1] == nil)
        #expect(results.tuning?.layers.last?.responsive.allSatisfy { !$0 } == true)
    }
}

import Activations
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

import Activations
import Analysis
@testable import Comparison
import Foundation
import LinearAlgebra
import Probe
import Report
import Results
import Testing

/// The comparison pipeline called from Swift: what it captures, that every statistic uses
/// the plan's CKA options, slices, and results that render again to the same report.
@Suite struct ComparisonPlanTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let layers = ["stem", "layer1", "pool1", "layer2", "fc"]

    /// The shipped plain and residual digit networks on 80 held-out digits.
    static func plan() throws -> ComparisonPlan {
        let a = try ComparedModel.load(root.appendingPathComponent("models/digits-plain-seed1.onnx"))
        let b = try ComparedModel.load(root.appendingPathComponent("models/digits-residual-seed1.onnx"))
        var digits = try ProbeSet.load(root.appendingPathComponent("probes/digits.yaml").path, for: a.network).slice(0..<80)
        digits.reduction = .mean
        var plan = ComparisonPlan(a: a, b: .network(b), probeSet: digits)
        plan.layersA = .names(layers)
        plan.layersB = .names(layers)
        plan.bootstrapResamples = 50
        plan.randomBaseline = false
        return plan
    }

    /// The plan's own captures of A and B.
    static func captures(_ plan: ComparisonPlan) throws -> (a: [Matrix<Double>], b: [Matrix<Double>]) {
        let set = try plan.probeSet()
        let b = try #require(plan.modelB.network)
        return (try ModelCapture(plan.modelA, probeSet: set, layers: plan.layersA, label: "A", progress: nil).layers.map(\.matrix),
                try ModelCapture(b, probeSet: set, layers: plan.layersB, label: "B", progress: nil).layers.map(\.matrix))
    }

    @Test func theMatrixIsCKAOfTheCapturedLayers() throws {
        let plan = try Self.plan()
        let results = try plan.run()
        let (a, b) = try Self.captures(plan)
        let expected = try CKAMatrix.compute(a, b)
        #expect(results.cka.layersA == Self.layers && results.cka.layersB == Self.layers)
        for i in 0..<a.count { for j in 0..<b.count { #expect(results.cka.values[i][j] == expected[i, j]) } }
        // The table alone is the same numbers.
        let table = try plan.similarity()
        #expect(table.values == results.cka.values && table.samples == 80)
    }

    @Test func intervalsAndInfluencesUseThePlansEstimator() throws {
        var plan = try Self.plan()
        plan.cka = CKAOptions(estimator: .unbiased)
        plan.confidence = 0.9
        let results = try plan.run()
        let (a, b) = try Self.captures(plan)
        for (i, match) in results.correspondences.enumerated() {
            let j = try #require(Self.layers.firstIndex(of: match.bestMatch))
            // To rounding: OpenBLAS's products round differently with another thread count,
            // and a test running beside this one may set it for a small factorisation.
            let cka = try CKA.linear(a[i], b[j], estimator: .unbiased)
            #expect(abs(match.cka - cka) <= 1e-12 * abs(cka))
            let interval = try CKAResampling.bootstrap(a[i], b[j], estimator: .unbiased, resamples: 50, confidence: 0.9, seed: plan.seed)
            let (lower, upper) = (try #require(match.lower), try #require(match.upper))
            #expect(abs(lower - interval.lower) <= 1e-12 * abs(interval.lower) && abs(upper - interval.upper) <= 1e-12 * abs(interval.upper))
        }
        let sample = try #require(results.influentialSamples.first)
        let i = try #require(Self.layers.firstIndex(of: sample.layerA)), j = try #require(Self.layers.firstIndex(of: sample.layerB))
        let without = try CKAResampling.leaveOneOut(a[i], b[j], estimator: .unbiased)
        #expect(without[sample.sample] == sample.ckaWithout)
        #expect(results.provenance.estimator == "unbiased" && results.provenance.confidence == 0.9)
    }

    @Test func theReportSaysHowManyFoldsTheProbesUsed() throws {
        var plan = try Self.plan()
        plan.probeFolds = 4
        let results = try plan.run()
        #expect(results.provenance.probeFolds == 4)
        let report = ComparisonReport(results, includeTiming: false)
        #expect(report.markdown().contains("(4 stratified folds;") && !report.markdown().contains("5 stratified folds"))
        let chart = try #require(report.figures().first { $0.name == "probe_accuracy.svg" })
        #expect(chart.svg.contains("accuracy (4-fold)"))
    }

    @Test func float32PrecisionRunsTheProductsInFloat() throws {
        var plan = try Self.plan()
        plan.cka.precision = .float32
        let results = try plan.run()
        let (a, b) = try Self.captures(plan)
        let expected = try CKAMatrix.compute(a.map { $0.converted(to: Float.self) }, b.map { $0.converted(to: Float.self) })
        for i in 0..<a.count { for j in 0..<b.count { #expect(results.cka.values[i][j] == expected[i, j]) } }
        #expect(results.provenance.dtype.contains("float32 CKA products"))
    }

    @Test func aSliceIsThePlanOnFewerSamples() throws {
        let plan = try Self.plan()
        let slice = try plan.sliced(10..<50)
        let table = try slice.similarity()
        #expect(table.samples == 40)
        var direct = plan
        direct.inputs = .probeSet(try plan.probeSet().slice(10..<50))
        #expect(try direct.similarity().values == table.values)
        #expect(throws: ProbeError.self) { try plan.sliced(70..<90) }
    }

    @Test func aModelAgainstItselfIsTheSymmetricMatrix() throws {
        var plan = try Self.plan()
        plan.modelB = .same
        let table = try plan.similarity()
        for i in Self.layers.indices {
            #expect(table.values[i][i] == 1)
            for j in Self.layers.indices { #expect(table.values[i][j] == table.values[j][i]) }
        }
    }

    @Test func resultsRenderAgainToTheSameReport() throws {
        let results = try Self.plan().run()
        let report = ComparisonReport(results, includeTiming: false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try report.write(to: folder)
        let read = try AnyResults.read(folder.appendingPathComponent("results.json"))
        guard case let .comparison(decoded) = read else {
            Issue.record("results.json did not read back as a comparison")
            return
        }
        #expect(decoded.format == ResultsFormat(kind: .comparison))
        let again = try read.report(includeTiming: false).files()
        let first = try report.files()
        #expect(again.map(\.name) == first.map(\.name))
        for (x, y) in zip(first, again) { #expect(x.contents == y.contents, "\(x.name) differs") }
    }

    @Test func resultsOfANewerFormatAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-format-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let newer = folder.appendingPathComponent("results.json")
        try Data(#"{"format": {"kind": "comparison", "version": 99}, "model_a": "a"}"#.utf8).write(to: newer)
        #expect(throws: ResultsError(file: newer.path, problem: "holds comparison results of format version 99; this repprobe reads up to version 1")) {
            try AnyResults.read(newer)
        }
        let other = folder.appendingPathComponent("other.json")
        try Data(#"{"hello": 1}"#.utf8).write(to: other)
        #expect(throws: ResultsError.self) { try AnyResults.read(other) }
        // Nested past any parser's depth, a header that names the wrong kind, a version past Int.
        let deep = folder.appendingPathComponent("deep.json")
        try Data(("{\"model_a\": " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").utf8).write(to: deep)
        #expect(throws: ResultsError.self) { try AnyResults.read(deep) }
        let lying = folder.appendingPathComponent("lying.json")
        try Data(#"{"format": {"kind": "training", "version": 1}, "model_a": "a", "model_b": "b"}"#.utf8).write(to: lying)
        #expect(throws: ResultsError.self) { try AnyResults.read(lying) }
        let huge = folder.appendingPathComponent("huge.json")
        try Data(#"{"format": {"kind": "comparison", "version": 1e400}}"#.utf8).write(to: huge)
        #expect(throws: ResultsError.self) { try AnyResults.read(huge) }
        #expect(throws: ResultsError.self) { try AnyResults.read(folder.appendingPathComponent("missing.json")) }
        let truncated = folder.appendingPathComponent("truncated.json")
        try Data(#"{"format": {"kind": "comparison", "version": 1}, "model_a": "a""#.utf8).write(to: truncated)
        #expect(throws: ResultsError.self) { try AnyResults.read(truncated) }
    }
}

import Foundation
import RepProbeKit
import Testing

/// The README's "From Swift" example, compiled and run: hook two layers, run with a cache,
/// CKA. The three lines below are the README's, verbatim (a test checks that they still are).
@Suite struct FromSwiftExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The example's body; `images` is a `[N, 1, 16, 16]` tensor of digits for the model at `url`.
    static func example(_ url: URL, _ images: Tensor) throws -> Double {
        // README begin
        let model = HookedNetwork(try ModelLoader.load(url).network)
        let (_, cache) = try model.runWithCache(["input": images], names: .names(["layer1", "layer2"]))
        let similarity = try CKA.linear(cache.matrix("layer1", reduction: .mean), cache.matrix("layer2", reduction: .mean))
        // README end
        return similarity
    }

    static func digits() throws -> ProbeSet {
        var probeSet = try ProbeSet.load(root.appendingPathComponent("probes/digits.yaml").path, inputShape: [1, 16, 16])
        probeSet.reduction = .mean
        return probeSet
    }

    @Test func theExampleGivesTheCKAOfACapture() throws {
        let probeSet = try Self.digits()
        let similarity = try Self.example(Self.root.appendingPathComponent("models/digits-plain-seed1.onnx"), probeSet.inputs)
        // The same two layers through the streaming capture, reduced batch by batch.
        let network = try ModelLoader.load(Self.root.appendingPathComponent("models/digits-plain-seed1.onnx")).network
        let collector = ActivationCollector()
        try Capture.run(HookedNetwork(network), inputs: ["input": TensorInputs(probeSet.inputs)],
                        settings: .init(layers: .names(["layer1", "layer2"]), reduction: .mean, batchSize: 50), into: collector)
        let captured = try collector.activationSet(source: "capture")
        let reference = try CKA.linear(captured.layers[0].matrix, captured.layers[1].matrix)
        #expect(abs(similarity - reference) < 1e-12)
        #expect(similarity > 0.1 && similarity < 1)
    }

    @Test func theCacheGivesFloatMatricesForEveryKernel() throws {
        let probeSet = try Self.digits()
        let model = HookedNetwork(try ModelLoader.load(Self.root.appendingPathComponent("models/digits-plain-seed1.onnx")).network)
        let (_, cache) = try model.runWithCache(["input": probeSet.inputs], names: .names(["stem", "layer1"]))
        let a = try cache.matrix("stem", reduction: .mean, as: Float.self), b = try cache.matrix("layer1", reduction: .mean, as: Float.self)
        #expect(a.rows == probeSet.inputs.shape[0] && b.rows == a.rows)
        let double = (try cache.matrix("stem", reduction: .mean), try cache.matrix("layer1", reduction: .mean))
        #expect(abs(try CKA.linear(a, b) - CKA.linear(double.0, double.1)) < 1e-5)
        #expect(abs(try CKA.rbf(a, b, threshold: 0.8) - CKA.rbf(double.0, double.1, threshold: 0.8)) < 1e-5)
        #expect(throws: ProbeError.self) { try cache.matrix("layer2", reduction: .mean) }
    }

    @Test func theReadmeShowsTheseLines() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        guard let begin = source.range(of: "// README begin\n"), let end = source.range(of: "        // README end") else {
            Issue.record("the example's markers are gone")
            return
        }
        let lines = source[begin.upperBound..<end.lowerBound].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.count == 3)
        for line in lines { #expect(readme.contains(line + "\n"), "README lacks: \(line)") }
    }
}

import Foundation
import Analysis
import Formats
import Networks
import Probe
import Testing

/// Small PyTorch models, their ONNX exports (TorchScript and dynamo exporters) and
/// reference activations from onnxruntime and PyTorch forward hooks
/// (Tests/Fixtures/networks/make_network_fixtures.py).
@Suite struct NetworkFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/networks")
    static let models = ["mlp", "cnn", "resnet", "transformer", "upsample"]

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: url("expected.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func arrays(_ name: String) throws -> [String: Tensor] {
        var table: [String: Tensor] = [:]
        for (key, array) in try ArrayFile.read(url(name)) { table[key] = Tensor(array) }
        return table
    }

    static func input(_ model: String) throws -> Tensor { Tensor(try NPY.read(url("\(model)_input.npy"))) }

    /// `nil` if `actual` matches `reference` in type and shape and within
    /// `max|a − b| ≤ 1e-4 · max|reference| + 1e-6` (integers exactly).
    static func mismatch(_ actual: Tensor, _ reference: Tensor) -> String? {
        guard actual.shape == reference.shape else { return "shape \(actual.shape), expected \(reference.shape)" }
        switch (actual.storage, reference.storage) {
        case let (.float32(a), .float32(b)):
            let scale = b.map { abs(Double($0)) }.max() ?? 0
            let error = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
            return error <= 1e-4 * scale + 1e-6 ? nil : "max error \(error) at scale \(scale)"
        case let (.int64(a), .int64(b)): return a == b ? nil : "integers differ"
        case let (.bool(a), .bool(b)): return a == b ? nil : "booleans differ"
        default: return "type \(actual.dataType), expected \(reference.dataType)"
        }
    }

    @Test(arguments: models.flatMap { [($0, "\($0).onnx", "\($0)_ort.npz"), ($0, "\($0)_dynamo.onnx", "\($0)_dynamo_ort.npz")] })
    func everyNodeOutputMatchesOnnxruntime(model: String, file: String, reference: String) throws {
        let graph = try ONNXImporter.load(Self.url(file))
        let network = try Network(graph: graph, file: file)
        let expected = try Self.arrays(reference)
        let inputName = try #require(graph.inputs.first?.name)
        let names = Set(network.tensorNames).intersection(expected.keys)
        #expect(names.count >= expected.count - 1, "\(file): \(expected.count - names.count) reference tensors have no counterpart")
        let results = try network.run([inputName: try Self.input(model)], keeping: names)
        var compared = 0
        for name in names.sorted() {
            guard let reference = expected[name], let actual = results[name] else { continue }
            if let problem = Self.mismatch(actual, reference) {
                Issue.record("\(file) tensor '\(name)': \(problem)")
            }
            compared += 1
        }
        #expect(compared == names.count)
    }

    @Test(arguments: models)
    func modulePathsNameTheTensorsPyTorchHooksSee(model: String) throws {
        let expected = try Self.expected()
        for (exporter, suffix) in [("torchscript", ""), ("dynamo", "_dynamo")] {
            let entry = try #require((expected[model] as? [String: Any])?[exporter] as? [String: Any])
            let modules = try #require(entry["modules"] as? [String: Any])
            let network = try Network(graph: try ONNXImporter.load(Self.url("\(model)\(suffix).onnx")), file: "\(model)\(suffix).onnx")
            let catalog = LayerCatalog(network)
            var checked = 0
            for (module, value) in modules {
                guard let info = value as? [String: Any], let tensor = info["tensor"] as? String else { continue }
                let matches = (info["all_matches"] as? [String]) ?? [tensor]
                let resolved = try? catalog.tensor(for: module)
                #expect(resolved.map(matches.contains) == true,
                        "\(model)\(suffix): module '\(module)' resolves to \(resolved ?? "nothing"), PyTorch's hook output is \(tensor)")
                checked += 1
            }
            if exporter == "torchscript" { #expect(checked == modules.count && checked > 0) }
        }
    }

    @Test(arguments: models)
    func cachedActivationsEqualPyTorchForwardHooks(model: String) throws {
        let network = try Network(graph: try ONNXImporter.load(Self.url("\(model).onnx")), file: "\(model).onnx")
        let hooked = HookedNetwork(network)
        let hooks = try Self.arrays("\(model)_hooks.npz")
        let (_, cache) = try hooked.runWithCache(["input": try Self.input(model)], names: .names(hooks.keys.sorted()))
        for (module, reference) in hooks {
            let actual = try #require(cache[module], "\(module) not cached")
            if let problem = Self.mismatch(actual, reference) { Issue.record("\(model) module '\(module)': \(problem)") }
        }
    }

    /// A second state dict of the same architecture, swapped into the TorchScript export by
    /// initializer name, gives PyTorch's forward-hook activations for those weights.
    @Test(arguments: models)
    func stateDictSwappedIntoTheGraphGivesPyTorchActivations(model: String) throws {
        let loaded = try ModelLoader.load(Self.url("\(model)_alt.pt"), graph: Self.url("\(model).onnx"))
        #expect(loaded.kind == .pytorch)
        let report = try #require(loaded.weightReport)
        #expect(report.unmatchedInitializers.isEmpty, "\(report.summary)")
        #expect(report.unusedKeys.allSatisfy { $0.hasSuffix("num_batches_tracked") }, "\(report.summary)")
        let hooked = HookedNetwork(loaded.network)
        let hooks = try Self.arrays("\(model)_alt_hooks.npz")
        let (_, cache) = try hooked.runWithCache(["input": try Self.input(model)], names: .names(hooks.keys.sorted()))
        for (module, reference) in hooks {
            let actual = try #require(cache[module])
            if let problem = Self.mismatch(actual, reference) { Issue.record("\(model) alt weights, module '\(module)': \(problem)") }
        }
    }

    @Test func lightningCheckpointSwapsInAfterItsPrefix() throws {
        let loaded = try ModelLoader.load(Self.url("cnn_lightning.ckpt"), graph: Self.url("cnn.onnx"))
        let report = try #require(loaded.weightReport)
        #expect(report.strippedPrefix == "model.")
        #expect(report.unmatchedInitializers.isEmpty)
        let hooks = try Self.arrays("cnn_lightning_hooks.npz")
        let (_, cache) = try HookedNetwork(loaded.network).runWithCache(["input": try Self.input("cnn")], names: .names(hooks.keys.sorted()))
        for (module, reference) in hooks {
            let actual = try #require(cache[module])
            if let problem = Self.mismatch(actual, reference) { Issue.record("Lightning, module '\(module)': \(problem)") }
        }
    }

    @Test func stateDictOfAnotherArchitectureIsRefusedNamingBothShapes() throws {
        #expect {
            _ = try ModelLoader.load(Self.url("resnet_alt.pt"), graph: Self.url("cnn.onnx"))
        } throws: { error in
            guard case let NetworkError.weightMismatch(file, problem) = error else { return false }
            return file.hasSuffix("resnet_alt.pt") && problem.contains("shape")
        }
    }
}

@Suite struct StreamingCaptureTests {
    /// Linear CKA streamed from the forward pass, batch by batch, is the CKA of the whole
    /// capture held in memory.
    @Test func streamedCKAIsTheInMemoryMatrix() throws {
        let model = HookedNetwork(try Network(graph: try ONNXImporter.load(NetworkFixtureTests.url("resnet.onnx")), file: "resnet.onnx"))
        var generator = SeededGenerator(seed: 12)
        let images = Tensor(shape: [45, 3, 16, 16], elements: (0..<(45 * 768)).map { _ in Float(generator.nextGaussian()) })
        let settings = Capture.Settings(layers: .names(["layer1.0", "layer2.0", "fc"]), reduction: .mean, batchSize: 8)
        let sink = StreamingCKASink(), collector = ActivationCollector()
        try Capture.run(model, inputs: ["input": TensorInputs(images)], settings: settings, into: sink)
        try Capture.run(model, inputs: ["input": TensorInputs(images)], settings: settings, into: collector)
        let accumulator = try #require(sink.accumulator)
        #expect(accumulator.samples == 45 && accumulator.layerNames == ["layer1.0", "layer2.0", "fc"])
        let expected = try CKAMatrix.compute(try collector.activationSet(source: "memory").layers.map(\.matrix))
        let streamed = try accumulator.cka()
        for (a, b) in zip(streamed.storage, expected.storage) { #expect(abs(a - b) <= 1e-10) }
    }
}

@Suite struct MinibatchCaptureTests {
    @Test func twoExportsOfOneModelAgreeLayerForLayerInStreamedCKA() throws {
        let a = HookedNetwork(try Network(graph: try ONNXImporter.load(NetworkFixtureTests.url("resnet.onnx")), file: "resnet.onnx"))
        let b = HookedNetwork(try Network(graph: try ONNXImporter.load(NetworkFixtureTests.url("resnet_dynamo.onnx")), file: "resnet_dynamo.onnx"))
        var generator = SeededGenerator(seed: 11)
        let images = Tensor(shape: [18, 3, 16, 16], elements: (0..<(18 * 768)).map { _ in Float(generator.nextGaussian()) })
        let layers = ["layer1.0", "layer2.0", "fc"]
        let sink = MinibatchCKASink()
        let names = try Capture.run(
            [Capture.Part(label: "A", model: a, layers: .names(layers)), Capture.Part(label: "B", model: b, layers: .names(layers))],
            inputs: ["input": TensorInputs(images)], settings: Capture.Settings(reduction: .flatten, batchSize: 8), into: sink)
        #expect(names == ["A.layer1.0", "A.layer2.0", "A.fc", "B.layer1.0", "B.layer2.0", "B.fc"])
        #expect(sink.accumulator.batches == 2 && sink.skippedSamples == 2)
        let cka = try sink.accumulator.cka()
        for i in 0..<3 { #expect(abs(cka[i, i + 3] - 1) < 1e-4, "\(layers[i])") }
        #expect(cka[0, 5] < 0.999)
    }
}

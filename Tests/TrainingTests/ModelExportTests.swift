import Foundation
import Networks
import Testing
@testable import Training

/// A model built here leaves as a graph that the runtime runs to the same logits, as a
/// checkpoint that loads back, and it takes in the weights of the shipped PyTorch-trained
/// digit networks name for name.
@Suite struct ModelExportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    static func images(_ count: Int, seed: UInt64) -> [Float] {
        GradientCheckTests.values(count * 256, seed: seed).map { ($0 + 1) / 2 }
    }

    static func inferenceLogits(_ model: Model, _ input: [Float], batch: Int) -> [Float] {
        model.logits(input, batch: batch, on: Tape(training: false)).values
    }

    static func runtimeLogits(_ network: Network, _ input: [Float], batch: Int) throws -> [Float] {
        let outputs = try network.run([Model.inputName: Tensor(shape: [batch, 1, 16, 16], elements: input)])
        return try #require(outputs[Model.outputName]?.floats)
    }

    @Test func logitsOfATensorAreThoseOfItsValues() throws {
        let model = Architectures.digitNet(residual: true, seed: 4)
        let values = Self.images(3, seed: 8)
        let fromTensor = try model.logits(Tensor(shape: [3, 1, 16, 16], elements: values), on: Tape(training: false)).values
        #expect(fromTensor == Self.inferenceLogits(model, values, batch: 3))
        #expect(throws: TrainingError.self) { try model.logits(Tensor(shape: [3, 16, 16], elements: values), on: Tape(training: false)) }
        #expect(throws: TrainingError.self) {
            try model.logits(Tensor(shape: [3, 1, 16, 16], elements: values.map(Double.init)), on: Tape(training: false))
        }
    }

    /// The architectures by name, with their parameter counts (DigitNet's is that of the
    /// PyTorch module; Tiny-10's is counted from its table: 84 880 convolution weights,
    /// 640 normalisation weights and biases, a 64 → 10 classifier).
    static let architectures: [String: (build: @Sendable (UInt64) -> Model, parameters: Int)] = [
        "plain": ({ Architectures.digitNet(residual: false, seed: $0) }, 11_014),
        "residual": ({ Architectures.digitNet(residual: true, seed: $0) }, 11_014),
        "tiny-10": ({ Architectures.tiny10(seed: $0) }, 86_170),
    ]

    @Test(arguments: ["plain", "residual", "tiny-10"])
    func exportedGraphRunsToTheSameLogits(architecture: String) throws {
        let (build, parameterCount) = try #require(Self.architectures[architecture])
        let model = build(7)
        // A few training steps, so that the running statistics are not the initial ones.
        let optimiser = SGD(learningRate: 0.05, momentum: 0.9)
        for step in 0..<3 {
            model.parameters.forEach { $0.zeroGradient() }
            let tape = Tape(training: true)
            let loss = model.logits(Self.images(8, seed: UInt64(step)), batch: 8, on: tape)
                .softmaxCrossEntropy(labels: [0, 1, 2, 3, 4, 5, 6, 7])
            tape.backward(from: loss)
            optimiser.step(model.parameters)
        }
        let input = Self.images(5, seed: 42)
        let expected = Self.inferenceLogits(model, input, batch: 5)
        let actual = try Self.runtimeLogits(try model.network(), input, batch: 5)
        PyTorchReferenceTests.expectClose(actual, expected, "runtime logits", relative: 1e-5)
        #expect(model.parameterCount == parameterCount)
    }

    @Test func tiny10HasThePapersLayers() throws {
        let network = try Architectures.tiny10(seed: 1).network()
        let shapes = try network.run([Model.inputName: Tensor(shape: [2, 1, 16, 16], elements: Self.images(2, seed: 3))],
                                     keeping: Set((1...8).map { "/conv\($0)/conv\($0).2/Relu_output_0" }))
        // Channels 16, 16, 32, 32, 32, 64, 64, 64; strides halve the side twice, the
        // unpadded convolution takes 4 × 4 to 2 × 2, and the 1 × 1 keeps it.
        #expect((1...8).map { shapes["/conv\($0)/conv\($0).2/Relu_output_0"]?.shape ?? [] } == [
            [2, 16, 16, 16], [2, 16, 16, 16], [2, 32, 8, 8], [2, 32, 8, 8],
            [2, 32, 8, 8], [2, 64, 4, 4], [2, 64, 2, 2], [2, 64, 2, 2],
        ])
    }

    @Test func checkpointRoundTripsThroughTheLoader() throws {
        let model = Architectures.digitNet(residual: true, seed: 3)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model.ckpt")
        try model.writeCheckpoint(to: file)

        let input = Self.images(4, seed: 5)
        let loaded = try ModelLoader.load(file)
        let fromFile = try Self.runtimeLogits(loaded.network, input, batch: 4)
        PyTorchReferenceTests.expectClose(fromFile, Self.inferenceLogits(model, input, batch: 4), "checkpoint logits", relative: 1e-5)
        // Module paths survive: the runtime finds layers by the names PyTorch would give.
        #expect(loaded.network.graph.nodes.contains { $0.modulePath == "layer1.0.conv1" })

        let copy = Architectures.digitNet(residual: true, seed: 99)
        try copy.load(from: file)
        #expect(Self.inferenceLogits(copy, input, batch: 4) == Self.inferenceLogits(model, input, batch: 4))
    }

    @Test(arguments: ["digits-plain-seed1", "digits-residual-seed1"])
    func shippedPyTorchModelsLoadNameForName(name: String) throws {
        let file = Self.root.appendingPathComponent("models/\(name).onnx")
        let model = Architectures.digitNet(residual: name.contains("residual"), seed: 0)
        try model.load(from: file)
        let input = Self.images(6, seed: 11)
        let onnx = try Self.runtimeLogits(try ModelLoader.load(file).network, input, batch: 6)
        PyTorchReferenceTests.expectClose(Self.inferenceLogits(model, input, batch: 6), onnx, "logits against the ONNX export",
                                          relative: 1e-5)
    }

    @Test func loadingNamesWhatIsMissingOrMisshapen() throws {
        let model = Architectures.digitNet(residual: false, seed: 0)
        #expect(throws: TrainingError.self) {
            _ = try model.body.load(["fc.weight": [1, 2, 3]])
        }
        let wider = Architectures.digitNet(residual: false, width: 16, seed: 0)
        let file = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx")
        do {
            try wider.load(from: file)
            Issue.record("a model of another width loaded")
        } catch let error as TrainingError {
            #expect(error.description.contains("stem.0.weight"))
        }
    }
}

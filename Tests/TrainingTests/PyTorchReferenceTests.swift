import Analysis
import Formats
import Foundation
import Testing
@testable import Training

/// The same networks, weights and batches as PyTorch
/// (`Tests/Fixtures/training/make_training_reference.py`): the forward pass, the gradient
/// of every parameter and of the input, batch normalisation's running statistics, and two
/// steps of SGD with momentum and of Adam.
@Suite struct PyTorchReferenceTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/training/training_reference.npz").standardized

    static let arrays: [String: NumericArray] = {
        guard let entries = try? NPZ.read(fixture) else { return [:] }
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.array) })
    }()

    static func floats(_ key: String) throws -> [Float] {
        try #require(arrays[key], "no \(key) in the fixture").floats()
    }

    /// The Swift twin of the fixture's `mixed` network.
    static func mixed() -> Model {
        var generator = SeededGenerator(seed: 0)
        let body = Sequential("", [
            Conv2D("0", inputs: 3, outputs: 4, kernel: 3, stride: 2, padding: 1, generator: &generator),
            Function("1", .gelu), Function("2", .averagePool(kernel: 2, stride: 2)),
            Conv2D("3", inputs: 4, outputs: 6, kernel: 3, padding: 1, bias: false, generator: &generator),
            BatchNorm("4", channels: 6), Function("5", .relu), Function("6", .maxPool(kernel: 3, stride: 2)),
            Function("7", .flatten), Dense("8", inputs: 6, outputs: 5, generator: &generator),
        ])
        return Model(architecture: "mixed", body: body, inputShape: [3, 12, 12])
    }

    static func model(_ name: String) -> Model {
        switch name {
        case "digits_plain": Architectures.digitNet(residual: false, seed: 0)
        case "digits_residual": Architectures.digitNet(residual: true, seed: 0)
        default: mixed()
        }
    }

    /// The model with the fixture's weights, and the fixture's batch.
    static func prepared(_ name: String) throws -> (Model, input: [Float], batch: Int, labels: [Int]) {
        let model = Self.model(name)
        var values: [String: [Float]] = [:]
        for (key, array) in arrays where key.hasPrefix("\(name)/param/") {
            values[String(key.dropFirst("\(name)/param/".count))] = array.floats()
        }
        let used = try model.body.load(values)
        #expect(used == Set(model.body.state.map(\.name)), "every array of the model comes from the fixture")
        let input = try floats("\(name)/input")
        let labels = try #require(arrays["\(name)/labels"]?.int64s()).map { Int($0) }
        return (model, input, labels.count, labels)
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], _ what: String, relative: Float = 1e-4,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, \(expected.count) expected",
                sourceLocation: sourceLocation)
        let scale = expected.map(\.magnitude).max() ?? 0
        let worst = zip(actual, expected).map { ($0 - $1).magnitude }.max() ?? 0
        #expect(worst <= relative * max(scale, 1e-6), "\(what): off by \(worst) at scale \(scale)",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: ["digits_plain", "digits_residual", "mixed"])
    func forwardAndGradientsMatchPyTorch(name: String) throws {
        let (model, input, batch, labels) = try Self.prepared(name)
        let tape = Tape(training: true)
        let x = tape.constant(input, shape: [batch] + model.inputShape)
        let logits = model.body(x)
        let loss = logits.softmaxCrossEntropy(labels: labels)
        Self.expectClose(logits.values, try Self.floats("\(name)/logits"), "logits")
        Self.expectClose(loss.values, try Self.floats("\(name)/loss"), "loss")
        tape.propagate(from: loss, keepingConstants: true)
        for parameter in model.parameters {
            Self.expectClose(parameter.gradient, try Self.floats("\(name)/grad/\(parameter.name)"), "∂\(parameter.name)")
        }
        Self.expectClose(try #require(tape.constantGradients[x.index]), try Self.floats("\(name)/grad_input"), "∂input")
        for entry in model.body.state where entry.name.contains("running") {
            Self.expectClose(entry.values, try Self.floats("\(name)/after/\(entry.name)"), entry.name)
        }
    }

    @Test(arguments: ["digits_plain", "mixed"])
    func optimiserStepsMatchPyTorch(name: String) throws {
        for (label, make) in [("sgd", { SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3) as any Optimizer }),
                              ("adam", { Adam(learningRate: 1e-2, weightDecay: 1e-3) as any Optimizer })] {
            let (model, input, batch, labels) = try Self.prepared(name)
            let optimiser = make()
            for _ in 0..<2 {
                model.parameters.forEach { $0.zeroGradient() }
                let tape = Tape(training: true)
                tape.backward(from: model.logits(input, batch: batch, on: tape).softmaxCrossEntropy(labels: labels))
                optimiser.step(model.parameters)
            }
            for parameter in model.parameters {
                Self.expectClose(parameter.value, try Self.floats("\(name)/\(label)/\(parameter.name)"),
                                 "\(label): \(parameter.name)", relative: 2e-4)
            }
        }
    }
}

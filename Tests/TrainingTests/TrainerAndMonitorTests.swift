import Analysis
import Foundation
import LinearAlgebra
import Networks
import Probe
import Testing
@testable import Training

/// The training loop (seeded, shifting its batches as `torch.roll` does) and the monitor
/// (whose numbers are checked against the Analysis functions they stand for).
@Suite struct TrainerAndMonitorTests {
    static let probes = ModelExportTests.root.appendingPathComponent("probes")

    /// A small digit network, so that a few epochs run quickly in a debug build.
    static func smallRecipe(epochs: Int = 1) -> Recipe {
        var recipe = Recipe.digits(residual: true, blocks: 1, name: "small", summary: "one block per stage, width 4")
        recipe.makeModel = { seed in Architectures.digitNet(residual: true, blocks: 1, width: 4, seed: seed) }
        recipe.epochs = epochs
        recipe.batchSize = 64
        recipe.layers = ["stem", "layer1.0", "pool1", "layer2.0", "fc"]
        return recipe
    }

    static func digits(_ name: String) throws -> ProbeSet {
        try ProbeSet.load(name, inputShape: [1, 16, 16], folders: [probes])
    }

    @Test func rollingShiftsCircularlyLikeTorchRoll() {
        // torch.roll(x, shifts=(1, -1), dims=(1, 2)) of a 1×2×3 image [[0 1 2] [3 4 5]].
        let image: [Float] = [0, 1, 2, 3, 4, 5]
        #expect(Trainer.rolled(image[...], shape: [1, 2, 3], dy: 1, dx: -1) == [4, 5, 3, 1, 2, 0])
        #expect(Trainer.rolled(image[...], shape: [1, 2, 3], dy: 0, dx: 0) == image)
    }

    @Test func sameSeedSameWeightsOtherSeedOtherWeights() throws {
        let data = try Self.digits("digits-train")
        func weights(seed: UInt64) throws -> [Float] {
            let trainer = try Trainer(recipe: Self.smallRecipe(), seed: seed)
            var steps = 0
            do {
                try trainer.trainEpoch(data) { step, _ in
                    steps = step
                    if step == 3 { throw CancellationError() }
                }
            } catch is CancellationError {}
            #expect(steps == 3)
            return trainer.model.parameters.flatMap(\.value)
        }
        #expect(try weights(seed: 4) == weights(seed: 4))
        #expect(try weights(seed: 4) != weights(seed: 5))
    }

    @Test func recalibrationAveragesTheBatchStatistics() throws {
        let trainer = try Trainer(recipe: Self.smallRecipe(), seed: 2)
        let data = try Self.digits("digits")
        // Two batches of 180: the running mean becomes the mean of the two batch means, the
        // running variance the mean of their unbiased variances.
        try trainer.recalibrate(on: data, batchSize: 180)
        let stem = try #require(trainer.model.body.allLayers.compactMap { $0 as? BatchNorm }.first)
        #expect(stem.name == "stem.1" && stem.statistics.momentum == 0.1)
        let images = try #require(data.inputs.floats)
        var means: [[Double]] = [], variances: [[Double]] = []
        for start in [0, 180] {
            let tape = Tape(training: false)
            let conv = trainer.model.body.allLayers.compactMap { $0 as? Conv2D }[0]
            let y = conv(tape.constant(Array(images[(start * 256)..<((start + 180) * 256)]), shape: [180, 1, 16, 16]))
            let values = y.values, channels = y.shape[1], size = 256
            var m = [Double](repeating: 0, count: channels), v = [Double](repeating: 0, count: channels)
            for c in 0..<channels {
                var column: [Double] = []
                for n in 0..<180 { for i in 0..<size { column.append(Double(values[(n * channels + c) * size + i])) } }
                m[c] = column.reduce(0, +) / Double(column.count)
                v[c] = column.reduce(0) { $0 + ($1 - m[c]) * ($1 - m[c]) } / Double(column.count - 1)
            }
            means.append(m)
            variances.append(v)
        }
        for c in 0..<4 {
            #expect(abs(Double(stem.statistics.mean[c]) - (means[0][c] + means[1][c]) / 2) < 1e-5)
            #expect(abs(Double(stem.statistics.variance[c]) - (variances[0][c] + variances[1][c]) / 2) < 1e-4 * variances[0][c])
        }
    }

    @Test func monitorRecordsAgreeWithTheAnalysisFunctions() throws {
        let recipe = Self.smallRecipe(epochs: 2)
        let trainer = try Trainer(recipe: recipe, seed: 1)
        let probeSet = try Self.digits("digits")
        let monitor = try TrainingMonitor(model: trainer.model, probeSet: probeSet,
                                          settings: .init(layers: recipe.layers), recipe: recipe.name, seed: 1)
        try trainer.run(training: try Self.digits("digits-train"), monitor: monitor, every: 20)
        let log = monitor.log
        // Records before the first step, every 20 steps and after the last (2 × 23 steps).
        #expect(log.records.map(\.step) == [0, 20, 40, 46])
        // Against itself at step 0, every layer has CKA 1.
        for layer in log.records[0].layers { #expect(abs(layer.ckaToReference - 1) < 1e-9) }
        // The network learns, and its last layers drift furthest from their initial state.
        let last = try #require(log.records.last)
        #expect(last.probeSetAccuracy > log.records[0].probeSetAccuracy + 0.15)
        // Per class: every class of the probe set, the counts adding up to the samples and
        // the accuracies to the overall one.
        let perClass = try #require(last.classAccuracy)
        #expect(perClass.map(\.label) == Array(0..<10))
        #expect(perClass.map(\.samples).reduce(0, +) == probeSet.inputs.shape[0])
        let pooled = perClass.map { $0.accuracy * Double($0.samples) }.reduce(0, +) / Double(probeSet.inputs.shape[0])
        #expect(abs(pooled - last.probeSetAccuracy) < 1e-12)
        let firstLayer = try #require(last.layers.first), lastLayer = try #require(last.layers.last)
        #expect(lastLayer.ckaToReference < firstLayer.ckaToReference)

        // The last record's numbers for one layer, recomputed from its activations.
        let network = try trainer.model.network()
        let (_, cache) = try HookedNetwork(network).runWithCache([Model.inputName: probeSet.inputs], names: .names(["layer2.0"]))
        let activation = try #require(cache["layer2.0"])
        let samples = activation.shape[0]
        let x = Matrix<Float>(rows: samples, columns: activation.count / samples, rowMajor: try #require(activation.floats))
            .converted(to: Double.self)
        let record = last.layers[3]
        let eigenvalues = try PCA.fit(x).explainedVariance
        #expect(abs(record.participationRatio - PCA.participationRatio(eigenvalues)) < 1e-6 * record.participationRatio)
        let probe = try LinearProbe.evaluate(x, labels: try #require(probeSet.labels), model: .ridge(alphas: [0.1, 1, 10, 100]),
                                             controlSeed: nil)
        #expect(abs(record.probeAccuracy - probe.best.mean) < 1e-12)
    }

    @Test func unlabelledProbeSetsAndUnknownLayersAreRefused() throws {
        let model = Architectures.digitNet(residual: false, seed: 0)
        let noise = try ProbeSet.load("noise", inputShape: [1, 16, 16], folders: [Self.probes])
        #expect(throws: TrainingError.self) {
            _ = try TrainingMonitor(model: model, probeSet: noise, settings: .init(layers: ["stem"]), recipe: "r", seed: 0)
        }
        #expect(throws: ProbeError.self) {
            _ = try TrainingMonitor(model: model, probeSet: try Self.digits("digits"), settings: .init(layers: ["nowhere"]),
                                    recipe: "r", seed: 0)
        }
        #expect(throws: TrainingError.self) { _ = try Recipe.named("imagenet") }
    }
}

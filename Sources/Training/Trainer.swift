import Analysis
import Foundation
import Networks
import Probe
import Report

/// How to train one of the built-in networks: architecture, data, optimiser and schedule.
public struct Recipe: Sendable {
    public enum OptimizerKind: Sendable, Equatable {
        case adam(learningRate: Float)
        case sgd(learningRate: Float, momentum: Float)

        /// The same optimiser with another learning rate (a smaller one for fine-tuning, say).
        public func with(learningRate: Float) -> OptimizerKind {
            switch self {
            case .adam: .adam(learningRate: learningRate)
            case let .sgd(_, momentum): .sgd(learningRate: learningRate, momentum: momentum)
            }
        }
    }

    public var name: String
    public var summary: String
    /// Builds the untrained model from a seed.
    public var makeModel: @Sendable (UInt64) -> Model
    public var optimizer: OptimizerKind
    public var weightDecay: Float = 0
    public var epochs: Int
    public var batchSize: Int
    /// Each batch is rolled by up to this many pixels along each axis (circularly, one
    /// random shift per batch, as the shipped models were trained).
    public var maximumShift: Int = 1
    /// The labelled probe set to train on, and the one the monitor watches.
    public var trainingSet: String = "digits-train"
    public var probeSet: String = "digits"
    /// The layers the monitor watches by default.
    public var layers: [String]

    /// The recipes `repprobe train` knows.
    public static let builtIn: [Recipe] = [
        digits(residual: false, blocks: 2, name: "plain-cnn",
               summary: "the shipped plain digit CNN (9 convolutions, 11 014 parameters), Adam, 10 epochs"),
        digits(residual: true, blocks: 2, name: "residual-cnn",
               summary: "the same with identity shortcuts around each pair of convolutions"),
        digits(residual: false, blocks: 6, name: "deep-plain-cnn",
               summary: "25 convolutions without shortcuts (6 blocks per stage)"),
        digits(residual: true, blocks: 6, name: "deep-residual-cnn",
               summary: "25 convolutions with identity shortcuts (6 blocks per stage)"),
        Recipe(name: "tiny-10",
               summary: "Kornblith et al.'s Tiny-10 (8 convolutions of 16, 32 and 64 channels, 86 170 parameters) on the digits",
               makeModel: { seed in Architectures.tiny10(seed: seed) },
               optimizer: .adam(learningRate: 3e-3), epochs: 10, batchSize: 32,
               layers: (1...8).map { "conv\($0)" } + ["pool", "fc"]),
    ]

    public static func named(_ name: String) throws -> Recipe {
        guard let recipe = builtIn.first(where: { $0.name == name }) else {
            throw TrainingError("no recipe '\(name)'; the recipes are \(builtIn.map(\.name).joined(separator: ", "))")
        }
        return recipe
    }

    static func digits(residual: Bool, blocks: Int, name: String, summary: String) -> Recipe {
        let layers = ["stem"] + (0..<blocks).map { "layer1.\($0)" } + ["pool1"] + (0..<blocks).map { "layer2.\($0)" } + ["pool2", "fc"]
        return Recipe(name: name, summary: summary,
                      makeModel: { seed in Architectures.digitNet(residual: residual, blocks: blocks, seed: seed) },
                      optimizer: .adam(learningRate: 3e-3), epochs: 10, batchSize: 32, layers: layers)
    }
}

/// Trains a model on a labelled probe set with a seeded data order, calling a monitor every
/// few steps.
public final class Trainer {
    public let recipe: Recipe
    public let model: Model
    public let seed: UInt64
    public let optimizer: any Optimizer
    public private(set) var step = 0
    private var generator: SeededGenerator

    /// - Parameter initialWeights: a checkpoint (or other model file) to start from instead
    ///   of the seeded initialisation, for fine-tuning.
    public init(recipe: Recipe, seed: UInt64, initialWeights: URL? = nil) throws {
        self.recipe = recipe
        self.seed = seed
        model = recipe.makeModel(seed)
        if let initialWeights { try model.load(from: initialWeights) }
        switch recipe.optimizer {
        case let .adam(learningRate):
            optimizer = Adam(learningRate: learningRate, weightDecay: recipe.weightDecay)
        case let .sgd(learningRate, momentum):
            optimizer = SGD(learningRate: learningRate, momentum: momentum, weightDecay: recipe.weightDecay)
        }
        // The data order and shifts have their own stream, apart from the initialisation's.
        generator = SeededGenerator(seed: seed ^ 0x5EED_DA7A)
    }

    /// One epoch over `data`: batches in a seeded order, each shifted, one optimiser step
    /// each. `afterStep` sees the step number and the batch's loss.
    public func trainEpoch(_ data: ProbeSet, afterStep: (Int, Double) throws -> Void) throws {
        guard let labels = data.labels else { throw TrainingError("training set '\(data.name)' has no labels") }
        guard let images = data.inputs.floats, data.inputs.shape.count == 4, Array(data.inputs.shape.dropFirst()) == model.inputShape else {
            throw TrainingError("training set '\(data.name)' holds \(data.inputs.shape) float images; the model takes [N] + \(model.inputShape)")
        }
        let perImage = model.inputShape.reduce(1, *)
        let order = generator.permutation(labels.count)
        for start in stride(from: 0, to: order.count, by: recipe.batchSize) {
            let batch = Array(order[start..<min(order.count, start + recipe.batchSize)])
            let span = 2 * recipe.maximumShift + 1
            let dy = generator.nextIndex(below: span) - recipe.maximumShift
            let dx = generator.nextIndex(below: span) - recipe.maximumShift
            var inputs: [Float] = []
            inputs.reserveCapacity(batch.count * perImage)
            for index in batch {
                inputs += Self.rolled(images[(index * perImage)..<((index + 1) * perImage)], shape: model.inputShape, dy: dy, dx: dx)
            }
            model.parameters.forEach { $0.zeroGradient() }
            let tape = Tape(training: true)
            let loss = model.logits(inputs, batch: batch.count, on: tape).softmaxCrossEntropy(labels: batch.map { labels[$0] })
            tape.backward(from: loss)
            optimizer.step(model.parameters)
            step += 1
            try afterStep(step, Double(loss.values[0]))
        }
    }

    /// Trains for the recipe's epochs, recording with `monitor` before the first step, every
    /// `every` steps and after the last.
    public func run(training data: ProbeSet, monitor: TrainingMonitor?, every: Int,
                    progress: ((String) -> Void)? = nil) throws {
        let stepsPerEpoch = (data.inputs.shape[0] + recipe.batchSize - 1) / recipe.batchSize
        var losses: [Double] = []
        func record() throws {
            guard let monitor else { return }
            try recalibrate(on: data)
            let mean = losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count)
            let entry = try monitor.record(model: model, step: step, epoch: Double(step) / Double(stepsPerEpoch), loss: mean)
            losses.removeAll()
            let loss = mean.map { ", loss \(NumberFormat.fixed($0, decimals: 3))" } ?? ""
            progress?("step \(entry.step) (epoch \(NumberFormat.fixed(entry.epoch, decimals: 2))): probe-set accuracy "
                      + "\(NumberFormat.fixed(entry.probeSetAccuracy, decimals: 3))\(loss)")
        }
        try record()
        for _ in 0..<recipe.epochs {
            try trainEpoch(data) { step, loss in
                losses.append(loss)
                if step % max(every, 1) == 0 { try record() }
            }
        }
        if step % max(every, 1) != 0 { try record() }
        try recalibrate(on: data)
    }

    /// Sets every batch normalisation's running statistics to the averages of its batch
    /// statistics over one pass through `data` (unshifted, in order): PyTorch's cumulative
    /// average (`momentum=None`). The moving averages of training lag behind the weights, so
    /// a network evaluated with them is not quite the network that was trained; the trainer
    /// recalibrates before every monitor record and after the last step, as
    /// `models/make_models.py` does for the shipped models.
    public func recalibrate(on data: ProbeSet, batchSize: Int = 256) throws {
        guard let images = data.inputs.floats, data.inputs.shape.count == 4 else { return }
        let norms = model.body.allLayers.compactMap { $0 as? BatchNorm }
        guard !norms.isEmpty else { return }
        let momenta = norms.map(\.statistics.momentum)
        defer { for (norm, momentum) in zip(norms, momenta) { norm.statistics.momentum = momentum } }
        let count = data.inputs.shape[0], perImage = model.inputShape.reduce(1, *)
        for (k, start) in stride(from: 0, to: count, by: batchSize).enumerated() {
            let end = min(count, start + batchSize)
            for norm in norms { norm.statistics.momentum = 1 / Float(k + 1) }
            _ = model.logits(Array(images[(start * perImage)..<(end * perImage)]), batch: end - start, on: Tape(training: true))
        }
    }

    /// One image `[C, H, W]` shifted circularly by `dy` rows and `dx` columns (`torch.roll`).
    static func rolled(_ image: ArraySlice<Float>, shape: [Int], dy: Int, dx: Int) -> [Float] {
        let (channels, height, width) = (shape[0], shape[1], shape[2])
        let base = image.startIndex
        var out = [Float](repeating: 0, count: channels * height * width)
        for c in 0..<channels { for y in 0..<height { for x in 0..<width {
            let sy = ((y - dy) % height + height) % height, sx = ((x - dx) % width + width) % width
            out[(c * height + y) * width + x] = image[base + (c * height + sy) * width + sx]
        } } }
        return out
    }
}

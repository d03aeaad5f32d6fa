import ArgumentParser
import Foundation
import RepProbeKit

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a built-in recipe in Swift and watch its representations form.",
        discussion: """
            Trains the recipe's network on its labelled training set with a seeded data order and, \
            every --every steps, records each watched layer's CKA with a reference (the initial \
            weights unless --reference names a model file), its linear-probe accuracy and its \
            participation ratio on the recipe's probe set. Writes into the output folder the \
            trained model (model.ckpt, repprobe's own checkpoint), the monitor's log (log.json) and \
            a report (report.md with SVG curves). --init starts from a checkpoint instead of the \
            seeded initialisation (fine-tuning).

            Recipes: \(Recipe.builtIn.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ")).
            """
    )

    @Argument(help: "Recipe name.")
    var recipe: String = "plain-cnn"

    @Option(help: "Seed of the initialisation and the data order.")
    var seed: UInt64 = 1

    @Option(help: "Epochs (default: the recipe's).")
    var epochs: Int?

    @Option(help: ArgumentHelp("Learning rate (default: the recipe's).", valueName: "rate"))
    var learningRate: Float?

    @Option(help: "Record every this many steps.")
    var every: Int = 45

    @Option(parsing: .upToNextOption, help: "Layers to watch (module paths; default: the recipe's).")
    var layers: [String] = []

    @Option(help: ArgumentHelp("Compare each layer with this model's instead of the initial weights.", valueName: "model"))
    var reference: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from these weights (fine-tuning).", valueName: "checkpoint"))
    var initialWeights: String?

    @Option(help: "Labelled probe set to train on (default: the recipe's).")
    var trainingSet: String?

    @Option(help: "Labelled probe set the monitor watches (default: the recipe's).")
    var probe: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Output folder.", valueName: "folder"))
    var output: String = "train-report"

    func validate() throws {
        if let epochs, epochs < 0 { throw ValidationError("--epochs must not be negative") }
        if every < 1 { throw ValidationError("--every must be at least 1") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number")
        }
    }

    /// The command line that repeats this run (every option given, by its value).
    var reproduction: String {
        var words = ["repprobe", "train", recipe, "--seed", "\(seed)"]
        func add(_ option: String, _ value: String?) { if let value { words += [option, value] } }
        add("--epochs", epochs.map { "\($0)" })
        add("--learning-rate", learningRate.map { "\($0)" })
        add("--every", "\(every)")
        if !layers.isEmpty { words += ["--layers"] + layers }
        add("--reference", reference)
        add("--init", initialWeights)
        add("--training-set", trainingSet)
        add("--probe", probe)
        return words.joined(separator: " ")
    }

    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        try reportFolder.check(output)
        var recipe = try Recipe.named(self.recipe)
        if let epochs { recipe.epochs = epochs }
        if let learningRate { recipe.optimizer = recipe.optimizer.with(learningRate: learningRate) }
        if let trainingSet { recipe.trainingSet = trainingSet }
        if let probe { recipe.probeSet = probe }
        let trainer = try Trainer(recipe: recipe, seed: seed, initialWeights: initialWeights.map { URL(fileURLWithPath: $0) })
        let inputShape = trainer.model.inputShape
        let data = try ProbeSet.load(recipe.trainingSet, inputShape: inputShape)
        let probeSet = try ProbeSet.load(recipe.probeSet, inputShape: inputShape)
        let referenceChoice: TrainingMonitor.Reference
        if let reference {
            referenceChoice = .network(try loadModel(reference, graph: nil).network, description: "\(reference)")
        } else {
            referenceChoice = .initial
        }
        var settings = TrainingMonitor.Settings(layers: layers.isEmpty ? recipe.layers : layers)
        settings.batchSize = probeSet.batchSize
        let monitor = try TrainingMonitor(model: trainer.model, probeSet: probeSet, settings: settings,
                                          reference: referenceChoice, recipe: recipe.name, seed: seed)
        let start = Date()
        FileHandle.standardError.write(Data("Training \(recipe.name) (\(trainer.model.parameterCount) parameters, seed \(seed)) on \(recipe.trainingSet), \(recipe.epochs) epochs\n".utf8))
        try trainer.run(training: data, monitor: monitor, every: every) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let seconds = Date().timeIntervalSince(start)
        let folder = URL(fileURLWithPath: output)
        var notes = ["Reproduce: `\(reproduction)`."]
        notes.append("\(trainer.step) steps in \(NumberFormat.fixed(seconds, decimals: 1)) s, recording every \(every) steps.")
        notes.append("The trained model is `model.ckpt` (repprobe's checkpoint: `repprobe compare`, `rf`, `layers` read it).")
        var log = monitor.log
        log.notes = notes
        let report = TrainingReport(log: log)
        var files = try report.files()
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-train-\(UUID().uuidString).ckpt")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        try trainer.model.writeCheckpoint(to: checkpoint)
        files.append(("model.ckpt", try Data(contentsOf: checkpoint)))
        try ReportFolder.write(files, to: folder, force: reportFolder.force)
        print("Wrote \(folder.path)/report.md, log.json, model.ckpt and \(files.count - 3) figures")
        if let last = monitor.log.records.last {
            print("Probe-set accuracy after \(last.step) steps: \(NumberFormat.fixed(last.probeSetAccuracy, decimals: 3))")
        }
    }
}

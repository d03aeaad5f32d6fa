import ArgumentParser
import Foundation
import RepProbeKit

enum ProbeModelChoice: String, ExpressibleByArgument, CaseIterable {
    case ridge, logistic
}

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Cross-validated linear-probe accuracy of every layer, with a shuffled-label control."
    )

    @Argument(help: "Activation file.")
    var file: String

    @Option(help: "Labels: a 1-D integer .npy (or one array in .npz/.safetensors), one per sample.")
    var labels: String

    @Option(help: ArgumentHelp("The array holding the labels, when the labels file has several.", valueName: "name"))
    var labelArray: String?

    @Option(help: "Classifier: ridge (RidgeClassifier) or logistic (multinomial logistic regression, L2).")
    var model: ProbeModelChoice = .ridge

    @Option(help: ArgumentHelp("Regularisation grid: α for ridge, C for logistic (comma-separated).", valueName: "values"))
    var strengths: String?

    @Option(help: "Number of stratified folds.")
    var folds: Int = 5

    @Option(help: "Seed of the shuffled-label control.")
    var seed: UInt64 = 0

    @OptionGroup var activations: ActivationOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Memory the activations may take (e.g. 4G; default three quarters of RAM). Beyond it ridge probes are streamed from a .safetensors file or shard set, two passes of blocks of samples, with the same folds.", valueName: "size"))
    var memory: MemorySize?

    func validate() throws {
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2, got \(folds)") }
        _ = try grid()
    }

    func grid() throws -> [Double] {
        guard let strengths else { return model == .ridge ? [0.01, 0.1, 1, 10, 100, 1000] : [0.01, 0.1, 1, 10] }
        let values = strengths.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }) else {
            throw ValidationError("--strengths must be a comma-separated list of non-negative numbers, got '\(strengths)'")
        }
        return values.compactMap { $0 }
    }

    struct LayerJSON: Encodable {
        var layer: String
        var best_strength: Double
        var mean_accuracy: Double
        var std_accuracy: Double
        var fold_accuracies: [Double]
        var control_mean_accuracy: Double?
        var chance: Double
    }

    func run() throws {
        let budget = memory?.bytes ?? ByteSize.defaultBudget
        let y = try Labels.load(URL(fileURLWithPath: labels), name: labelArray)
        let values = try grid()
        let probeModel: ProbeModel = model == .ridge ? .ridge(alphas: values) : .logistic(c: values)
        let assignment = try StratifiedKFold.assign(labels: y, folds: folds)
        var rows = [LayerJSON]()
        func add(_ name: String, _ result: ProbeEvaluation) {
            rows.append(LayerJSON(
                layer: name, best_strength: values[result.bestIndex], mean_accuracy: result.best.mean,
                std_accuracy: result.best.standardDeviation, fold_accuracies: result.best.accuracies,
                control_mean_accuracy: result.control?.mean, chance: result.chance))
        }
        let sampleCount: Int
        if let stream = try ActivationStream.streams(ifLargerThan: budget, [URL(fileURLWithPath: file)], reduction: activations.reduction.seeded(seed),
                                                     layers: activations.layerNames)?.first {
            guard model == .ridge else {
                throw ValidationError("the activations would take more than the \(ByteSize.readable(budget)) budget (--memory): "
                                      + "ridge probes stream, logistic ones need every activation; use --model ridge or raise --memory")
            }
            guard y.count == stream.sampleCount else {
                throw ValidationError("\(labels) has \(y.count) labels but \(file) has \(stream.sampleCount) samples")
            }
            Diagnostics.note("the activations would take \(ByteSize.readable(stream.bytesInMemory ?? .max)), more than the "
                             + "\(ByteSize.readable(budget)) budget: streaming ridge probes over \(stream.sampleCount) samples, two passes a layer")
            for (k, name) in stream.layerNames.enumerated() {
                add(name, try stream.ridgeProbe(layer: k, labels: y, folds: assignment, alphas: values, controlSeed: seed, memoryLimit: budget))
            }
            sampleCount = stream.sampleCount
        } else {
            let set = try activations.load(file, seed: seed)
            if y.count != set.sampleCount {
                throw ValidationError("\(labels) has \(y.count) labels but \(file) has \(set.sampleCount) samples")
            }
            for layer in set.layers {
                add(layer.name, try LinearProbe.evaluate(layer.matrix, labels: y, model: probeModel, folds: assignment, controlSeed: seed))
            }
            sampleCount = set.sampleCount
        }
        if json {
            print(try Output.json(rows), terminator: "")
            return
        }
        let name = model == .ridge ? "α" : "C"
        print("\(model.rawValue) probe, \(folds)-fold stratified cross-validation, \(sampleCount) samples, chance \(NumberFormat.fixed(rows.first?.chance ?? 0, decimals: 3))")
        let table = LabelledMatrix(
            rowLabels: rows.map(\.layer), columnLabels: ["accuracy", "± std", "control", name],
            values: rows.map { [$0.mean_accuracy, $0.std_accuracy, $0.control_mean_accuracy ?? .nan, $0.best_strength] },
            corner: "layer")
        print(table.text(decimals: 3, decimalsByColumn: [3, 3, 3, 4]), terminator: "")
        print("control = the same probe on randomly permuted labels; \(name) = the best of \(values.map { "\($0)" }.joined(separator: ", "))")
    }
}

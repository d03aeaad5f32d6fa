import ArgumentParser
import Foundation
import RepProbeKit

struct CKACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cka",
        abstract: "Print the layer × layer CKA matrix of one activation file, or of two against each other.",
        discussion: """
            With one file, every layer is compared with every other layer of that file. With two, \
            rows are the layers of A and columns the layers of B. Both files must hold the same \
            inputs in the same order.
            """
    )

    @Argument(help: "Activation file A (.npy, .npz or .safetensors).")
    var fileA: String

    @Argument(help: "Activation file B (default: A against itself).")
    var fileB: String?

    @OptionGroup var activations: ActivationOptions
    @OptionGroup var cka: CKAArguments

    @Option(help: ArgumentHelp("Also print each layer's best match with a bootstrap 95% interval from N resamples of the samples (biased estimator).", valueName: "N"))
    var bootstrap: Int?

    @Option(help: "Seed of the bootstrap resampling.")
    var seed: UInt64 = 0

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table.")
    var json = false

    func validate() throws {
        if let bootstrap, bootstrap < 2 { throw ValidationError("--bootstrap needs at least 2 resamples, got \(bootstrap)") }
        if bootstrap != nil && json { throw ValidationError("--bootstrap prints a table; leave out --json") }
    }

    func run() throws {
        let a = try activations.load(fileA)
        let b = try fileB.map { try activations.load($0) }
        if let b, a.sampleCount != b.sampleCount {
            throw ValidationError("\(fileA) has \(a.sampleCount) samples but \(fileB ?? "") has \(b.sampleCount); both must hold the same inputs in the same order")
        }
        let table = LabelledMatrix(
            rowLabels: a.layers.map(\.name), columnLabels: (b ?? a).layers.map(\.name),
            values: try cka.matrix(a, b), corner: "A \\ B")
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(cka.label), \(a.sampleCount) samples")
            print(table.text(), terminator: "")
        }
        if let bootstrap {
            let matches = try bestMatchesWithIntervals(
                table, a: a.layers.map(\.matrix), b: (b ?? a).layers.map(\.matrix), kernel: cka.options.kernel,
                resamples: bootstrap, seed: seed, excludingDiagonal: b == nil)
            print("\nbest match of each layer of A, with a 95% bootstrap interval (\(bootstrap) resamples):")
            let rows = matches.map { m -> [Double] in [m.similarity, m.interval?.lower ?? .nan, m.interval?.upper ?? .nan] }
            let names = matches.map { "\($0.layer) → \($0.bestMatch)" }
            print(LabelledMatrix(rowLabels: names, columnLabels: ["CKA", "lower", "upper"], values: rows, corner: "match").text(), terminator: "")
        }
    }
}

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

    @Option(help: ArgumentHelp("Also test each layer's best match against N random pairings of the samples (permutation p-value).", valueName: "N"))
    var permutations: Int?

    @Option(help: "Seed of the bootstrap and permutation resampling.")
    var seed: UInt64 = 0

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table.")
    var json = false

    func validate() throws {
        if let bootstrap, bootstrap < 2 { throw ValidationError("--bootstrap needs at least 2 resamples, got \(bootstrap)") }
        if let permutations, permutations < 1 { throw ValidationError("--permutations needs at least 1 permutation, got \(permutations)") }
        if (bootstrap != nil || permutations != nil) && json {
            throw ValidationError("--bootstrap and --permutations print a table; leave out --json")
        }
    }

    func run() throws {
        let a = try activations.load(fileA)
        let b = try fileB.map { try activations.load($0) }
        if let b, a.sampleCount != b.sampleCount {
            throw ValidationError("\(fileA) has \(a.sampleCount) samples but \(fileB ?? "") has \(b.sampleCount); both must hold the same inputs in the same order")
        }
        let table = try cka.table(a, b)
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(cka.label), \(a.sampleCount) samples")
            print(table.text(), terminator: "")
        }
        if bootstrap != nil || permutations != nil {
            try printBestMatches(table, a: a.layers.map(\.matrix), b: (b ?? a).layers.map(\.matrix), selfComparison: b == nil)
        }
    }

    /// Each layer's best match, with a bootstrap interval and/or a permutation p-value.
    private func printBestMatches(_ table: LabelledMatrix, a: [Matrix<Double>], b: [Matrix<Double>], selfComparison: Bool) throws {
        let kernel = cka.options.kernel
        let matches = try bootstrap.map {
            try LayerCorrespondence.bestMatchesWithIntervals(table, a: a, b: b, kernel: kernel, resamples: $0, seed: seed, excludingDiagonal: selfComparison)
        } ?? LayerCorrespondence.bestMatches(table, excludingDiagonal: selfComparison)
        var columns = ["CKA"]
        var rows = matches.map { [$0.similarity] }
        if let bootstrap {
            columns += ["lower", "upper"]
            for (k, m) in matches.enumerated() { rows[k] += [m.interval?.lower ?? .nan, m.interval?.upper ?? .nan] }
            print("\nbest match of each layer of A, with a 95% bootstrap interval (\(bootstrap) resamples)")
        } else {
            print("\nbest match of each layer of A")
        }
        if let permutations {
            columns.append("p")
            for (k, m) in matches.enumerated() {
                guard let i = table.rowLabels.firstIndex(of: m.layer), let j = table.columnLabels.firstIndex(of: m.bestMatch) else { continue }
                let test = try CKAResampling.permutationTest(
                    a[i], b[j], kernel: kernel, estimator: cka.estimator, permutations: permutations, seed: seed)
                rows[k].append(test.pValue)
            }
            print("p = permutation p-value of that CKA against \(permutations) random pairings of the samples")
        }
        let names = matches.map { "\($0.layer) → \($0.bestMatch)" }
        print(LabelledMatrix(rowLabels: names, columnLabels: columns, values: rows, corner: "match").text(), terminator: "")
    }
}

import ArgumentParser
import Foundation
import RepProbeKit

extension LayerIdentification.Measure: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "linear-cka": self = .linearCKA
        case "rbf-cka": self = .rbfCKA
        case "cca": self = .cca
        case "svcca": self = .svcca
        case "pwcca": self = .pwcca
        default: return nil
        }
    }
}

struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "How often a similarity measure finds the corresponding layer of another network (Kornblith et al. 2019, Table 2).",
        discussion: """
            Give the activations of two or more networks of one architecture (trained from different \
            seeds, say) on the same inputs, one file each, with the same layers in the same order. For \
            every ordered pair of networks and every layer of the first, the most similar layer of the \
            second is found by each measure; the accuracy is the fraction found at the corresponding \
            position. CCA, SVCCA and PWCCA need more samples than features in every layer: reduce with \
            --reduction mean, or capture with --reduce project:K.
            """
    )

    @Argument(help: "Activation files, one per network (two or more).")
    var files: [String]

    @Option(parsing: .upToNextOption,
            help: "Measures: linear-cka, rbf-cka, cca, svcca, pwcca (default: all).")
    var measures: [LayerIdentification.Measure] = LayerIdentification.Measure.allCases

    @Option(help: ArgumentHelp("RBF CKA: bandwidth as a fraction of the median distance.", valueName: "fraction"))
    var rbfThreshold: Double = 0.8

    @OptionGroup var activations: ActivationOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard files.count >= 2 else { throw ValidationError("give the activation files of at least two networks") }
        guard rbfThreshold > 0 && rbfThreshold.isFinite else { throw ValidationError("--rbf-threshold must be positive") }
    }

    struct Output: Encodable {
        var files: [String]
        var layers: [String]
        var samples: Int
        var results: [LayerIdentification.Result]
    }

    func run() throws {
        let sets = try files.map { try activations.load($0) }
        let layers = sets[0].layerNames
        for (file, set) in zip(files, sets).dropFirst() {
            guard set.layerNames == layers else {
                throw ValidationError("\(file) has layers \(set.layerNames.joined(separator: ", ")); \(files[0]) has \(layers.joined(separator: ", ")): the networks must have the same layers in the same order")
            }
            guard set.sampleCount == sets[0].sampleCount else {
                throw ValidationError("\(file) has \(set.sampleCount) samples but \(files[0]) has \(sets[0].sampleCount); all must hold the same inputs in the same order")
            }
        }
        let networks = sets.map { $0.layers.map(\.matrix) }
        let results = try measures.map { try LayerIdentification.evaluate(networks, measure: $0, rbfThreshold: rbfThreshold) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(Output(files: files, layers: layers, samples: sets[0].sampleCount, results: results)), as: UTF8.self))
            return
        }
        print("\(files.count) networks, \(layers.count) layers, \(sets[0].sampleCount) samples, \(files.count * (files.count - 1)) ordered pairs")
        let table = LabelledMatrix(rowLabels: results.map(\.measure.rawValue), columnLabels: ["accuracy", "±1 layer"] + layers,
                                   values: results.map { [$0.accuracy, $0.withinOneLayer] + $0.layerAccuracy }, corner: "measure")
        print(table.text(decimals: 3), terminator: "")
        // Where the misses go: for each layer, the layer of B a measure chose most often
        // (the earlier of equally frequent ones), with how many of the pairs chose it.
        print("most often chosen")
        print(LabelledMatrix.aligned([["measure"] + layers] + results.map { result in
            [result.measure.rawValue] + layers.indices.map { layer in
                var counts = [Int](repeating: 0, count: layers.count)
                for choices in result.identified { counts[choices[layer]] += 1 }
                let top = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) } ?? 0
                return "\(layers[top]) \(counts[top])/\(result.identified.count)"
            }
        }), terminator: "")
    }
}

import ArgumentParser
import Foundation
import RepProbeKit

struct PCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pca",
        abstract: "Print each layer's PCA spectrum and participation ratio (effective dimensionality)."
    )

    @Argument(help: "Activation file.")
    var file: String

    @Option(help: ArgumentHelp("Components to report per layer.", valueName: "k"))
    var components: Int = 10

    @Flag(help: "Use randomized SVD for the leading components (large layers); the participation ratio then needs the exact spectrum and is omitted.")
    var randomized = false

    @Option(help: "Seed of the randomized SVD.")
    var seed: UInt64 = 0

    @OptionGroup var activations: ActivationOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard components >= 1 else { throw ValidationError("--components must be at least 1, got \(components)") }
    }

    struct LayerJSON: Encodable {
        var layer: String
        var samples: Int
        var features: Int
        var explained_variance: [Double]
        var explained_variance_ratio: [Double]
        var total_variance: Double
        var participation_ratio: Double?
    }

    func run() throws {
        let set = try activations.load(file, seed: seed)
        var rows = [LayerJSON]()
        for layer in set.layers {
            let k = Swift.min(components, Swift.min(layer.matrix.rows, layer.matrix.columns))
            let method: PCAMethod = randomized ? .randomized(seed: seed) : .exact
            let pca = try PCA.fit(layer.matrix, components: k, method: method)
            rows.append(LayerJSON(
                layer: layer.name, samples: layer.matrix.rows, features: layer.matrix.columns,
                explained_variance: pca.explainedVariance, explained_variance_ratio: pca.explainedVarianceRatio,
                total_variance: pca.totalVariance, participation_ratio: pca.participationRatio))
        }
        if json {
            print(try Output.json(rows), terminator: "")
            return
        }
        print("PCA of \(file), \(set.sampleCount) samples: explained variance ratio of the leading components")
        let width = rows.map { $0.explained_variance_ratio.count }.max() ?? 0
        let table = LabelledMatrix(
            rowLabels: rows.map(\.layer),
            columnLabels: ["features", "PR"] + (0..<width).map { "PC\($0 + 1)" },
            values: rows.map { r in
                [Double(r.features), r.participation_ratio ?? .nan]
                    + (0..<width).map { $0 < r.explained_variance_ratio.count ? r.explained_variance_ratio[$0] : .nan }
            },
            corner: "layer")
        print(table.text(decimals: 3, decimalsByColumn: [0, 2] + Array(repeating: 3, count: width)), terminator: "")
        print("PR = participation ratio (Σλ)²/Σλ² over all eigenvalues")
    }
}

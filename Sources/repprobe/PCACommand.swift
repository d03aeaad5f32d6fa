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

    @Option(help: ArgumentHelp("Memory the activations may take (e.g. 4G; default three quarters of RAM). Beyond it each layer's covariance is streamed from a .safetensors file or shard set, a block of samples at a time; layers whose covariance itself exceeds it get a randomized sketch of the leading components.", valueName: "size"))
    var memory: MemorySize?

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
        let budget = memory?.bytes ?? ByteSize.defaultBudget
        var rows = [LayerJSON]()
        func add(_ name: String, samples: Int, features: Int, _ pca: PCAResult) {
            rows.append(LayerJSON(
                layer: name, samples: samples, features: features,
                explained_variance: pca.explainedVariance, explained_variance_ratio: pca.explainedVarianceRatio,
                total_variance: pca.totalVariance, participation_ratio: pca.participationRatio))
        }
        let sampleCount: Int
        if let stream = try ActivationStream.streams(ifLargerThan: budget, [URL(fileURLWithPath: file)], reduction: activations.reduction.seeded(seed),
                                                     layers: activations.layerNames)?.first {
            guard !randomized else {
                throw ValidationError("the activations would take more than the \(ByteSize.readable(budget)) budget (--memory) and are streamed: "
                                      + "the streamed PCA is exact where the covariances fit and a randomized sketch where they do not; leave out --randomized")
            }
            Diagnostics.note("the activations would take \(ByteSize.readable(stream.bytesInMemory ?? .max)), more than the "
                             + "\(ByteSize.readable(budget)) budget: streaming each layer's covariance over \(stream.sampleCount) samples")
            let results = try stream.pca(components: components, memoryLimit: budget, seed: seed)
            let sketched = results.filter(\.sketched).map(\.layer)
            if !sketched.isEmpty {
                Diagnostics.note("covariances beyond the budget, PCA by a randomized sketch (several passes; no participation ratio): "
                                 + sketched.joined(separator: ", "))
            }
            for result in results {
                add(result.layer, samples: stream.sampleCount, features: result.pca.mean.count, result.pca)
            }
            sampleCount = stream.sampleCount
        } else {
            let set = try activations.load(file, seed: seed)
            for layer in set.layers {
                let k = Swift.min(components, Swift.min(layer.matrix.rows, layer.matrix.columns))
                let method: PCAMethod = randomized ? .randomized(seed: seed) : .exact
                let result: PCAResult
                do {
                    result = try PCA.fit(layer.matrix, components: k, method: method)
                } catch AnalysisError.constantRepresentation {
                    throw AnalysisError.constantRepresentation(context: "\(file), layer '\(layer.name)'")
                }
                add(layer.name, samples: layer.matrix.rows, features: layer.matrix.columns, result)
            }
            sampleCount = set.sampleCount
        }
        if json {
            print(try Output.json(rows), terminator: "")
            return
        }
        print("PCA of \(file), \(sampleCount) samples: explained variance ratio of the leading components")
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

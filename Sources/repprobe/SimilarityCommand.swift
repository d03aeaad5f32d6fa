import ArgumentParser
import Foundation
import RepProbeKit

enum Measure: String, ExpressibleByArgument, CaseIterable {
    case cka, cca, svcca, pwcca, procrustes, rsa, knn

    var meaning: String {
        switch self {
        case .cka: return "CKA (similarity, 1 = same up to rotation and scale)"
        case .cca: return "mean canonical correlation ρ̄ (similarity)"
        case .svcca: return "SVCCA mean canonical correlation (similarity)"
        case .pwcca: return "PWCCA, weights from A (similarity)"
        case .procrustes: return "squared orthogonal Procrustes distance 2 − 2‖AᵀB‖_* (distance, 0 = same shape)"
        case .rsa: return "RSA: Spearman correlation of the RDMs (similarity)"
        case .knn: return "mutual k-nearest-neighbour alignment (similarity)"
        }
    }
}

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Compare the layers of two activation files with a chosen measure.",
        discussion: "Every layer of A is compared with every layer of B; the files must hold the same inputs in the same order."
    )

    @Argument(help: "Activation file A.")
    var fileA: String

    @Argument(help: "Activation file B.")
    var fileB: String

    @Option(help: "Measure: cka, cca, svcca, pwcca, procrustes, rsa or knn.")
    var measure: Measure = .cka

    @Option(help: ArgumentHelp("SVCCA: fraction of each layer's variance to keep.", valueName: "fraction"))
    var svccaVariance: Double = 0.99

    @Option(help: "RSA: dissimilarity of two samples, correlation or euclidean.")
    var rsaMetric: RDMMetric = .correlation

    @Option(help: ArgumentHelp("k-NN alignment: neighbours per sample.", valueName: "k"))
    var knnK: Int = 10

    @OptionGroup var activations: ActivationOptions
    @OptionGroup var cka: CKAArguments

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard svccaVariance > 0 && svccaVariance <= 1 else { throw ValidationError("--svcca-variance must be in (0, 1], got \(svccaVariance)") }
        guard knnK >= 1 else { throw ValidationError("--knn-k must be at least 1, got \(knnK)") }
    }

    func run() throws {
        let a = try activations.load(fileA), b = try activations.load(fileB)
        if a.sampleCount != b.sampleCount {
            throw ValidationError("\(fileA) has \(a.sampleCount) samples but \(fileB) has \(b.sampleCount); both must hold the same inputs in the same order")
        }
        let values: [[Double]]
        if measure == .cka {
            values = try cka.matrix(a, b)
        } else {
            values = try a.layers.map { la in
                try b.layers.map { lb in try value(la.matrix, lb.matrix) }
            }
        }
        let table = LabelledMatrix(rowLabels: a.layers.map(\.name), columnLabels: b.layers.map(\.name), values: values, corner: "A \\ B")
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(measure == .cka ? cka.label : measure.meaning), \(a.sampleCount) samples")
            print(table.text(), terminator: "")
        }
    }

    private func value(_ x: Matrix<Double>, _ y: Matrix<Double>) throws -> Double {
        switch measure {
        case .cka: return try CKA.similarity(x, y, options: cka.options)
        case .cca: return try CCA.canonicalCorrelations(x, y).meanCorrelation
        case .svcca: return try CCA.svcca(x, y, varianceKept: svccaVariance).similarity
        case .pwcca: return try CCA.pwcca(x, y).similarity
        case .procrustes: return try Procrustes.compare(x, y).squaredDistance
        case .rsa: return try RSA.compare(x, y, metric: rsaMetric)
        case .knn: return try NeighborAlignment.mutualKNN(x, y, k: Swift.min(knnK, x.rows - 1))
        }
    }
}

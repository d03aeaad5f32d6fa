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
        try requireTableFits((fileA, a.layers.count), against: (fileB, b.layers.count), budget: ByteSize.defaultBudget)
        let values: [[Double]]
        if measure == .cka {
            values = try cka.matrix(a, b)
        } else {
            // Each layer's own work (SVD, RDM ranks, neighbour lists) is done once, not per pair.
            let preparedA = try a.layers.map { try prepare($0.matrix) }
            let preparedB = try b.layers.map { try prepare($0.matrix) }
            values = try preparedA.map { pa in try preparedB.map { pb in try compare(pa, pb) } }
        }
        let table = LabelledMatrix(rowLabels: a.layers.map(\.name), columnLabels: b.layers.map(\.name), values: values, corner: "A \\ B")
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(measure == .cka ? cka.label : measure.meaning), \(a.sampleCount) samples")
            print(table.text(), terminator: "")
        }
    }

    /// One layer prepared for the chosen measure.
    private enum Prepared {
        case cca(CCARepresentation)
        case ranks([Double])
        case neighbours([[Int]])
        case matrix(Matrix<Double>)
    }

    private func prepare(_ x: Matrix<Double>) throws -> Prepared {
        switch measure {
        case .cca, .pwcca: return .cca(try CCARepresentation(x, context: measure == .cca ? "CCA" : "PWCCA"))
        case .svcca: return .cca(try CCARepresentation.reducing(x, varianceKept: svccaVariance))
        case .rsa: return .ranks(Correlation.ranks(try RSA.dissimilarities(x, metric: rsaMetric)))
        case .knn: return .neighbours(NeighborAlignment.neighbours(x, k: Swift.min(knnK, x.rows - 1)))
        case .cka, .procrustes: return .matrix(x)
        }
    }

    private func compare(_ a: Prepared, _ b: Prepared) throws -> Double {
        switch (a, b) {
        case let (.cca(x), .cca(y)):
            switch measure {
            case .svcca: return try CCA.svcca(x, y).similarity
            case .pwcca: return try CCA.pwcca(x, y).similarity
            default: return try CCA.canonicalCorrelations(x, y).meanCorrelation
            }
        case let (.ranks(x), .ranks(y)):
            return Correlation.pearson(x, y)  // Spearman: Pearson of the ranks
        case let (.neighbours(x), .neighbours(y)):
            return NeighborAlignment.alignment(x, y)
        case let (.matrix(x), .matrix(y)):
            return measure == .procrustes
                ? try Procrustes.compare(x, y).squaredDistance
                : try CKA.similarity(x, y, options: cka.options)
        default:
            preconditionFailure("layers prepared for different measures")
        }
    }
}

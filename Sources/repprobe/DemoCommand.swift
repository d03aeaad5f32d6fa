import ArgumentParser
import Foundation
import RepProbeKit

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Compare two generated networks with CKA, print the matrix and write a Markdown summary.",
        discussion: """
            Network A is a random five-layer ReLU network; network B is A with every weight \
            perturbed by independent Gaussian noise (a stand-in for a fine-tuned copy). Both see \
            the same 1000 inputs drawn from 10 Gaussian clusters. CKA pairs the layers of A with \
            the layers of B at the same depth, and similarity falls as the perturbations \
            accumulate through depth (the narrow last layer, perturbed the most, may match an \
            earlier one). The activations and labels are written beside the \
            summary, so every other command can be tried on them.
            """
    )

    @Option(name: .shortAndLong, help: "Folder for summary.md, cka.json and the two activation files.")
    var output: String = "reports/demo"

    @Option(help: "Seed of the inputs and of network A (B's perturbation uses seed &+ 1).")
    var seed: UInt64 = 1

    @Option(help: "Number of inputs.")
    var samples: Int = 1000

    @Option(help: "Relative size of the weight perturbation that turns A into B.")
    var perturbation: Double = 0.35

    @Option(help: "Bootstrap resamples for the intervals of the best matches.")
    var resamples: Int = 200

    func validate() throws {
        guard samples >= 20 else { throw ValidationError("--samples must be at least 20, got \(samples)") }
        guard perturbation >= 0 && perturbation.isFinite else { throw ValidationError("--perturbation must be a non-negative number, got \(perturbation)") }
        guard resamples >= 2 else { throw ValidationError("--resamples must be at least 2, got \(resamples)") }
    }

    func run() throws {
        let start = Date()
        let folder = URL(fileURLWithPath: output)
        let data = DemoNetworks(samples: samples, seed: seed)
        let widths = [512, 512, 512, 512, 256]
        let a = data.activations(widths: widths, seed: seed, perturbation: 0, perturbationSeed: 0, name: "A")
        let b = data.activations(widths: widths, seed: seed, perturbation: perturbation, perturbationSeed: seed &+ 1, name: "B")

        let options = CKAOptions()
        let matrix = try CKAMatrix.compute(a.map(\.matrix), b.map(\.matrix), namesA: a.map(\.name), namesB: b.map(\.name), options: options)
        let table = LabelledMatrix(
            rowLabels: a.map(\.name), columnLabels: b.map(\.name),
            matrix: matrix, corner: "A \\ B")
        let matches = try bestMatchesWithIntervals(
            table, a: a.map(\.matrix), b: b.map(\.matrix), kernel: .linear, resamples: resamples, seed: seed)
        let dimensionality = try LabelledMatrix(
            rowLabels: a.map(\.name) + b.map(\.name), columnLabels: ["width", "participation ratio"],
            values: (a + b).map { [Double($0.matrix.columns), try PCA.fit($0.matrix).participationRatio ?? .nan] },
            corner: "layer")
        let summary = CKAComparisonSummary(
            title: "repprobe demo: a network and a perturbed copy compared with CKA",
            description: [
                "inputs: \(samples) samples from 10 Gaussian clusters in 64 dimensions (seed \(seed))",
                "network A: widths 512-512-512-512-256, He-initialised ReLU layers (seed \(seed))",
                "network B: network A with each weight perturbed by Gaussian noise of \(perturbation)× the initial scale (seed \(seed &+ 1))",
                "measure: linear CKA, biased estimator (Kornblith et al. 2019); intervals: \(resamples) bootstrap resamples",
                "repprobe \(RepProbeVersion.current)",
            ],
            measure: "Linear CKA", matrix: table, correspondences: matches,
            extraTables: [("Effective dimensionality (PCA participation ratio)", dimensionality, [0, 2])])

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ActivationSet(layers: a.map { .init(name: $0.name, matrix: $0.matrix) }, source: "demo network A").write(to: folder.appendingPathComponent("activations_a.npz"))
        try ActivationSet(layers: b.map { .init(name: $0.name, matrix: $0.matrix) }, source: "demo network B").write(to: folder.appendingPathComponent("activations_b.npz"))
        try NPY.write(NumericArray(shape: [samples], int64: data.labels.map(Int64.init)), to: folder.appendingPathComponent("labels.npy"))
        try AtomicFile.write(Data(Output.json(MatrixJSON(table)).utf8), to: folder.appendingPathComponent("cka.json"))
        try AtomicFile.write(Data(summary.markdown().utf8), to: folder.appendingPathComponent("summary.md"))

        print("Linear CKA, network A (rows) against network B (columns), \(samples) samples")
        print(table.text(), terminator: "")
        print("")
        for m in matches {
            let ci = m.interval.map { " [\(NumberFormat.fixed($0.lower, decimals: 3)), \(NumberFormat.fixed($0.upper, decimals: 3))]" } ?? ""
            print("\(m.layer) → \(m.bestMatch)  CKA \(NumberFormat.fixed(m.similarity, decimals: 4))\(ci)")
        }
        print("\nwrote \(output)/summary.md, cka.json, activations_a.npz, activations_b.npz, labels.npy")
        let seconds = Date().timeIntervalSince(start)
        FileHandle.standardError.write(Data("done in \(NumberFormat.fixed(seconds, decimals: 1)) s\n".utf8))
    }
}

/// Clustered inputs and the hidden layers of random ReLU networks on them.
struct DemoNetworks {
    let inputs: Matrix<Double>
    let labels: [Int]

    init(samples: Int, seed: UInt64, classes: Int = 10, dimensions: Int = 64) {
        var generator = SeededGenerator(seed: seed)
        let centres = (0..<classes).map { _ in (0..<dimensions).map { _ in 1.5 * generator.nextGaussian() } }
        var x = Matrix<Double>(rows: samples, columns: dimensions)
        var y = [Int]()
        for i in 0..<samples {
            let c = i % classes
            y.append(c)
            for j in 0..<dimensions { x[i, j] = centres[c][j] + generator.nextGaussian() }
        }
        inputs = x
        labels = y
    }

    /// Layers `NAME.fc1 … NAME.fcL` of a fully connected ReLU network with He-initialised
    /// weights (from `seed`), each weight then moved by `perturbation` × the same scale times
    /// a standard normal deviate (from `perturbationSeed`).
    func activations(
        widths: [Int], seed: UInt64, perturbation: Double, perturbationSeed: UInt64, name: String
    ) -> [(name: String, matrix: Matrix<Double>)] {
        var weightsGenerator = SeededGenerator(seed: seed &* 7919)
        var noiseGenerator = SeededGenerator(seed: perturbationSeed &* 104_729)
        var h = inputs
        var layers = [(name: String, matrix: Matrix<Double>)]()
        for (l, width) in widths.enumerated() {
            let scale = (2 / Double(h.columns)).squareRoot()
            let w = Matrix(rows: h.columns, columns: width, columnMajor: (0..<(h.columns * width)).map { _ in
                scale * (weightsGenerator.nextGaussian() + perturbation * noiseGenerator.nextGaussian())
            })
            h = h * w
            for k in h.storage.indices where h.storage[k] < 0 { h.storage[k] = 0 }
            layers.append(("\(name).fc\(l + 1)", h))
        }
        return layers
    }
}

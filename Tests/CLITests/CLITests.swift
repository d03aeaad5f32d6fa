import ArgumentParser
import Foundation
import RepProbeKit
import Testing

@testable import repprobe

/// The command line as a user meets it: help, validation, output shapes and error messages.
@Suite struct CLITests {
    /// The `repprobe` executable built beside this test bundle.
    static let executable: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
        ]
        for folder in candidates {
            let url = folder.appendingPathComponent("repprobe")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return candidates[0].appendingPathComponent("repprobe")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Whether the process ended by a signal (a trap, a sanitizer, the kernel) rather than exiting.
        var signalled = false
    }

    /// Runs `repprobe arguments`, or `launcher… repprobe arguments` (`mpirun -np 2`, say),
    /// with `environment` added to this process's.
    func run(_ arguments: [String], under launcher: [String] = [], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if launcher.isEmpty {
            process.executableURL = Self.executable
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = launcher + [Self.executable.path] + arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self),
                      signalled: process.terminationReason == .uncaughtSignal)
    }

    /// A temporary folder with two activation files of the same 40 samples and a label file.
    static func workspace() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 3)
        func array(_ shape: [Int]) -> NumericArray {
            NumericArray(shape: shape, float64: (0..<shape.reduce(1, *)).map { _ in generator.nextGaussian() })
        }
        try NPZ.write([("conv1", array([40, 3, 4, 4])), ("fc", array([40, 6]))], to: folder.appendingPathComponent("a.npz"))
        try NPZ.write([("block1", array([40, 5])), ("block2", array([40, 7])), ("head", array([40, 2]))], to: folder.appendingPathComponent("b.npz"))
        try NPY.write(array([30, 6]), to: folder.appendingPathComponent("short.npy"))
        try NPY.write(array([40, 50]), to: folder.appendingPathComponent("wide.npy"))
        try NPY.write(NumericArray(shape: [40], int64: (0..<40).map { Int64($0 % 2) }), to: folder.appendingPathComponent("labels.npy"))
        return folder
    }

    struct MatrixOutput: Decodable {
        var layers_a: [String]
        var layers_b: [String]
        var matrix: [[Double]]
    }

    @Test func everyCommandHasAnAbstractAndEveryArgumentHelp() throws {
        // The tool's own machine-readable description of its interface.
        let dump = try run(["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let command = try #require(root["command"] as? [String: Any])
        let subcommands = try #require(command["subcommands"] as? [[String: Any]])
        #expect(Set(subcommands.compactMap { $0["commandName"] as? String }).isSuperset(of: ["demo", "cka", "similarity", "pca", "probe"]))
        for subcommand in subcommands where subcommand["commandName"] as? String != "help" {
            let name = subcommand["commandName"] as? String ?? "?"
            let abstract = subcommand["abstract"] as? String ?? ""
            #expect(!abstract.isEmpty && abstract.hasSuffix("."), "\(name): abstract '\(abstract)'")
            for argument in subcommand["arguments"] as? [[String: Any]] ?? [] {
                let help = argument["abstract"] as? String ?? ""
                #expect(!help.isEmpty, "\(name): argument \(argument["valueName"] ?? "?") has no help")
            }
        }
        #expect(RepProbe.helpMessage(for: CKACommand.self).contains("--rbf-threshold"))
    }

    @Test func validationRejectsBadOptionsBeforeRunning() {
        #expect(throws: (any Error).self) { try RepProbe.parseAsRoot(["cka", "a.npz", "--rbf-threshold", "-1"]) }
        #expect(throws: (any Error).self) { try RepProbe.parseAsRoot(["cka", "a.npz", "--kernel", "cosine"]) }
        #expect(throws: (any Error).self) { try RepProbe.parseAsRoot(["probe", "a.npz", "--labels", "y.npy", "--strengths", "1,x"]) }
        #expect(throws: (any Error).self) { try RepProbe.parseAsRoot(["cka", "a.npz", "--kernel", "rbf", "--precision", "float32"]) }
        let message = RepProbe.message(for: ValidationError("--rbf-threshold must be a positive number, got -1.0"))
        #expect(message.contains("--rbf-threshold"))
    }

    @Test func ckaJSONHasTheDocumentedShape() throws {
        let folder = try Self.workspace()
        let result = try run(["cka", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("b.npz").path, "--json", "--reduction", "mean"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(MatrixOutput.self, from: Data(result.stdout.utf8))
        #expect(output.layers_a == ["conv1", "fc"])
        #expect(output.layers_b == ["block1", "block2", "head"])
        #expect(output.matrix.count == 2 && output.matrix.allSatisfy { $0.count == 3 })
        // The same number through the library.
        let a = try ActivationSet.load(folder.appendingPathComponent("a.npz"), reduction: .mean)
        let b = try ActivationSet.load(folder.appendingPathComponent("b.npz"))
        let expected = try CKA.linear(a.layers[1].matrix, b.layers[2].matrix)
        #expect(abs(output.matrix[1][2] - expected) < 1e-12)
    }

    @Test func oneFileComparesItsLayersWithEachOther() throws {
        let folder = try Self.workspace()
        let result = try run(["cka", folder.appendingPathComponent("b.npz").path, "--json", "--estimator", "unbiased"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(MatrixOutput.self, from: Data(result.stdout.utf8))
        #expect(output.layers_a == output.layers_b)
        for i in 0..<3 { #expect(abs(output.matrix[i][i] - 1) < 1e-12) }
        let single = try run(["cka", folder.appendingPathComponent("wide.npy").path, "--json"])
        let one = try JSONDecoder().decode(MatrixOutput.self, from: Data(single.stdout.utf8))
        #expect(one.layers_a == ["wide"])
    }

    /// A file of many layers gets a table only when it fits the memory budget: otherwise an
    /// error up front that says how many layers fit, not minutes of work and a failed allocation.
    @Test func aTableTooLargeForTheBudgetIsRefusedFirst() throws {
        let folder = try Self.workspace()
        var generator = SeededGenerator(seed: 5)
        let layers = (0..<200).map { index in
            ("layer\(index)", NumericArray(shape: [6, 3], float64: (0..<18).map { _ in generator.nextGaussian() }))
        }
        let file = folder.appendingPathComponent("many.npz")
        try NPZ.write(layers, to: file)
        // 200 × 200 values at 256 bytes each are 10.2 MB.
        let refused = try run(["cka", file.path, "--memory", "4M"])
        #expect(refused.status != 0)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains("many.npz has 200 layers: a table of 200 × 200 values would take about 10.2 MB"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--layers (about 128 × 128 fit)"), "\(refused.stderr)")
        let fits = try run(["cka", file.path, "--memory", "16M", "--json"])
        #expect(fits.status == 0, "\(fits.stderr)")
        #expect(try JSONDecoder().decode(MatrixOutput.self, from: Data(fits.stdout.utf8)).matrix.count == 200)
    }

    @Test func tableOutputNamesTheEstimator() throws {
        let folder = try Self.workspace()
        let result = try run(["cka", folder.appendingPathComponent("b.npz").path, "--kernel", "rbf", "--rbf-threshold", "0.8"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("rbf (threshold 0.8) CKA, biased estimator, 40 samples"))
        #expect(result.stdout.contains("block1"))
    }

    @Test func bootstrapIntervalsForBestMatches() throws {
        let folder = try Self.workspace()
        let two = try run(["cka", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("b.npz").path,
                           "--reduction", "mean", "--bootstrap", "50"])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("best match of each layer of A, with a 95% bootstrap interval (50 resamples)"))
        #expect(two.stdout.contains("conv1 → ") && two.stdout.contains("fc → "))
        // Against itself, a layer's best match is another layer, never itself.
        let one = try run(["cka", folder.appendingPathComponent("b.npz").path, "--bootstrap", "20"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(!one.stdout.contains("block1 → block1"))
        let single = try run(["cka", folder.appendingPathComponent("wide.npy").path, "--bootstrap", "20"])
        #expect(single.status == 0, "\(single.stderr)")
        // A permutation p-value per best match: identical copies are never matched by chance.
        let copies = try run(["cka", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("a.npz").path,
                              "--reduction", "mean", "--permutations", "99"])
        #expect(copies.status == 0, "\(copies.stderr)")
        #expect(copies.stdout.contains("p = permutation p-value"))
        #expect(copies.stdout.contains("conv1 → conv1  1.0000  0.0100"))
    }

    @Test func inputProblemsAreClearErrorsNamingTheFile() throws {
        let folder = try Self.workspace()
        let missing = folder.appendingPathComponent("missing.npz").path
        let noFile = try run(["cka", missing])
        #expect(noFile.status != 0)
        #expect(noFile.stderr.contains("missing.npz"))

        let mismatch = try run(["cka", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("short.npy").path])
        #expect(mismatch.status != 0)
        #expect(mismatch.stderr.contains("40 samples") && mismatch.stderr.contains("30"))

        let truncated = folder.appendingPathComponent("truncated.npy")
        let bytes = try Data(contentsOf: folder.appendingPathComponent("wide.npy"))
        try bytes.prefix(200).write(to: truncated)
        let broken = try run(["cka", truncated.path])
        #expect(broken.status != 0)
        #expect(broken.stderr.contains("truncated.npy"))
        #expect(!broken.stderr.contains("Fatal error"))

        let unknownLayer = try run(["cka", folder.appendingPathComponent("b.npz").path, "--layers", "block1,nope"])
        #expect(unknownLayer.status != 0)
        #expect(unknownLayer.stderr.contains("nope") && unknownLayer.stderr.contains("block2"))
    }

    @Test func ccaRefusesWideLayersAndPointsToSVCCA() throws {
        let folder = try Self.workspace()
        let result = try run(["similarity", folder.appendingPathComponent("wide.npy").path, folder.appendingPathComponent("b.npz").path, "--measure", "cca"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("SVCCA"))
        let svcca = try run(["similarity", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("b.npz").path, "--measure", "svcca", "--reduction", "mean", "--json"])
        #expect(svcca.status == 0, "\(svcca.stderr)")
    }

    @Test func sameLayersComparesEachLayerWithItsNamesakes() throws {
        let folder = try Self.workspace()
        var generator = SeededGenerator(seed: 4)
        let c = folder.appendingPathComponent("c.npz")
        // conv1 and fc as in a.npz, of other values; no layer of b.npz shares a name.
        try NPZ.write([("fc", NumericArray(shape: [40, 6], float64: (0..<240).map { _ in generator.nextGaussian() })),
                       ("conv1", NumericArray(shape: [40, 48], float64: (0..<1920).map { _ in generator.nextGaussian() }))], to: c)
        let a = folder.appendingPathComponent("a.npz").path
        let result = try run(["cka", a, a, c.path, "--same-layers", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        struct SameLayers: Decodable { var layers: [String]; var files: [String]; var cka: [[Double]] }
        let output = try JSONDecoder().decode(SameLayers.self, from: Data(result.stdout.utf8))
        #expect(output.layers == ["conv1", "fc"] && output.files == [a, c.path])
        let setA = try ActivationSet.load(URL(fileURLWithPath: a), reduction: .flatten)
        let setC = try ActivationSet.load(c, reduction: .flatten)
        for (i, name) in output.layers.enumerated() {
            let x = try #require(setA.layers.first { $0.name == name }).matrix
            let y = try #require(setC.layers.first { $0.name == name }).matrix
            #expect(abs(output.cka[i][0] - 1) < 1e-12)
            #expect(abs(output.cka[i][1] - (try CKA.linear(x, y))) < 1e-12)
        }
        let table = try run(["cka", a, c.path, "--same-layers"])
        #expect(table.stdout.hasPrefix("linear CKA, biased estimator, 40 samples, each layer of a.npz against the same layer of\nlayer"))

        let disjoint = try run(["cka", a, folder.appendingPathComponent("b.npz").path, "--same-layers"])
        #expect(disjoint.status != 0 && disjoint.stderr.contains("no layer name in common"))
        #expect(try run(["cka", a, a, c.path]).stderr.contains("--same-layers"))
    }

    @Test func identifyFindsCorrespondingLayersAndSaysWhereTheMissesGo() throws {
        let folder = try Self.workspace()
        var generator = SeededGenerator(seed: 8)
        func gaussian(_ count: Int) -> [Double] { (0..<count).map { _ in generator.nextGaussian() } }
        // Three networks whose layer ℓ is a shared signal plus a little noise of their own.
        let signals = (0..<3).map { _ in gaussian(40 * 4) }
        var files: [String] = []
        for network in 0..<3 {
            let layers = signals.enumerated().map { index, signal in
                ("layer\(index + 1)", NumericArray(shape: [40, 4], float64: zip(signal, gaussian(signal.count)).map { $0 + 0.1 * $1 }))
            }
            let file = folder.appendingPathComponent("network\(network).npz")
            try NPZ.write(layers, to: file)
            files.append(file.path)
        }
        let result = try run(["identify"] + files + ["--measures", "linear-cka", "cca"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "3 networks, 3 layers, 40 samples, 6 ordered pairs")
        // accuracy, ±1 layer and each of the three layers
        let linear = try #require(lines.first { $0.hasPrefix("linear CKA ") })
        #expect(linear.split(separator: " ").suffix(5) == ["1.000", "1.000", "1.000", "1.000", "1.000"], "\(result.stdout)")
        #expect(lines.contains("most often chosen"))
        #expect(lines.contains { $0.hasPrefix("CCA (mean ρ)") && $0.hasSuffix("layer1 6/6  layer2 6/6  layer3 6/6") })

        let mismatched = try run(["identify", files[0], folder.appendingPathComponent("b.npz").path])
        #expect(mismatched.status != 0)
        #expect(mismatched.stderr.contains("b.npz") && mismatched.stderr.contains("same layers"))
    }

    @Test(arguments: ["cka", "cca", "svcca", "pwcca", "procrustes", "rsa", "knn"])
    func everySimilarityMeasureRuns(measure: String) throws {
        let folder = try Self.workspace()
        let result = try run(["similarity", folder.appendingPathComponent("a.npz").path, folder.appendingPathComponent("b.npz").path,
                              "--measure", measure, "--reduction", "mean", "--json"])
        #expect(result.status == 0, "\(measure): \(result.stderr)")
        let output = try JSONDecoder().decode(MatrixOutput.self, from: Data(result.stdout.utf8))
        #expect(output.matrix.count == 2 && output.matrix[0].count == 3)
        // Every cell equals the library's own pairwise call.
        let a = try ActivationSet.load(folder.appendingPathComponent("a.npz"), reduction: .mean)
        let b = try ActivationSet.load(folder.appendingPathComponent("b.npz"), reduction: .mean)
        for i in 0..<2 {
            for j in 0..<3 {
                let x = a.layers[i].matrix, y = b.layers[j].matrix
                let expected: Double
                switch measure {
                case "cca": expected = try CCA.canonicalCorrelations(x, y).meanCorrelation
                case "svcca": expected = try CCA.svcca(x, y).similarity
                case "pwcca": expected = try CCA.pwcca(x, y).similarity
                case "procrustes": expected = try Procrustes.compare(x, y).squaredDistance
                case "rsa": expected = try RSA.compare(x, y)
                case "knn": expected = try NeighborAlignment.mutualKNN(x, y, k: 10)
                default: expected = try CKA.linear(x, y)
                }
                #expect(abs(output.matrix[i][j] - expected) < 1e-12, "\(measure) [\(i)][\(j)]")
            }
        }
    }

    @Test func pcaAndProbeReportEveryLayer() throws {
        let folder = try Self.workspace()
        let pca = try run(["pca", folder.appendingPathComponent("b.npz").path, "--components", "3", "--json"])
        #expect(pca.status == 0, "\(pca.stderr)")
        let layers = try JSONSerialization.jsonObject(with: Data(pca.stdout.utf8)) as? [[String: Any]]
        #expect(layers?.count == 3)
        // A constant layer is refused as cka refuses it, not given ratios of 0/0.
        let constant = folder.appendingPathComponent("constant.npz")
        try NPZ.write([("flat", NumericArray(shape: [40, 3], float64: [Double](repeating: 2, count: 120)))], to: constant)
        let refused = try run(["pca", constant.path])
        #expect(refused.status != 0 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("constant.npz, layer 'flat': the representation is constant"), "\(refused.stderr)")
        let probe = try run(["probe", folder.appendingPathComponent("b.npz").path, "--labels", folder.appendingPathComponent("labels.npy").path, "--folds", "4"])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(probe.stdout.contains("ridge probe, 4-fold stratified cross-validation, 40 samples"))
        let logistic = try run(["probe", folder.appendingPathComponent("b.npz").path, "--labels", folder.appendingPathComponent("labels.npy").path,
                                "--model", "logistic", "--strengths", "1", "--json"])
        #expect(logistic.status == 0, "\(logistic.stderr)")
        // Labels stored beside the activations, named on the command line.
        var generator = SeededGenerator(seed: 9)
        let mixed = folder.appendingPathComponent("mixed.npz")
        try NPZ.write([
            ("features", NumericArray(shape: [40, 4], float64: (0..<160).map { _ in generator.nextGaussian() })),
            ("y", NumericArray(shape: [40], int64: (0..<40).map { Int64($0 % 2) })),
        ], to: mixed)
        let ambiguous = try run(["probe", folder.appendingPathComponent("b.npz").path, "--labels", mixed.path])
        #expect(ambiguous.status != 0)
        #expect(ambiguous.stderr.contains("--label-array") && ambiguous.stderr.contains("features, y"))
        let named = try run(["probe", folder.appendingPathComponent("b.npz").path, "--labels", mixed.path, "--label-array", "y"])
        #expect(named.status == 0, "\(named.stderr)")
        let wrongLabels = try run(["probe", folder.appendingPathComponent("b.npz").path, "--labels", folder.appendingPathComponent("wide.npy").path])
        #expect(wrongLabels.status != 0)
        #expect(wrongLabels.stderr.contains("wide.npy"))
    }
}

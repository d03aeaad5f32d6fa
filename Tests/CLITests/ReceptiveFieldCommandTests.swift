import Foundation
import RepProbeKit
import Testing

/// `repprobe rf` on filters with known Gabor parameters, and on a model.
@Suite struct ReceptiveFieldCommandTests {
    let cli = CLITests()

    struct Entry: Decodable {
        var filter: Int
        var channel: String
        var theta_deg: Double
        var frequency: Double
        var sigma_x: Double
        var sigma_y: Double
        var r2: Double
        var well_fit: Bool
    }

    @Test func fitsEveryChannelAndTheLuminanceFilter() throws {
        // Two RGB filters: each channel the same Gabor at 30° and 120°, the last channel of
        // the second one noise.
        var generator = SeededGenerator(seed: 2)
        var values: [Float] = []
        for degrees in [30.0, 120.0] {
            let g = Gabor(amplitude: 1, x0: 0, y0: 0, sigmaX: 2, sigmaY: 3, theta: degrees * .pi / 180, frequency: 0.18, phase: 1, offset: 0)
            for channel in 0..<3 {
                let plane = g.image(height: 11, width: 11)
                values += plane.map { Float(degrees == 120 && channel == 2 ? 0.3 * generator.nextGaussian() : $0) }
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("filters-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [2, 3, 11, 11], float32: values), to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try cli.run(["rf", file.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try JSONDecoder().decode([Entry].self, from: Data(result.stdout.utf8))
        #expect(entries.map(\.channel) == ["0", "1", "2", "mean", "0", "1", "2", "mean"])
        #expect(entries.filter(\.well_fit).count == 7)
        #expect(!entries[6].well_fit)
        for entry in [entries[0], entries[4]] {
            let expected = entry.filter == 0 ? 30.0 : 120.0
            #expect(abs(entry.theta_deg - expected) < 0.01 && abs(entry.frequency - 0.18) < 1e-4 && entry.r2 > 0.9999)
        }
        let text = try cli.run(["rf", file.path])
        #expect(text.stdout.contains("well fit (R² ≥ 0.70): 2 of 2 luminance filters"))
    }

    @Test func takesTheFirstConvolutionOfAModelAndRefusesOtherShapes() throws {
        let model = CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let result = try cli.run(["rf", model, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONDecoder().decode([Entry].self, from: Data(result.stdout.utf8)).count == 12)
        let flat = FileManager.default.temporaryDirectory.appendingPathComponent("flat-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [4, 9], float32: Array(repeating: 0, count: 36)), to: flat)
        defer { try? FileManager.default.removeItem(at: flat) }
        let refused = try cli.run(["rf", flat.path])
        #expect(refused.status != 0 && refused.stderr.contains("out_channels × in_channels × kh × kw"))
    }

    @Test func reportOfAModelIsCompleteAndReproducible() throws {
        let model = CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let work = CompareReportTests.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        let first = work.appendingPathComponent("first"), second = work.appendingPathComponent("second")
        func rf(_ folder: URL) throws -> CLITests.Result {
            try cli.run(["rf", model, "--layers", "stem.0,layer1,pool2,fc", "--no-timing", "-o", folder.path])
        }
        let result = try rf(first)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("of 12 first-layer filters"))
        let files = try FileManager.default.contentsOfDirectory(atPath: first.path)
        for name in ["report.md", "results.json", "gabor_fits.svg", "tuning_depth.svg", "v1_cka.svg"] {
            #expect(files.contains(name), "\(name) missing")
        }
        let markdown = try String(contentsOf: first.appendingPathComponent("report.md"), encoding: .utf8)
        for svg in files where svg.hasSuffix(".svg") { #expect(markdown.contains("(\(svg))"), "\(svg) is not linked") }

        struct Results: Decodable {
            struct Fits: Decodable { var fits: [Entry] }
            struct Tuning: Decodable {
                struct Layer: Decodable { var layer: String; var responsive: [Bool] }
                var layers: [Layer]
                var orientations_deg: [Double]
            }
            struct V1: Decodable { var layers: [String]; var simple: [Double?]; var complex: [Double?] }
            var filters: Fits
            var tuning: Tuning
            var v1: V1
        }
        let results = try JSONDecoder().decode(Results.self, from: Data(contentsOf: first.appendingPathComponent("results.json")))
        #expect(results.filters.fits.count == 12)
        #expect(results.tuning.layers.map(\.layer) == ["stem.0", "layer1", "pool2", "fc"])
        #expect(results.tuning.orientations_deg.count == 16)
        #expect(results.tuning.layers.first?.responsive.count == 12)
        #expect(results.v1.layers == ["stem.0", "layer1", "pool2", "fc"])
        // A linear first layer has no covariance with phase-invariant energy on gratings
        // whose phases are evenly spaced: its CKA with complex cells vanishes.
        #expect(abs(results.v1.complex[0] ?? 1) < 1e-9)
        #expect((results.v1.simple[0] ?? 0) > 0.3)

        #expect(try rf(second).status == 0)
        for name in files {
            #expect(try Data(contentsOf: first.appendingPathComponent(name)) == Data(contentsOf: second.appendingPathComponent(name)), "\(name) differs")
        }
    }

    @Test func oneByOneKernelsAreReportedNotFitted() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pointwise-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [4, 3, 1, 1], float32: (0..<12).map(Float.init)), to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try cli.run(["rf", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1 × 1: too small for a Gabor function"))
        let json = try cli.run(["rf", file.path, "--json"])
        #expect(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || json.stdout.contains("[]"))
        // 3 × 3: nine values, as many as a Gabor function has parameters; not fitted either.
        let small = FileManager.default.temporaryDirectory.appendingPathComponent("small-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [2, 1, 3, 3], float32: (0..<18).map { Float($0 % 5) }), to: small)
        defer { try? FileManager.default.removeItem(at: small) }
        #expect(try cli.run(["rf", small.path]).stdout.contains("3 × 3: too small for a Gabor function"))
    }

    @Test func compareAgainstV1() throws {
        let model = CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let table = try cli.run(["compare", model, "--against", "v1", "--probe", "digits", "--layers", "stem.0,fc", "--json"])
        #expect(table.status == 0, "\(table.stderr)")
        struct Matrix: Decodable { var layers_a: [String]; var layers_b: [String]; var matrix: [[Double?]] }
        let matrix = try JSONDecoder().decode(Matrix.self, from: Data(table.stdout.utf8))
        #expect(matrix.layers_a == ["stem.0", "fc"] && matrix.layers_b == ["v1.simple", "v1.complex"])
        #expect(matrix.matrix.flatMap { $0 }.allSatisfy { ($0 ?? -1) > 0 && ($0 ?? 2) <= 1 })

        let work = CompareReportTests.folder()
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let probe = try CompareReportTests.smallDigitsProbe(in: work)
        let report = try cli.run(["compare", model, "--against", "v1", "--probe", probe.path, "--resamples", "0",
                                  "--no-receptive-fields", "--no-timing", "-o", work.appendingPathComponent("out").path])
        #expect(report.status == 0, "\(report.stderr)")
        let markdown = try String(contentsOf: work.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("# digits-plain-seed1.onnx vs V1 model"))
        #expect(markdown.contains("B is the V1 model, which has no weights to re-draw"))

        #expect(try cli.run(["compare", model, "--against", "v2", "--probe", "digits"]).stderr.contains("--against takes v1"))
        #expect(try cli.run(["compare", model, model, "--against", "v1", "--probe", "digits"]).status != 0)
    }
}

/// `compare --memory`: a table whose activations would not fit is streamed, says so, and
/// prints the same numbers.
@Suite struct StreamedCompareCommandTests {
    let cli = CLITests()

    @Test func aSmallBudgetStreamsTheSameTable() throws {
        let root = CompareReportTests.root
        let arguments = ["compare", root.appendingPathComponent("models/digits-plain-seed1.onnx").path,
                         root.appendingPathComponent("models/digits-residual-seed1.onnx").path, "--probe", "digits",
                         "--layers", "stem,layer1,pool1,layer2,fc", "--reduce", "mean", "--json"]
        let whole = try cli.run(arguments)
        // 360 digits × 58 features of A take 250 kB; the streamed co-moments 38 kB.
        let streamed = try cli.run(arguments + ["--memory", "150K"])
        #expect(whole.status == 0 && streamed.status == 0, "\(streamed.stderr)")
        #expect(streamed.stderr.contains("streaming linear CKA instead") && !whole.stderr.contains("streaming"))
        let a = try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(whole.stdout.utf8))
        let b = try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(streamed.stdout.utf8))
        #expect(a.layers_a == b.layers_a && a.layers_b == b.layers_b)
        for (x, y) in zip(a.matrix.joined(), b.matrix.joined()) { #expect(abs(x - y) <= 1e-10) }

        // A's layers against B's keep each layer's own co-moments and the 58 × 58 cross block:
        // 38 kB.
        let tooSmall = try cli.run(arguments + ["--memory", "20K"])
        #expect(tooSmall.status != 0 && tooSmall.stderr.contains("116 features in all") && tooSmall.stderr.contains("--estimator unbiased"),
                "\(tooSmall.stderr)")
        // The report over the budget comes from streamed statistics: the same table and spectra.
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = Array(arguments.dropLast()) + ["--no-receptive-fields", "--resamples", "0", "--no-random-baseline", "--no-timing"]
        let inMemory = try cli.run(report + ["-o", folder.appendingPathComponent("whole").path])
        let streamedReport = try cli.run(report + ["-o", folder.appendingPathComponent("streamed").path, "--memory", "200K"])
        #expect(inMemory.status == 0 && streamedReport.status == 0 && streamedReport.stderr.contains("the report comes from streamed statistics"),
                "\(streamedReport.stderr)")
        // All pairs (107 kB) fit the 200 kB budget: the tables within A and B are there too.
        #expect(!streamedReport.stderr.contains("pairs across the networks only"), "\(streamedReport.stderr)")
        try ShardCommandTests.expectSameNumbers(folder.appendingPathComponent("streamed"), folder.appendingPathComponent("whole"), within: 1e-10)
        let markdown = try String(contentsOf: folder.appendingPathComponent("streamed/report.md"), encoding: .utf8)
        #expect(markdown.contains("These results come from statistics streamed from the forward pass (means"))

        // The unbiased estimator streams as minibatch CKA in any budget, and says what it is.
        let minibatch = try cli.run(arguments + ["--memory", "20K", "--estimator", "unbiased"])
        #expect(minibatch.status == 0 && minibatch.stderr.contains("streaming minibatch CKA instead"), "\(minibatch.stderr)")
        let unbiased = try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(try cli.run(arguments + ["--estimator", "unbiased"]).stdout.utf8))
        let estimate = try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(minibatch.stdout.utf8))
        #expect(estimate.layers_a == unbiased.layers_a && estimate.layers_b == unbiased.layers_b)
        let gap = zip(estimate.matrix.joined(), unbiased.matrix.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(gap < 0.2, "minibatch CKA against the unbiased CKA of all inputs: \(gap)")
        for hostile in ["lots", "0", "-4G", "99999999T", "1.5.2G", ""] {
            let refused = try cli.run(arguments + ["--memory", hostile])
            #expect(refused.status != 0 && refused.stderr.contains("--memory"), "\(hostile): \(refused.stderr)")
        }
    }
}

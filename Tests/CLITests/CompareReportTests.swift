import Foundation
import RepProbeKit
import Testing

/// `repprobe compare -o`: the report's numbers against NumPy on PyTorch's own hooks, its
/// files and Markdown structure, reproducibility, and what a failed run leaves behind.
@Suite struct CompareReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    static func fixture(_ path: String) -> String { fixtures.appendingPathComponent(path).path }
    let cli = CLITests()

    struct Reference: Decodable {
        struct Case: Decodable {
            var cka: [[Double]]
            var cka_b_b: [[Double]]
        }
        var layers: [String]
        var cases: [String: Case]
        var cka_a_a: [[Double]]
    }

    /// The parts of results.json these tests read.
    struct Results: Decodable {
        struct LayerMatrix: Decodable {
            var layers_a: [String]
            var layers_b: [String]
            var matrix: [[Double?]]
        }
        struct Provenance: Decodable {
            struct File: Decodable { var role: String; var name: String; var sha256: String }
            var files: [File]
            var samples: Int
            var seconds: Double
        }
        var cka: LayerMatrix
        var cka_a_a: LayerMatrix
        var cka_b_b: LayerMatrix
        var cka_a_random_b: LayerMatrix?
        var provenance: Provenance
    }

    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-report-\(UUID().uuidString)")
    }

    static func expectClose(_ actual: [[Double?]], _ expected: [[Double]], _ what: String) {
        #expect(actual.count == expected.count && zip(actual, expected).allSatisfy { $0.count == $1.count }, "\(what): shape")
        var worst = 0.0
        for (row, reference) in zip(actual, expected) {
            for (value, truth) in zip(row, reference) { worst = max(worst, abs((value ?? .nan) - truth)) }
        }
        #expect(worst < 1e-5, "\(what): largest difference from NumPy \(worst)")
    }

    @Test(arguments: ["cnn_alt.pt", "cnn_lightning.ckpt"])
    func ckaMatchesNumPyOnPyTorchHooks(modelB: String) throws {
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("compare/reference.json")))
        let output = Self.folder()
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try cli.run([
            "compare", Self.fixture("networks/cnn.onnx"), Self.fixture("networks/\(modelB)"), "--graph-b", Self.fixture("networks/cnn.onnx"),
            "--input", Self.fixture("compare/inputs.npy"), "--layers", reference.layers.joined(separator: ","), "--reduce", "mean",
            "--resamples", "20", "-o", output.path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let results = try JSONDecoder().decode(Results.self, from: Data(contentsOf: output.appendingPathComponent("results.json")))
        #expect(results.cka.layers_a == reference.layers && results.cka.layers_b == reference.layers)
        let expected = try #require(reference.cases[modelB])
        Self.expectClose(results.cka.matrix, expected.cka, "A against \(modelB)")
        Self.expectClose(results.cka_a_a.matrix, reference.cka_a_a, "A against itself")
        Self.expectClose(results.cka_b_b.matrix, expected.cka_b_b, "\(modelB) against itself")
        #expect(results.provenance.samples == 40)
        #expect(results.provenance.files.map(\.role) == ["model_a", "model_b", "model_b_graph", "probe_set"])
        #expect(results.provenance.files[1].name == modelB)
        #expect(results.cka_a_random_b?.matrix.count == reference.layers.count)
        #expect(results.provenance.seconds > 0)
    }

    /// A small probe set over the shipped digits, so that a debug build runs it quickly.
    static func smallDigitsProbe(in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("small-digits.yaml")
        // The data lies beside the probe set: a probe set reads only files in its own folder.
        try FileManager.default.copyItem(at: root.appendingPathComponent("probes/data/digits.npz"),
                                         to: folder.appendingPathComponent("digits.npz"))
        try """
            name: small-digits
            stimuli:
              kind: file
              path: digits.npz
              array: images_test
              labels: labels_test
              scale: 0.0625
              resize: [16, 16]
            layers: [stem, layer1, pool1, layer2.0, layer2, pool2, fc]
            reduction: flatten
            samples: 100
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Headings, figure links and table headers: the report's structure without its numbers.
    static func skeleton(_ markdown: String) -> String {
        let lines = markdown.components(separatedBy: "\n")
        return lines.enumerated().filter { i, line in
            line.hasPrefix("#") || line.hasPrefix("![") || line.hasPrefix("|---")
                || (line.hasPrefix("| ") && i + 1 < lines.count && lines[i + 1].hasPrefix("|---"))
        }.map(\.element).joined(separator: "\n") + "\n"
    }

    @Test func shippedModelsReportIsCompleteStableAndReproducible() throws {
        let work = Self.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let probe = try Self.smallDigitsProbe(in: work)
        let models = Self.root.appendingPathComponent("models")
        func compare(_ output: URL) throws -> CLITests.Result {
            try cli.run(["compare", models.appendingPathComponent("digits-plain-seed1.onnx").path,
                         models.appendingPathComponent("digits-residual-seed1.onnx").path,
                         "--probe", probe.path, "--resamples", "50", "--no-timing", "-o", output.path])
        }
        let first = work.appendingPathComponent("first"), second = work.appendingPathComponent("second")
        let result = try compare(first)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("layer1"))
        let expectedFiles = ["cka_a_a.svg", "cka_a_b.svg", "cka_b_b.svg", "filters_a.svg", "filters_b.svg", "pca_spectrum_a.svg",
                             "pca_spectrum_b.svg", "probe_accuracy.svg", "projection_a.svg", "projection_b.svg", "report.md", "results.json"]
            + ["a", "b"].flatMap { model in
                ["gabor_fits", "gabor_frequency", "gabor_orientation", "preferred_orientation", "ringach", "tuning_curves",
                 "tuning_depth", "v1_cka"].map { "rf_\(model)_\($0).svg" }
            } + [ReportFolder.marker]
        #expect(try FileManager.default.contentsOfDirectory(atPath: first.path).sorted() == expectedFiles.sorted())

        let markdown = try String(contentsOf: first.appendingPathComponent("report.md"), encoding: .utf8)
        let golden = try String(contentsOf: Self.fixtures.appendingPathComponent("compare/report-structure.md"), encoding: .utf8)
        #expect(Self.skeleton(markdown) == golden, "report structure changed:\n\(Self.skeleton(markdown))")
        #expect(!markdown.contains("Run time"))
        // Every figure the Markdown links is there, and every figure is linked.
        let svgs = expectedFiles.filter { $0.hasSuffix(".svg") }
        for svg in svgs { #expect(markdown.contains("(\(svg))"), "\(svg) is not linked") }

        let results = try JSONDecoder().decode(Results.self, from: Data(contentsOf: first.appendingPathComponent("results.json")))
        #expect(results.cka.layers_a == ["stem", "layer1", "pool1", "layer2.0", "layer2", "pool2", "fc"])
        for (i, row) in results.cka_a_a.matrix.enumerated() { #expect(abs((row[i] ?? 0) - 1) < 1e-9) }
        #expect(results.provenance.seconds == 0)
        let digest = try SHA256.hexDigest(ofFile: models.appendingPathComponent("digits-plain-seed1.onnx"))
        #expect(results.provenance.files.first?.sha256 == digest)

        // Same inputs and seed: the same bytes in every file.
        #expect(try compare(second).status == 0)
        for name in expectedFiles {
            #expect(try Data(contentsOf: first.appendingPathComponent(name)) == Data(contentsOf: second.appendingPathComponent(name)), "\(name) differs")
        }
    }

    /// The settings of the CKA beside which the report puts intervals and influences are the
    /// settings of those too: precision, estimator and confidence all reach the report.
    @Test func ckaSettingsReachEveryPartOfTheReport() throws {
        let work = Self.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let probe = try Self.smallDigitsProbe(in: work)
        let model = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let other = Self.root.appendingPathComponent("models/digits-plain-seed2.onnx").path
        struct Written: Decodable {
            struct Correspondence: Decodable { var cka: Double; var lower: Double?; var upper: Double? }
            struct InfluentialSample: Decodable { var layer_a: String; var cka: Double }
            struct Provenance: Decodable { var dtype: String; var estimator: String; var confidence: Double? }
            var cka: Results.LayerMatrix
            var correspondences: [Correspondence]
            var influential_samples: [InfluentialSample]
            var provenance: Provenance
        }
        func compare(_ name: String, _ options: [String]) throws -> (Written, String) {
            let output = work.appendingPathComponent(name)
            let result = try cli.run(["compare", model, other, "--probe", probe.path, "--resamples", "100", "--no-receptive-fields",
                                      "--no-random-baseline", "--no-timing", "-o", output.path] + options)
            #expect(result.status == 0, "\(result.stderr)")
            return (try JSONDecoder().decode(Written.self, from: Data(contentsOf: output.appendingPathComponent("results.json"))),
                    try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8))
        }
        let (double, _) = try compare("float64", [])
        let (single, singleReport) = try compare("float32", ["--precision", "float32", "--confidence", "0.9"])
        #expect(single.provenance.dtype.contains("float32 CKA products") && double.provenance.dtype.contains("float64"))
        let pairs = zip(single.cka.matrix.joined(), double.cka.matrix.joined()).map { ($0 ?? .nan, $1 ?? .nan) }
        #expect(pairs.contains { $0 != $1 }, "float32 products gave the float64 bits")
        #expect(pairs.allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(single.provenance.confidence == 0.9 && double.provenance.confidence == 0.95)
        #expect(singleReport.contains("| 90 % interval |") && !singleReport.contains("95 %"))

        // With the unbiased estimator the interval and the influences are the unbiased ones:
        // each interval brackets its value, and each influential sample quotes the value.
        let (unbiased, _) = try compare("unbiased", ["--estimator", "unbiased"])
        #expect(unbiased.provenance.estimator == "unbiased")
        for c in unbiased.correspondences {
            let (lower, upper) = (try #require(c.lower), try #require(c.upper))
            #expect(lower <= c.cka && c.cka <= upper, "\(c.cka) outside [\(lower), \(upper)]")
        }
        for sample in unbiased.influential_samples {
            #expect(unbiased.correspondences.contains { $0.cka == sample.cka })
        }
        #expect(zip(unbiased.correspondences, double.correspondences).contains { $0.lower != $1.lower })
    }

    @Test func aReportRendersAgainFromItsResults() throws {
        let work = Self.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let probe = try Self.smallDigitsProbe(in: work)
        let model = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let first = work.appendingPathComponent("first"), again = work.appendingPathComponent("again")
        let run = try cli.run(["compare", model, "--against", "v1", "--probe", probe.path, "--resamples", "20", "-o", first.path])
        #expect(run.status == 0, "\(run.stderr)")
        let rendered = try cli.run(["report", first.appendingPathComponent("results.json").path, "-o", again.path])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: first.path).sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: again.path).sorted() == names)
        for name in names {
            #expect(try Data(contentsOf: first.appendingPathComponent(name)) == Data(contentsOf: again.appendingPathComponent(name)), "\(name) differs")
        }
        let broken = work.appendingPathComponent("broken.json")
        try Data("{\"model_a\": 3}".utf8).write(to: broken)
        let refused = try cli.run(["report", broken.path, "-o", work.appendingPathComponent("never").path])
        #expect(refused.status != 0 && refused.stderr.contains("broken.json"))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("never").path))
    }

    @Test func aFailedRunLeavesThePreviousReportAlone() throws {
        let work = Self.folder()
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let output = work.appendingPathComponent("report")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try Data("earlier".utf8).write(to: output.appendingPathComponent("report.md"))
        try Data().write(to: output.appendingPathComponent(ReportFolder.marker))
        let model = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let unknown = try cli.run(["compare", model, model, "--probe", "digits", "--layers", "stem,nonsense", "-o", output.path])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("nonsense") && unknown.stderr.contains("layer1.0.conv1"))
        let broken = work.appendingPathComponent("broken.onnx")
        try Data(try Data(contentsOf: URL(fileURLWithPath: model)).prefix(3000)).write(to: broken)
        let truncated = try cli.run(["compare", model, broken.path, "--probe", "digits", "-o", output.path])
        #expect(truncated.status != 0)
        #expect(truncated.stderr.contains("broken.onnx"))
        #expect(try String(contentsOf: output.appendingPathComponent("report.md"), encoding: .utf8) == "earlier")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).sorted() == ["broken.onnx", "report"])
        let fresh = work.appendingPathComponent("never")
        #expect(try cli.run(["compare", model, "--probe", "no-such-probe", "-o", fresh.path]).status != 0)
        #expect(!FileManager.default.fileExists(atPath: fresh.path))
    }

    /// `-o DIR` replaces only a folder that repprobe wrote (or an empty one): a folder of the
    /// user's files is refused before anything runs, and replaced only with `--force`. Staging
    /// folders that a killed run left beside it are removed.
    @Test func aFolderOfTheUsersFilesIsNeverReplacedSilently() throws {
        let work = Self.folder()
        let mine = work.appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try Data("my notes".utf8).write(to: mine.appendingPathComponent("notes.txt"))
        let stale = work.appendingPathComponent(".mine.new-2147483000-0badcafe")
        let live = work.appendingPathComponent(".mine.new-\(ProcessInfo.processInfo.processIdentifier)-0badcafe")
        for folder in [stale, live] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let probe = try Self.smallDigitsProbe(in: work)
        let model = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let arguments = ["compare", model, "--against", "v1", "--probe", probe.path, "--resamples", "20", "-o", mine.path]
        let refused = try cli.run(arguments)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("holds files repprobe did not write (notes.txt)") && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try String(contentsOf: mine.appendingPathComponent("notes.txt"), encoding: .utf8) == "my notes")
        let forced = try cli.run(arguments + ["--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: mine.path)
        #expect(!written.contains("notes.txt") && written.contains(ReportFolder.marker) && written.contains("report.md"))
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
        // Its own report is replaced without --force.
        #expect(try cli.run(arguments).status == 0)
        let inFile = try cli.run(["compare", model, "--against", "v1", "--probe", probe.path, "-o", mine.appendingPathComponent("report.md/sub").path])
        #expect(inFile.status != 0 && inFile.stderr.contains("report.md is a file, not a folder"), "\(inFile.stderr)")
    }

    @Test func mistakesOnTheCommandLineAreCaughtBeforeRunning() throws {
        let model = Self.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let noInputs = try cli.run(["compare", model, model])
        #expect(noInputs.status != 0 && noInputs.stderr.contains("--probe NAME"))
        let both = try cli.run(["compare", model, "--probe", "digits", "--input", "x.npy"])
        #expect(both.status != 0 && both.stderr.contains("either --probe or --input"))
        for confidence in ["1", "0", "nan", "-0.5"] {
            let refused = try cli.run(["compare", model, "--probe", "digits", "--confidence", confidence, "-o", "never"])
            #expect(refused.status != 0 && refused.stderr.contains("--confidence"), "\(confidence)")
        }
        let twice = try cli.run(["compare", model, model, "--input", "a.npy", "--input", "b.npy"])
        #expect(twice.status != 0 && twice.stderr.contains("--input"))
        let badReduction = try cli.run(["compare", model, "--probe", "digits", "--reduce", "subsample:0"])
        #expect(badReduction.status != 0 && badReduction.stderr.contains("subsample:0"))
        let unknownProbe = try cli.run(["compare", model, "--probe", "digitz"])
        #expect(unknownProbe.status != 0 && unknownProbe.stderr.contains("digits, digits-small, digits-train, digits-train-0to4, digits-train-5to9, gratings, noise"))
    }
}

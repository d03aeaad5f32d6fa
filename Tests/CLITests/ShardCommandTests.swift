import Foundation
import RepProbeKit
import Testing

/// `compare --shard K/N`, `merge`, and `compare` under `mpirun`, as a user runs them: the
/// table of one run, the same bytes however the shards are named or run, and clear refusals.
@Suite struct ShardCommandTests {
    let cli = CLITests()

    /// The two digits networks on the digits probe set, five layers each, batches of 16 (23
    /// batches of 360 digits, so that four shards or processes all get some).
    static var comparison: [String] {
        let root = CompareReportTests.root
        return ["compare", root.appendingPathComponent("models/digits-plain-seed1.onnx").path,
                root.appendingPathComponent("models/digits-residual-seed1.onnx").path, "--probe", "digits",
                "--layers", "stem,layer1,pool1,layer2,fc", "--reduce", "mean", "--batch-size", "16"]
    }

    static func matrix(_ json: String) throws -> CLITests.MatrixOutput {
        try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(json.utf8))
    }

    static func expectClose(_ a: CLITests.MatrixOutput, _ b: CLITests.MatrixOutput, within tolerance: Double) {
        #expect(a.layers_a == b.layers_a && a.layers_b == b.layers_b)
        let error = zip(a.matrix.joined(), b.matrix.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error <= tolerance, "largest difference \(error)")
    }

    @Test func shardsMergeIntoTheTableOfOneRun() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let whole = try cli.run(Self.comparison + ["--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        var files: [String] = []
        for k in 1...3 {
            let file = folder.appendingPathComponent("acc-\(k).safetensors").path
            let shard = try cli.run(Self.comparison + ["--shard", "\(k)/3", "-o", file])
            #expect(shard.status == 0 && shard.stdout.contains("shard \(k)/3"), "\(shard.stderr)")
            files.append(file)
        }
        let merged = try cli.run(["merge"] + files + ["--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        Self.expectClose(try Self.matrix(merged.stdout), try Self.matrix(whole.stdout), within: 1e-12)
        let reordered = try cli.run(["merge", files[2], files[0], files[1], "--json"])
        #expect(reordered.stdout == merged.stdout)

        // In stages: shards 1 and 3 into a file, then shard 2 with it.
        let partial = folder.appendingPathComponent("partial.safetensors").path
        let stage = try cli.run(["merge", files[0], files[2], "-o", partial])
        #expect(stage.status == 0 && stage.stdout.contains("shards 1, 3 of 3"), "\(stage.stdout)\(stage.stderr)")
        let staged = try cli.run(["merge", partial, files[1], "--json"])
        Self.expectClose(try Self.matrix(staged.stdout), try Self.matrix(whole.stdout), within: 1e-12)
        let table = try cli.run(["merge"] + files)
        #expect(table.stdout.hasPrefix("linear CKA, biased estimator, 360 samples, reduction mean"), "\(table.stdout)")

        // What cannot be merged is refused by name, and nothing is written.
        let missing = try cli.run(["merge", files[0], files[2]])
        #expect(missing.status != 0 && missing.stderr.contains("shard 2 missing"), "\(missing.stderr)")
        let twice = try cli.run(["merge", files[0], files[0]])
        #expect(twice.status != 0 && twice.stderr.contains("shard 1 of 3 is also in"), "\(twice.stderr)")
        let other = folder.appendingPathComponent("other.safetensors").path
        let otherB = Self.comparison.map { $0.hasSuffix("digits-residual-seed1.onnx") ? $0.replacingOccurrences(of: "residual-seed1", with: "plain-seed2") : $0 }
        #expect(try cli.run(otherB + ["--shard", "2/3", "-o", other]).status == 0)
        let mismatched = try cli.run(["merge", files[0], other])
        #expect(mismatched.status != 0 && mismatched.stderr.contains("other.safetensors") && mismatched.stderr.contains("model b"),
                "\(mismatched.stderr)")
        let foreign = try cli.run(["merge", folder.appendingPathComponent("a.npz").path])
        #expect(foreign.status != 0 && foreign.stderr.contains("a.npz"), "\(foreign.stderr)")
        let notWritten = folder.appendingPathComponent("never.safetensors")
        _ = try cli.run(["merge", files[0], files[0], "-o", notWritten.path])
        #expect(!FileManager.default.fileExists(atPath: notWritten.path))
    }

    @Test func badShardOptionsAreRefused() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString).safetensors").path
        for shard in ["0/3", "4/3", "x", "1/0", "2", "-1/3"] {
            let refused = try cli.run(Self.comparison + ["--shard", shard, "-o", out])
            #expect(refused.status != 0 && refused.stderr.contains("K/N"), "\(shard): \(refused.stderr)")
        }
        let cases: [([String], String)] = [
            (["--shard", "1/2"], "-o FILE.safetensors"),
            (["--shard", "1/2", "-o", "reports/x"], "-o FILE.safetensors"),
            (["--shard", "1/2", "-o", out, "--estimator", "unbiased"], "biased estimator"),
        ]
        for (extra, expected) in cases {
            let refused = try cli.run(Self.comparison + extra)
            #expect(refused.status != 0 && refused.stderr.contains(expected), "\(extra): \(refused.stderr)")
        }
        let tooMany = try cli.run(Self.comparison + ["--batch-size", "200", "--shard", "1/3", "-o", out])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("holds no samples: use at most 2 shards"), "\(tooMany.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let noFiles = try cli.run(["merge"])
        #expect(noFiles.status != 0)
        let jsonAndFile = try cli.run(["merge", out, "-o", "joined.safetensors", "--json"])
        #expect(jsonAndFile.status != 0 && jsonAndFile.stderr.contains("--json prints the table"), "\(jsonAndFile.stderr)")
        let timingOfTable = try cli.run(["merge", out, "--no-timing"])
        #expect(timingOfTable.status != 0 && timingOfTable.stderr.contains("-o FOLDER"), "\(timingOfTable.stderr)")
    }

    /// `mpirun` itself, with as many processes as asked on this machine's cores.
    func mpirun(_ processes: Int, _ arguments: [String]) throws -> CLITests.Result {
        try cli.run(arguments, under: ["mpirun", "--oversubscribe", "-np", String(processes)] + (getuid() == 0 ? ["--allow-run-as-root"] : []))
    }

    @Test(.enabled(if: MPIWorld.isAvailable, "this build has no Open MPI"))
    func processesOfMpirunGiveTheTableOfOneRun() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let whole = try Self.matrix(try cli.run(Self.comparison + ["--json"]).stdout)
        for processes in [2, 4] {
            let run = try mpirun(processes, Self.comparison + ["--json"])
            #expect(run.status == 0, "\(run.stderr)")
            Self.expectClose(try Self.matrix(run.stdout), whole, within: 1e-12)
            // The same bytes as the shards run one by one and merged.
            var files: [String] = []
            for k in 1...processes {
                files.append(folder.appendingPathComponent("acc-\(k)-of-\(processes).safetensors").path)
                #expect(try cli.run(Self.comparison + ["--shard", "\(k)/\(processes)", "-o", files[k - 1]]).status == 0)
            }
            // (The shards keep every pair, the processes that print the table those across.)
            Self.expectClose(try Self.matrix(try cli.run(["merge"] + files + ["--json"]).stdout), try Self.matrix(run.stdout), within: 1e-13)
            let saved = folder.appendingPathComponent("mpi-\(processes).safetensors").path
            #expect(try mpirun(processes, Self.comparison + ["-o", saved]).status == 0)
            let merged = folder.appendingPathComponent("merged-\(processes).safetensors").path
            #expect(try cli.run(["merge"] + files + ["-o", merged]).status == 0)
            #expect(FileManager.default.contents(atPath: saved) == FileManager.default.contents(atPath: merged))
        }
        // A process that fails stops the run, and rank 0 says which and why, once.
        let tooMany = try mpirun(2, Self.comparison + ["--batch-size", "400"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("rank 0:") && !tooMany.stderr.contains("rank 1:"), "\(tooMany.stderr)")
        #expect(tooMany.stderr.components(separatedBy: "holds no samples: use at most 1 shard").count == 2, "\(tooMany.stderr)")
        // The report of the joined statistics: what `merge -o FOLDER` writes from the shards
        // run one by one (its numbers to the last bits, which LAPACK's threads may round
        // otherwise in another process).
        let report = folder.appendingPathComponent("report-mpi")
        let run = try mpirun(2, Self.comparison + ["-o", report.path, "--no-timing"])
        #expect(run.status == 0 && run.stdout.contains("wrote \(report.path)/report.md"), "\(run.stdout)\(run.stderr)")
        let merged = folder.appendingPathComponent("report-merged")
        let files = (1...2).map { folder.appendingPathComponent("acc-\($0)-of-2.safetensors").path }
        #expect(try cli.run(["merge"] + files + ["-o", merged.path, "--no-timing"]).status == 0)
        for name in ["report.md", "cka_a_b.svg", "cka_a_a.svg"] {
            let bytes = FileManager.default.contents(atPath: report.appendingPathComponent(name).path)
            #expect(bytes != nil && bytes == FileManager.default.contents(atPath: merged.appendingPathComponent(name).path), "\(name)")
        }
        try Self.expectSameNumbers(report, merged, within: 1e-13)
    }

    /// The CKA tables and participation ratios of two reports' results.json agree.
    static func expectSameNumbers(_ a: URL, _ b: URL, within tolerance: Double) throws {
        struct Numbers: Decodable {
            struct Table: Decodable { var layers_a: [String]; var matrix: [[Double?]] }
            struct Layer: Decodable { var layer: String; var participation_ratio: Double? }
            var cka: Table, cka_a_a: Table?, layers_a: [Layer], layers_b: [Layer]
        }
        let x = try JSONDecoder().decode(Numbers.self, from: try Data(contentsOf: a.appendingPathComponent("results.json")))
        let y = try JSONDecoder().decode(Numbers.self, from: try Data(contentsOf: b.appendingPathComponent("results.json")))
        #expect(x.cka_a_a != nil && y.cka_a_a != nil, "the tables within A")
        for case let (p?, q?) in [(x.cka, y.cka), (x.cka_a_a, y.cka_a_a)] as [(Numbers.Table?, Numbers.Table?)] {
            #expect(p.layers_a == q.layers_a)
            let error = zip(p.matrix.joined(), q.matrix.joined()).map { abs(($0 ?? .nan) - ($1 ?? .nan)) }.max() ?? .infinity
            #expect(error <= tolerance, "largest difference \(error)")
        }
        for (p, q) in zip(x.layers_a + x.layers_b, y.layers_a + y.layers_b) {
            let ratio = abs((p.participation_ratio ?? .nan) / (q.participation_ratio ?? .nan) - 1)
            #expect(p.layer == q.layer && ratio <= 1e-9, "\(p.layer): \(ratio)")
        }
    }

    @Test func mergedShardsWriteTheReportTheirStatisticsGive() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = (1...2).map { folder.appendingPathComponent("acc-\($0).safetensors").path }
        for (k, file) in files.enumerated() {
            #expect(try cli.run(Self.comparison + ["--shard", "\(k + 1)/2", "-o", file]).status == 0)
        }
        let one = folder.appendingPathComponent("one")
        let whole = try cli.run(Self.comparison + ["-o", one.path, "--resamples", "0", "--no-random-baseline", "--no-receptive-fields", "--no-timing"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let joined = folder.appendingPathComponent("joined")
        let merge = try cli.run(["merge"] + files + ["-o", joined.path])
        #expect(merge.status == 0 && merge.stdout.contains("wrote \(joined.path)/report.md"), "\(merge.stdout)\(merge.stderr)")
        let markdown = try String(contentsOf: joined.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("joined from 2 shards of the inputs") && markdown.contains("Join time:"))
        let names = try FileManager.default.contentsOfDirectory(atPath: joined.path).sorted()
        #expect(names == [ReportFolder.marker, "cka_a_a.svg", "cka_a_b.svg", "cka_b_b.svg", "pca_spectrum_a.svg", "pca_spectrum_b.svg", "report.md",
                          "results.json"],
                "\(names)")

        // The numbers of one run in memory, to rounding.
        try Self.expectSameNumbers(joined, one, within: 1e-10)

        // Missing shards give no report, and no folder.
        let missing = folder.appendingPathComponent("missing")
        let refused = try cli.run(["merge", files[0], "-o", missing.path])
        #expect(refused.status != 0 && refused.stderr.contains("shard 2 missing"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: missing.path))
    }
}

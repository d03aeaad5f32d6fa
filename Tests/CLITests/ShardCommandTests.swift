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
        let badOutput = try cli.run(["merge", out, "-o", "table.txt"])
        #expect(badOutput.status != 0 && badOutput.stderr.contains(".safetensors"), "\(badOutput.stderr)")
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
            #expect(try cli.run(["merge"] + files + ["--json"]).stdout == run.stdout)
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
        let report = try mpirun(2, Self.comparison + ["-o", folder.appendingPathComponent("report").path])
        #expect(report.status != 0 && report.stderr.contains("the report needs one process"), "\(report.stderr)")
    }
}

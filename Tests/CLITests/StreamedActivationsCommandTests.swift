import Foundation
import Testing

/// `capture` into safetensors shards, and `cka` and `pca` over activations larger than
/// their memory budget, streamed a block of samples at a time, as a user runs them.
@Suite struct StreamedActivationsCommandTests {
    let cli = CLITests()

    static func capture(_ output: String, extra: [String] = []) -> [String] {
        ["capture", CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path, "--probe", "digits",
         "--layers", "stem,layer1,pool1,layer2,fc", "--reduce", "mean", "--quiet", "-o", output] + extra
    }

    struct PCALayer: Decodable {
        var layer: String
        var explained_variance: [Double]
        var participation_ratio: Double?
        var total_variance: Double
    }

    @Test func shardedCapturesReadAsOneFileAndStreamBeyondTheBudget() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sharded = folder.appendingPathComponent("acts.safetensors").path
        let single = folder.appendingPathComponent("acts.npz").path
        // 360 digits × 5 layers of 12–16 features: 5 shards of at most 20 kB.
        let capture = try cli.run(Self.capture(sharded, extra: ["--max-shard-size", "20K"]))
        #expect(capture.status == 0 && capture.stderr.contains("5 shards and acts.safetensors.index.json"), "\(capture.stderr)")
        #expect(try cli.run(Self.capture(single)).status == 0)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("acts-00005-of-00005.safetensors").path))

        // In memory, the shards are the very activations of the .npz.
        let whole = try cli.run(["cka", single, "--json"])
        #expect(try cli.run(["cka", sharded, "--json"]).stdout == whole.stdout)
        #expect(try cli.run(["cka", sharded + ".index.json", "--json"]).stdout == whole.stdout)

        // Beyond the budget (the activations take 167 kB as float64), streamed.
        let streamed = try cli.run(["cka", sharded, "--json", "--memory", "100K"])
        #expect(streamed.status == 0 && streamed.stderr.contains("streaming linear CKA over 360 samples"), "\(streamed.stderr)")
        ShardCommandTests.expectClose(try ShardCommandTests.matrix(streamed.stdout), try ShardCommandTests.matrix(whole.stdout), within: 1e-12)
        let pair = try cli.run(["cka", sharded, single, "--json"])
        let streamedPair = try cli.run(["cka", sharded, folder.appendingPathComponent("acts-00001-of-00005.safetensors").path, "--json", "--memory", "100K"])
        #expect(streamedPair.status != 0 && streamedPair.stderr.contains("samples"), "one shard alone holds fewer samples: \(streamedPair.stderr)")
        let capturedAgain = folder.appendingPathComponent("again.safetensors").path
        #expect(try cli.run(Self.capture(capturedAgain)).status == 0)
        let bothStreamed = try cli.run(["cka", sharded, capturedAgain, "--json", "--memory", "200K"])
        #expect(bothStreamed.status == 0, "\(bothStreamed.stderr)")
        ShardCommandTests.expectClose(try ShardCommandTests.matrix(bothStreamed.stdout), try ShardCommandTests.matrix(pair.stdout), within: 1e-12)

        let pca = try JSONDecoder().decode([PCALayer].self, from: Data(try cli.run(["pca", single, "--json"]).stdout.utf8))
        let streamedRun = try cli.run(["pca", sharded, "--json", "--memory", "100K"])
        #expect(streamedRun.stderr.contains("streaming each layer's covariance"), "\(streamedRun.stderr)")
        let streamedPCA = try JSONDecoder().decode([PCALayer].self, from: Data(streamedRun.stdout.utf8))
        #expect(streamedPCA.map(\.layer) == pca.map(\.layer))
        for (s, m) in zip(streamedPCA, pca) {
            let error = zip(s.explained_variance + [s.total_variance], m.explained_variance + [m.total_variance]).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? .infinity
            #expect(error <= 1e-9 && abs((s.participation_ratio ?? .nan) - (m.participation_ratio ?? .nan)) <= 1e-9, "\(s.layer): \(error)")
        }

        // The unbiased estimator streams as minibatch CKA: what compare streams over the same
        // activations in the same batches (to float rounding of the forward pass).
        let minibatch = try cli.run(["cka", sharded, "--json", "--memory", "100K", "--estimator", "unbiased", "--batch-size", "32"])
        #expect(minibatch.status == 0 && minibatch.stderr.contains("streaming minibatch CKA over 360 samples"), "\(minibatch.stderr)")
        let compared = try cli.run(["compare", CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path, "--probe", "digits",
                                    "--layers", "stem,layer1,pool1,layer2,fc", "--reduce", "mean", "--batch-size", "32", "--estimator", "unbiased",
                                    "--memory", "20K", "--json"])
        #expect(compared.status == 0 && compared.stderr.contains("streaming minibatch CKA instead"), "\(compared.stderr)")
        ShardCommandTests.expectClose(try ShardCommandTests.matrix(minibatch.stdout), try ShardCommandTests.matrix(compared.stdout), within: 1e-6)

        // Ridge probes: two streamed passes with the in-memory folds score the same.
        let labels = CompareReportTests.root.appendingPathComponent("probes/data/digits.npz").path
        let probe = ["--labels", labels, "--label-array", "labels_test", "--json"]
        let inMemoryProbe = try cli.run(["probe", single] + probe)
        let streamedProbe = try cli.run(["probe", sharded, "--memory", "100K"] + probe)
        #expect(inMemoryProbe.status == 0 && streamedProbe.stderr.contains("streaming ridge probes over 360 samples"), "\(streamedProbe.stderr)")
        #expect(streamedProbe.stdout == inMemoryProbe.stdout)
        let logistic = try cli.run(["probe", sharded, "--memory", "100K", "--model", "logistic"] + probe)
        #expect(logistic.status != 0 && logistic.stderr.contains("--model ridge"), "\(logistic.stderr)")

        // What cannot stream says why, and which file.
        let npz = try cli.run(["cka", sharded, single, "--memory", "100K"])
        #expect(npz.status != 0 && npz.stderr.contains("acts.npz") && npz.stderr.contains("block of samples"), "\(npz.stderr)")
        let bootstrap = try cli.run(["cka", sharded, "--memory", "100K", "--bootstrap", "10"])
        #expect(bootstrap.status != 0 && bootstrap.stderr.contains("only the layer × layer table"), "\(bootstrap.stderr)")
        let smallBatch = try cli.run(["cka", sharded, "--batch-size", "3"])
        #expect(smallBatch.status != 0 && smallBatch.stderr.contains("at least 4"), "\(smallBatch.stderr)")
        let randomized = try cli.run(["pca", sharded, "--memory", "100K", "--randomized"])
        #expect(randomized.status != 0 && randomized.stderr.contains("--randomized"), "\(randomized.stderr)")
        let tooWide = try cli.run(["cka", sharded, "--memory", "10K"])
        #expect(tooWide.status != 0 && tooWide.stderr.contains("widest") && tooWide.stderr.contains("10.2 kB budget"), "\(tooWide.stderr)")
        let badOutput = try cli.run(Self.capture(folder.appendingPathComponent("acts.h5").path))
        #expect(badOutput.status != 0 && badOutput.stderr.contains(".npz or .safetensors"), "\(badOutput.stderr)")
    }

    @Test func ckaShardsOfStoresMergeIntoTheirTableAndReport() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a.safetensors").path, b = folder.appendingPathComponent("b.safetensors").path
        #expect(try cli.run(Self.capture(a, extra: ["--max-shard-size", "20K"])).status == 0)
        let modelB = CompareReportTests.root.appendingPathComponent("models/digits-plain-seed2.onnx").path
        #expect(try cli.run(["capture", modelB, "--probe", "digits", "--layers", "stem,layer1,pool1,layer2,fc", "--reduce", "mean", "--quiet", "-o", b]).status == 0)
        let shards = (1...3).map { folder.appendingPathComponent("s\($0).safetensors").path }
        for (k, shard) in shards.enumerated() {
            let run = try cli.run(["cka", a, b, "--shard", "\(k + 1)/3", "-o", shard])
            #expect(run.status == 0 && run.stdout.contains("shard \(k + 1)/3, 120 of 360 samples, 5 + 5 layers"), "\(run.stdout)\(run.stderr)")
        }
        let whole = try cli.run(["cka", a, b, "--json"])
        let merged = try cli.run(["merge", shards[2], shards[0], shards[1], "--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        ShardCommandTests.expectClose(try ShardCommandTests.matrix(merged.stdout), try ShardCommandTests.matrix(whole.stdout), within: 1e-12)
        let report = folder.appendingPathComponent("report").path
        #expect(try cli.run(["merge"] + shards + ["-o", report, "--no-timing"]).status == 0)
        let markdown = try String(contentsOfFile: report + "/report.md", encoding: .utf8)
        #expect(markdown.contains("The activations **A** are `a.safetensors`, **B** are `b.safetensors`")
                && markdown.contains("streamed from the activation files, joined from 3 shards of the samples"), "\(markdown.prefix(800))")

        // Shards of other activations, or refused options, say what is wrong.
        let c = folder.appendingPathComponent("c.safetensors").path
        #expect(try cli.run(Self.capture(c, extra: ["--batch-size", "7", "--reduce", "max"])).status == 0)
        let other = folder.appendingPathComponent("other.safetensors").path
        #expect(try cli.run(["cka", a, c, "--shard", "2/3", "-o", other]).status == 0)
        let mixed = try cli.run(["merge", shards[0], other])
        #expect(mixed.status != 0 && mixed.stderr.contains("has activations b c.safetensors"), "\(mixed.stderr)")
        for (arguments, message) in [(["--shard", "1/3"], "-o FILE.safetensors"), (["-o", folder.path + "/x.json"], "FILE.safetensors"),
                                     (["-o", other, "--estimator", "unbiased"], "biased estimator"),
                                     (["-o", other, "--shard", "1/400"], "use at most 360 shards")] {
            let run = try cli.run(["cka", a, b] + arguments)
            #expect(run.status != 0 && run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        let npz = folder.appendingPathComponent("a.npz").path
        #expect(try cli.run(Self.capture(npz)).status == 0)
        let notStreamable = try cli.run(["cka", npz, "--shard", "1/2", "-o", other])
        #expect(notStreamable.status != 0 && notStreamable.stderr.contains("a.npz") && notStreamable.stderr.contains("block of samples"),
                "\(notStreamable.stderr)")
        // A truncated .npy is refused naming it, and no statistics are written.
        let fixture = try Data(contentsOf: CompareReportTests.root.appendingPathComponent("Tests/Fixtures/formats/f32_c.npy"))
        let cut = folder.appendingPathComponent("cut.npy"), statistics = folder.appendingPathComponent("cut-stats.safetensors")
        try fixture.dropLast(4).write(to: cut)
        let truncated = try cli.run(["cka", cut.path, "--shard", "1/2", "-o", statistics.path])
        #expect(truncated.status != 0 && truncated.stderr.contains("cut.npy") && truncated.stderr.contains("truncated"), "\(truncated.stderr)")
        #expect(!FileManager.default.fileExists(atPath: statistics.path))
    }

    @Test func shardsCapturedBySeparateProcessesMakeOneSet() throws {
        let folder = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: folder) }
        let set = folder.appendingPathComponent("acts.safetensors").path
        let whole = folder.appendingPathComponent("whole.safetensors").path
        #expect(try cli.run(Self.capture(whole, extra: ["--batch-size", "16"])).status == 0)
        // Shards 3 and 1 of 3, in either order: the set is incomplete and says which is missing.
        for k in [3, 1] {
            let run = try cli.run(Self.capture(set, extra: ["--batch-size", "16", "--shard", "\(k)/3"]))
            #expect(run.status == 0 && run.stderr.contains("shard \(k)/3: acts-0000\(k)-of-00003.safetensors"), "\(run.stderr)")
        }
        let incomplete = try cli.run(["cka", set])
        #expect(incomplete.status != 0 && incomplete.stderr.contains("acts-00002-of-00003.safetensors") && incomplete.stderr.contains("missing"),
                "\(incomplete.stderr)")
        #expect(try cli.run(Self.capture(set, extra: ["--batch-size", "16", "--shard", "2/3"])).status == 0)
        // 23 batches of 16: shards of 7, 8 and 8 batches, the last one short.
        let index = try String(contentsOfFile: set + ".index.json", encoding: .utf8)
        #expect(index.contains("\"rows\" : 112") && index.contains("\"rows\" : 128") && index.contains("\"rows\" : 120"), "\(index)")
        let joined = try cli.run(["cka", set, "--json"]), reference = try cli.run(["cka", whole, "--json"])
        #expect(joined.status == 0 && joined.stdout == reference.stdout, "\(joined.stderr)")

        let refused = try cli.run(Self.capture(folder.appendingPathComponent("x.npz").path, extra: ["--shard", "1/2"]))
        #expect(refused.status != 0 && refused.stderr.contains("-o NAME.safetensors"), "\(refused.stderr)")
        let empty = try cli.run(Self.capture(set, extra: ["--batch-size", "400", "--shard", "1/2"]))
        #expect(empty.status != 0 && empty.stderr.contains("use at most 1 shard"), "\(empty.stderr)")
    }
}

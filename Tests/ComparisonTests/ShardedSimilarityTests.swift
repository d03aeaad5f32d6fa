import Activations
import Analysis
@testable import Comparison
import Formats
import Foundation
import LinearAlgebra
import Probe
import Report
import Results
import Testing

/// Shards of a comparison, each run alone and saved, join into the table of one run over
/// all the inputs; files from other comparisons, or damaged ones, are refused by name.
@Suite struct ShardedSimilarityTests {
    @Test func shardsPartitionTheInputsEvenly() throws {
        for total in [0, 1, 7, 360, 1_000_003] {
            for count in [1, 2, 3, 7, 64] {
                let ranges = try (1...count).map { try Shard($0, of: count).samples(of: total) }
                #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == total)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                let sizes = ranges.map(\.count)
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1, "\(total) in \(count): \(sizes)")
            }
        }
        // No overflow for counts beyond any data set.
        #expect(abs(try Shard(3, of: 4).samples(of: Int.max / 2).count - Int.max / 8) <= 1)
        // In batches, shards are cut between batches: 300 samples in 5 batches of 64.
        let batched = try (1...3).map { try Shard($0, of: 3).samples(of: 300, batchSize: 64) }
        #expect(batched == [0..<64, 64..<192, 192..<300])
        #expect(try (1...7).map { try Shard($0, of: 7).samples(of: 300, batchSize: 64).count } == [0, 64, 64, 0, 64, 64, 44])
        #expect(try Shard.sampleCounts(7, of: 300, batchSize: 64) == [0, 64, 64, 0, 64, 64, 44])
        #expect(throws: ShardError.self) { try Shard.sampleCounts(0, of: 300, batchSize: 64) }
        #expect(try Shard(2, of: 2).samples(of: Int.max, batchSize: Int.max / 2) == (Int.max / 2)..<Int.max)
        #expect(try Shard(parsing: "3/8") == Shard(3, of: 8))
        for text in ["0/4", "5/4", "4", "a/b", "-1/2", "1/0", "1/2/3", "", "/4"] {
            #expect(throws: ShardError.self, "\(text)") { try Shard(parsing: text) }
        }
    }

    static func accumulators(_ plan: ComparisonPlan, shards count: Int) throws -> [SimilarityAccumulator] {
        try (1...count).map { k in
            var shard = plan
            shard.shard = try Shard(k, of: count)
            return try shard.similarityAccumulator()
        }
    }

    @Test func mergedShardsGiveTheTableOfOneRunInAnyOrder() throws {
        var plan = try StreamedSimilarityTests.plan()
        plan.batchSize = 16
        let inMemory = try plan.similarity()
        // 300 samples in 19 batches, 7 shards of 2 or 3 batches.
        let parts = try Self.accumulators(plan, shards: 7)
        #expect(parts.map(\.statistics.samples) == [32, 48, 48, 32, 48, 48, 44])
        let merged = try SimilarityAccumulator.merging(parts)
        #expect(merged.isComplete && merged.statistics.samples == 300)
        StreamedSimilarityTests.expectSame(try merged.similarity(), inMemory)
        let streamed = try plan.similarityAccumulator().similarity()
        let error = zip(try merged.similarity().values.joined(), streamed.values.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error <= 1e-12, "sharded against one streamed run: \(error)")

        // Any order, and any grouping into files read back, gives the same bytes.
        let bytes = try merged.encoded()
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<3 {
            #expect(try SimilarityAccumulator.merging(parts.shuffled(using: &generator)).encoded() == bytes)
        }
        let decoded = try parts.map { try SimilarityAccumulator(decoding: try $0.encoded(), file: "shard") }
        #expect(decoded == parts)
        // As processes pass them: a header, then the arrays straight into place.
        for part in parts {
            var arrays: [[UInt8]] = []
            part.forEachArray { arrays.append(Array($0)) }
            var next = 0
            let received = try SimilarityAccumulator(wireHeader: try part.wireHeader(), origin: "rank 1") { buffer in
                #expect(buffer.count == arrays[next].count)
                arrays[next].withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(buffer.count))) }
                next += 1
            }
            #expect(received == part && next == arrays.count)
        }
        #expect(throws: ProbeError.self) { try SimilarityAccumulator(wireHeader: Array("{}".utf8), origin: "rank 1") { _ in } }
        #expect(try SimilarityAccumulator.merging(decoded.reversed()).encoded() == bytes)

        // Joined in stages (1–3, then 4–7 with it), the table agrees to rounding.
        let staged = try SimilarityAccumulator.merging([try SimilarityAccumulator.merging(Array(parts[3...])),
                                                         try SimilarityAccumulator.merging(Array(parts[..<3]))])
        let stagedError = zip(try staged.similarity().values.joined(), try merged.similarity().values.joined()).map { abs($0 - $1) }.max() ?? .infinity
        #expect(stagedError <= 1e-13)

        // A against itself, sharded, has the symmetric table.
        var itself = plan
        itself.modelB = .same
        StreamedSimilarityTests.expectSame(try SimilarityAccumulator.merging(try Self.accumulators(itself, shards: 3)).similarity(),
                                           try itself.similarity())
    }

    @Test func joinedShardsGiveTheReportOfOneRunWhereStatisticsSuffice() throws {
        var plan = try StreamedSimilarityTests.plan()
        plan.batchSize = 16
        (plan.bootstrapResamples, plan.randomBaseline, plan.influentialSamples) = (0, false, 0)
        let one = try plan.run()
        let parts = try (1...3).map { k in
            var shard = plan
            shard.shard = try Shard(k, of: 3)
            return try shard.similarityAccumulator(allPairs: true)
        }
        #expect(parts.allSatisfy { $0.keepsAllPairs })
        #expect(try parts.map { try SimilarityAccumulator(decoding: try $0.encoded(), file: "shard") } == parts)
        let joined = try SimilarityAccumulator.merging(parts).comparisonResults()

        func largestDifference(_ a: ComparisonResults.LayerMatrix?, _ b: ComparisonResults.LayerMatrix?) -> Double {
            guard let a, let b, a.layersA == b.layersA, a.layersB == b.layersB else { return .infinity }
            return zip(a.values.joined(), b.values.joined()).map { abs($0 - $1) }.max() ?? .infinity
        }
        #expect(largestDifference(joined.cka, one.cka) <= 1e-10)
        #expect(largestDifference(joined.ckaAA, one.ckaAA) <= 1e-10)
        #expect(largestDifference(joined.ckaBB, one.ckaBB) <= 1e-10)
        #expect(joined.correspondences.map(\.bestMatch) == one.correspondences.map(\.bestMatch))
        #expect(joined.correspondences.map(\.runnerUp) == one.correspondences.map(\.runnerUp))
        #expect(zip(joined.correspondences, one.correspondences).allSatisfy { abs($0.cka - $1.cka) <= 1e-10 })
        for (streamed, whole) in zip(joined.layersA + joined.layersB, one.layersA + one.layersB) {
            #expect(streamed.layer == whole.layer && streamed.width == whole.width && streamed.components90 == whole.components90)
            let ratio = abs((streamed.participationRatio ?? .nan) / (whole.participationRatio ?? .nan) - 1)
            #expect(ratio <= 1e-9, "\(whole.layer): participation ratio \(streamed.participationRatio ?? .nan) against \(whole.participationRatio ?? .nan)")
            let spectrum = zip(streamed.explainedVarianceRatio, whole.explainedVarianceRatio).map { abs($0 - $1) }.max() ?? .infinity
            #expect(streamed.explainedVarianceRatio.count == whole.explainedVarianceRatio.count && spectrum <= 1e-9)
            #expect(streamed.probeAccuracy == nil)
        }
        #expect((joined.checks.selfSimilarityMaxDeviation ?? .infinity) <= 1e-12)
        #expect(joined.provenance.files == one.provenance.files && joined.provenance.probeSet == one.provenance.probeSet)
        #expect(joined.provenance.samples == 300 && joined.provenance.joinedShards == 3 && joined.modelA == one.modelA && joined.modelB == one.modelB)
        #expect(joined.chance == nil && joined.projections.isEmpty && joined.influentialSamples.isEmpty && joined.filtersA == nil)
        let report = ComparisonReport(joined, includeTiming: false)
        let markdown = report.markdown()
        #expect(markdown.contains("joined from 3 shards of the inputs") && markdown.contains("## Each model against itself"))
        #expect(!markdown.contains("linearly decodable") && !markdown.contains("bootstrap percentile interval"))
        #expect(report.figures().map(\.name).contains("cka_b_b.svg"))

        // A shard that kept only the pairs across (a smaller budget) joins the others:
        // together they keep the pairs across, the values the others hold of them.
        var small = plan
        small.shard = try Shard(2, of: 3)
        small.memoryBudget = 3 * StreamingCKA.bytes(widths: parts[1].statistics.widths, rowLayers: nil)! - 3
        var heard: [String] = []
        let across = try small.similarityAccumulator(allPairs: true, notice: { heard.append($0) })
        #expect(!across.keepsAllPairs && heard.contains { $0.contains("pairs across the networks only") }, "\(heard)")
        let mixed = try SimilarityAccumulator.merging([parts[0], across, parts[2]])
        let acrossOnly = [try parts[0].keepingPairsAcross(), across, try parts[2].keepingPairsAcross()]
        #expect(acrossOnly.allSatisfy { !$0.keepsAllPairs })
        #expect(try mixed.encoded() == (try SimilarityAccumulator.merging(acrossOnly).encoded()))
        #expect(try SimilarityAccumulator.merging([across, parts[2], parts[0]]).encoded() == (try mixed.encoded()))
        let partial = try mixed.comparisonResults()
        #expect(partial.ckaAA == nil && partial.ckaBB == nil && partial.checks.selfSimilarityMaxDeviation == nil)
        #expect(largestDifference(partial.cka, joined.cka) <= 1e-13)
        #expect(!ComparisonReport(partial).markdown().contains("Each model against itself"))
    }

    @Test func shardsOfOtherComparisonsAreRefusedNamingTheDifference() throws {
        let plan = try StreamedSimilarityTests.plan()
        var parts = try Self.accumulators(plan, shards: 2)
        for k in parts.indices { parts[k].origin = "acc-\(k + 1).safetensors" }
        func refusal(_ other: ComparisonPlan, shards: Int = 2, index: Int = 2) throws -> String {
            var shard = other
            shard.shard = try Shard(index, of: shards)
            var accumulator = try shard.similarityAccumulator()
            accumulator.origin = "other.safetensors"
            do {
                _ = try SimilarityAccumulator.merging([parts[0], accumulator])
                return "merged"
            } catch {
                return error.localizedDescription
            }
        }
        var otherB = plan
        otherB.modelB = .network(try ComparedModel.load(ComparisonPlanTests.root.appendingPathComponent("models/digits-plain-seed2.onnx")))
        let b = try refusal(otherB)
        #expect(b.contains("other.safetensors") && b.contains("model b") && b.contains("digits-plain-seed2.onnx")
                && b.contains("digits-residual-seed1.onnx"), "\(b)")
        var fewerLayers = plan
        fewerLayers.layersB = .names(Array(ComparisonPlanTests.layers.dropLast()))
        #expect(try refusal(fewerLayers).contains("layer"))
        var projected = plan
        projected.reduction = .max
        #expect(try refusal(projected).contains("reduction max"))
        #expect(try refusal(plan, shards: 3).contains("is a shard of 3, where acc-1.safetensors has 2"))
        var otherInputs = plan
        otherInputs.inputs = .probeSet(try plan.probeSet().slice(0..<200))
        #expect(try refusal(otherInputs).contains("200 samples"))
        let twice = try refusal(plan, index: 1)
        #expect(twice.contains("shard 1 of 2 is also in acc-1.safetensors"), "\(twice)")

        // An incomplete set names what is missing.
        #expect {
            try SimilarityAccumulator.merging([parts[1]]).similarity()
        } throws: { error in
            error.localizedDescription.contains("covers shards 2 of 2: shard 1 missing")
        }
    }

    @Test func damagedOrForeignFilesAreRefusedByName() throws {
        var plan = try StreamedSimilarityTests.plan()
        plan.layersA = .names(Array(ComparisonPlanTests.layers.prefix(2)))
        plan.layersB = plan.layersA
        plan.shard = try Shard(1, of: 2)
        let good = try plan.similarityAccumulator()
        let contents = try Safetensors.decode(try good.encoded(), file: "good")
        func damaged(metadata: (inout [String: String]) -> Void = { _ in },
                     tensors: (inout [String: NumericArray]) -> Void = { _ in }) throws -> String {
            var meta = contents.metadata
            metadata(&meta)
            var arrays = Dictionary(uniqueKeysWithValues: contents.tensors.map { ($0.name, $0.array) })
            tensors(&arrays)
            let data = try Safetensors.encode(arrays.keys.sorted().map { ($0, arrays[$0]!) }, metadata: meta)
            do {
                _ = try SimilarityAccumulator(decoding: data, file: "bad.safetensors")
                return "read"
            } catch {
                return error.localizedDescription
            }
        }
        #expect(try damaged() == "read")
        let widths = good.statistics.widths, total = good.statistics.statistics.width
        #expect(widths.count == 4)
        let cases: [(String, String)] = [
            (try damaged(metadata: { $0["format"] = nil }), "not a repprobe similarity accumulator"),
            (try damaged(metadata: { $0["version"] = "2" }), "accumulator version '2'"),
            (try damaged(metadata: { $0["provenance"] = "{\"layers\": 3}" }), "not the JSON of an accumulator"),
            (try damaged(metadata: { $0["provenance"] = $0["provenance"]!.replacingOccurrences(of: "\"shards\":[1]", with: "\"shards\":[3]") }),
             "not distinct shards of 1…2"),
            (try damaged(metadata: { $0["provenance"] = $0["provenance"]!.replacingOccurrences(of: "\"inputs\":300", with: "\"inputs\":-3") }),
             "has -3 inputs in batches of 120"),
            (try damaged(metadata: { $0["provenance"] = $0["provenance"]!.replacingOccurrences(of: "\"inputs\":300", with: "\"inputs\":400") }),
             "covers 120 samples where shards 1 of 400 inputs have 240"),
            (try damaged(metadata: { $0["provenance"] = $0["provenance"]!.replacingOccurrences(of: "linear-cka-biased", with: "rbf") }),
             "statistics for 'rbf'"),
            (try damaged(tensors: { $0["means"] = nil }), "needs a float64 tensor 'means'"),
            (try damaged(tensors: { $0["widths"] = NumericArray(shape: [4], int64: widths.map(Int64.init).dropLast() + [-1]) }), "width below 1"),
            (try damaged(tensors: { $0["widths"] = NumericArray(shape: [4], int64: widths.map(Int64.init).dropLast() + [Int64(widths[3] + 1)]) }),
             "summing to \(total + 1)"),
            (try damaged(tensors: { $0["widths"] = NumericArray(shape: [4], int64: [Int64.max, Int64.max, 1, 1]) }), "needs a float64 tensor"),
            (try damaged(tensors: {
                let (r, c) = (widths[0] + widths[1], widths[2] + widths[3])
                $0["comoments.4"] = NumericArray(shape: [r, c - 1], float64: Array($0["comoments.4"]!.doubles().prefix(r * (c - 1))))
            }),
             "needs a float64 tensor 'comoments.4' [\(widths[0] + widths[1]), \(widths[2] + widths[3])]"),
            (try damaged(tensors: { var m = $0["comoments.0"]!.doubles(); m[1] += 1; $0["comoments.0"] = NumericArray(shape: [widths[0], widths[0]], float64: m) }),
             "asymmetric co-moment block (comoments.0)"),
            (try damaged(tensors: {
                var m = $0["comoments.1"]!.doubles(); m[widths[1] + 1] = -1; $0["comoments.1"] = NumericArray(shape: [widths[1], widths[1]], float64: m)
            }), "negative variance (comoments.1, feature 1)"),
            (try damaged(tensors: { var m = $0["means"]!.doubles(); m[3] = .nan; $0["means"] = NumericArray(shape: [total], float64: m) }),
             "NaN or infinite mean"),
            (try damaged(tensors: { var m = $0["comoments.4"]!.doubles(); m[7] = .infinity; $0["comoments.4"] = NumericArray(shape: [widths[0] + widths[1], widths[2] + widths[3]], float64: m) }),
             "NaN or infinite co-moment (comoments.4)"),
        ]
        // Tensors beyond those of the format are left alone.
        #expect(try damaged(tensors: { $0["notes"] = $0["widths"] }) == "read")
        for (message, expected) in cases {
            #expect(message.contains("bad.safetensors") && message.contains(expected), "\(message) / \(expected)")
        }
        // A truncated file, and an activation file, are refused by the readers.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sharded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let truncated = folder.appendingPathComponent("truncated.safetensors")
        try good.encoded().prefix(5000).write(to: truncated)
        #expect(throws: FormatError.self) { try SimilarityAccumulator(contentsOf: truncated) }
        let activations = folder.appendingPathComponent("acts.safetensors")
        try Safetensors.write([("x", NumericArray(shape: [2, 2], float32: [1, 2, 3, 4]))], to: activations)
        #expect {
            try SimilarityAccumulator(contentsOf: activations)
        } throws: { error in
            error.localizedDescription.contains("acts.safetensors: not a repprobe similarity accumulator")
        }
    }

    /// Activation files shard at any sample: the shards' statistics join into the in-memory
    /// table, and shards of other files are refused naming the file.
    @Test func shardsOfActivationFilesJoinIntoTheirTable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-file-shards-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func file(_ name: String, seed: UInt64) throws -> (URL, [Matrix<Double>]) {
            var generator = SeededGenerator(seed: seed)
            let layers = [7, 4, 11].map { d in Matrix<Double>(rows: 101, columns: d, rowMajor: (0..<(101 * d)).map { _ in generator.nextGaussian() + 3 }) }
            let url = folder.appendingPathComponent(name)
            try ArrayFile.write(layers.enumerated().map { ("l\($0)", NumericArray(shape: [101, $1.columns], float64: $1.rowMajorElements)) },
                                to: url, format: .safetensors)
            return (url, layers)
        }
        let (urlA, a) = try file("a.safetensors", seed: 1), (urlB, b) = try file("b.safetensors", seed: 2), (urlC, _) = try file("c.safetensors", seed: 3)
        let streamA = try ActivationStream(urlA), streamB = try ActivationStream(urlB)
        // A block of a shard's rows is the file's.
        #expect(try streamA.rows(40..<90).block(3..<5, layer: 2) == streamA.block(43..<45, layer: 2))
        #expect(try streamA.rows(40..<90).fingerprint() == streamA.fingerprint())
        #expect(try streamA.fingerprint() != ActivationStream(urlC).fingerprint())

        let parts = try (1...4).map { k in
            try SimilarityAccumulator(streaming: streamA, against: streamB, shard: Shard(k, of: 4), memoryLimit: 1 << 24, allPairsLimit: 1 << 24,
                                      repprobeVersion: "test")
        }
        #expect(parts.map(\.statistics.samples) == [25, 25, 25, 26])
        let merged = try SimilarityAccumulator.merging(parts.reversed())
        let expected = try CKAMatrix.compute(a, b, options: CKAOptions())
        let (table, within) = try merged.tables()
        let error = (0..<3).flatMap { i in (0..<3).map { abs(table.values[i][$0] - expected[i, $0]) } }.max() ?? .infinity
        #expect(error <= 1e-12, "joined shards against the in-memory table: \(error)")
        let withinA = try CKAMatrix.compute(a, options: CKAOptions())
        #expect(abs((within?.a[0][2] ?? .nan) - withinA[0, 2]) <= 1e-12)
        #expect(merged.provenance.files.map(\.role) == ["activations_a", "activations_b"])

        // A shard of other activations as B is another comparison.
        let other = try SimilarityAccumulator(streaming: streamA, against: ActivationStream(urlC), shard: Shard(2, of: 4), memoryLimit: 1 << 24,
                                              repprobeVersion: "test")
        #expect {
            try SimilarityAccumulator.merging([parts[0], other])
        } throws: { "\($0)".contains("has activations b c.safetensors") }
        #expect {
            try SimilarityAccumulator(streaming: streamA, against: streamB, shard: Shard(1, of: 200), memoryLimit: 1 << 24, repprobeVersion: "test")
        } throws: { "\($0)".contains("holds none: use at most 101 shards") }
        // Files of other sample counts are refused naming the second, before any shard is read.
        let fewer = folder.appendingPathComponent("fewer.safetensors")
        try ArrayFile.write([("l0", NumericArray(shape: [60, 2], float64: (0..<120).map(Double.init)))], to: fewer, format: .safetensors)
        #expect {
            try SimilarityAccumulator(streaming: streamA, against: ActivationStream(fewer), shard: Shard(4, of: 4), memoryLimit: 1 << 24, repprobeVersion: "test")
        } throws: { "\($0)".contains("fewer.safetensors") && "\($0)".contains("has 60 samples where") }
    }
}

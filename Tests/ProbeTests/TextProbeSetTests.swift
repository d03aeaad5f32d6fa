import Foundation
import Activations
@testable import Formats
import Testing
@testable import Networks
@testable import Probe

/// Text probe sets through Hugging Face folders: sentences tokenized by each model's own
/// tokenizer, padded, and reduced so that padding never counts.
@Suite struct TextProbeSetTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/huggingface")

    /// A probe-set YAML beside a data file holding `data`, in a fresh folder.
    static func probeSet(_ data: String, named file: String = "s.jsonl", settings: String = "") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try data.write(to: folder.appendingPathComponent(file), atomically: true, encoding: .utf8)
        let yaml = "stimuli:\n  kind: text\n  path: \(file)\n\(settings)"
        try yaml.write(to: folder.appendingPathComponent("set.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("set.yaml")
    }

    static let sentences = [
        "the cat sat on the mat", "neural networks learn representations in their hidden layers", "a",
        "Zürich, naïve café — déjà vu!", "prices rose sharply after the storm closed the port",
    ]

    static func capture(_ network: Network, _ set: ProbeSet, reduction: Reduction, layers: [String]) throws -> [[Float]] {
        let collector = ActivationCollector()
        try Capture.run(HookedNetwork(network), inputs: try set.sources(for: network),
                        settings: .init(layers: .names(layers), reduction: reduction, batchSize: 2), into: collector)
        return layers.indices.map { collector.values(ofLayer: $0).rows }
    }

    /// Each sentence alone (no padding) gives the activations of its padded row in a batch
    /// of sentences of other lengths, for every reduction that keeps one vector a sentence.
    @Test(arguments: ["bert", "gpt2"])
    func paddedAndUnpaddedBatchesAgree(model: String) throws {
        let network = try ModelLoader.load(Self.fixtures.appendingPathComponent(model)).network
        let layers = LayerCatalog(network).defaultLayers
        let text = Self.sentences.map { "{\"text\": \"\($0)\"}" }.joined(separator: "\n")
        let all = try ProbeSet.load(Self.probeSet(text).path, for: network)
        let tokens = try all.sources(for: network)["attention_mask"]!.batch(0..<all.count)
        let lengths = (tokens.elements(as: Int64.self) ?? []).chunked(tokens.shape[1]).map { $0.reduce(0, +) }
        #expect(Set(lengths).count > 2, "the sentences should need padding: \(lengths)")
        for reduction in [Reduction.mean, .max, .first, .last, .center] {
            let batched = try Self.capture(network, all, reduction: reduction, layers: layers)
            for k in Self.sentences.indices {
                let alone = try Self.capture(network, try all.slice(k..<(k + 1)), reduction: reduction, layers: layers)
                for (layer, (rows, single)) in zip(layers, zip(batched, alone)) {
                    let width = single.count
                    let row = Array(rows[(k * width)..<((k + 1) * width)])
                    let error = zip(row, single).map { abs($0 - $1) }.max() ?? .infinity
                    #expect(error < 1e-4, "\(model) \(reduction) \(layer) sentence \(k): \(error)")
                }
            }
        }
    }

    @Test func labelsOfJSONLinesBecomeSortedClasses() throws {
        let network = try ModelLoader.load(Self.fixtures.appendingPathComponent("bert")).network
        let file = try Self.probeSet("{\"text\": \"a\", \"topic\": \"z\"}\n\n{\"text\": \"b\", \"topic\": \"m\"}\n{\"text\": \"c\", \"topic\": \"z\"}\n",
                                     settings: "  label: topic\n  max_length: 8\n  padding: max_length\n")
        let set = try ProbeSet.load(file.path, for: network)
        #expect(set.count == 3 && set.labels == [1, 0, 1] && set.classNames == [0: "m", 1: "z"])
        #expect(set.reduction == .mean)
        let ids = try set.sources(for: network)["input_ids"]!.batch(0..<3)
        #expect(ids.shape == [3, 8])
        #expect(set.files.map(\.lastPathComponent) == ["set.yaml", "s.jsonl"])
    }

    @Test func aTextFileHoldsOneSentenceALine() throws {
        let network = try ModelLoader.load(Self.fixtures.appendingPathComponent("gpt2")).network
        let set = try ProbeSet.load(try Self.probeSet("first line\n\n   \nsecond line\r\n", named: "s.txt").path, for: network)
        #expect(set.text?.sentences == ["first line", "second line"] && set.labels == nil)
    }

    /// A sentence file with more sentences than the limit is refused, not cut short, unless
    /// the probe set asks for no more than the limit; blank lines do not count.
    @Test(arguments: ["s.txt", "s.jsonl"])
    func moreSentencesThanTheLimitAreRefusedUnlessFewerAreAsked(file: String) throws {
        let lines = (1...5).map { file == "s.txt" ? "sentence \($0)" : "{\"text\": \"sentence \($0)\"}" }
        let data = try Self.probeSet(lines.joined(separator: "\n\n") + "\n", named: file).deletingLastPathComponent()
            .appendingPathComponent(file)
        let settings = ProbeSetSpec.TextSettings(path: file)
        let three = ResourceLimit("sentences", "sentences read from a sentence file", count: 3)
        #expect {
            _ = try TextStimuli.read(settings, data: data, samples: nil, bound: three)
        } throws: { error in
            "\(error)".contains(data.path) && "\(error)".contains("more sentences than a sentence file may give (3; REPPROBE_LIMITS=sentences=6 raises it)")
        }
        #expect(throws: ProbeError.self) { try TextStimuli.read(settings, data: data, samples: 4, bound: three) }
        #expect(try TextStimuli.read(settings, data: data, samples: 3, bound: three).stimuli.sentences == ["sentence 1", "sentence 2", "sentence 3"])
        let five = ResourceLimit("sentences", "sentences read from a sentence file", count: 5)
        #expect(try TextStimuli.read(settings, data: data, samples: nil, bound: five).stimuli.sentences.count == 5)
    }

    @Test func brokenTextProbeSetsAreRefusedByName() throws {
        let network = try ModelLoader.load(Self.fixtures.appendingPathComponent("bert")).network
        let cases: [(String, String, String, String)] = [
            ("{\"text\": \"a\"}\n{oops\n", "s.jsonl", "", "line 2 is not JSON"),
            ("{\"words\": \"a\"}\n", "s.jsonl", "", "no string field 'text'"),
            ("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\"}\n", "s.jsonl", "", "line 2 has no label 'label'"),
            ("{\"text\": \"a\", \"label\": [1]}\n", "s.jsonl", "", "must be a string or an integer"),
            ("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \"x\"}\n", "s.jsonl", "", "mix strings and integers"),
            ("\n\n", "s.txt", "", "holds no sentence"),
            ("a\n", "s.txt", "  label: topic\n", "labels need JSON Lines"),
            ("a\n", "s.txt", "  max_length: 0\n", "max_length must be between"),
            ("a\n", "s.txt", "  padding: left\n", "padding must be longest or max_length"),
        ]
        // A sentence file larger than any (a sparse file), refused by its size before reading.
        let huge = try Self.probeSet("", named: "huge.jsonl")
        defer { try? FileManager.default.removeItem(at: huge.deletingLastPathComponent()) }
        let handle = try FileHandle(forWritingTo: huge.deletingLastPathComponent().appendingPathComponent("huge.jsonl"))
        try handle.truncate(atOffset: 1 << 31)
        try handle.close()
        #expect(throws: FormatError.self) { try ProbeSet.load(huge.path, for: network) }
        for (data, name, settings, expected) in cases {
            let file = try Self.probeSet(data, named: name, settings: settings)
            defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
            do {
                _ = try ProbeSet.load(file.path, for: network)
                Issue.record("\(expected): loaded")
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(message.contains(expected) && message.contains(file.deletingLastPathComponent().lastPathComponent), "\(expected): \(message)")
            }
        }
    }

    @Test func aModelWithoutTokenizerCannotReadText() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-notok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("bert/\(file)"), to: folder.appendingPathComponent(file))
        }
        let network = try ModelLoader.load(folder).network
        #expect(network.tokenizer == nil)
        let set = try ProbeSet.load(try Self.probeSet("{\"text\": \"a\"}\n").path, for: network)
        #expect(throws: ProbeError.self) { try set.sources(for: network) }
    }

    @Test func sentencesLongerThanThePositionTableAreCut() throws {
        let network = try ModelLoader.load(Self.fixtures.appendingPathComponent("bert")).network
        let long = Array(repeating: "representations", count: 100).joined(separator: " ")
        let set = try ProbeSet.load(try Self.probeSet("{\"text\": \"\(long)\"}\n", settings: "  max_length: 512\n").path, for: network)
        let ids = try set.sources(for: network)["input_ids"]!.batch(0..<1)
        #expect(ids.shape == [1, 40])
        _ = try network.run(Dictionary(uniqueKeysWithValues: try set.sources(for: network).map { ($0.key, try $0.value.batch(0..<1)) }))
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { Array(self[$0..<Swift.min(count, $0 + size)]) }
    }
}

/// A capture that would not fit in memory is refused when its first batch shows the widths.
@Suite struct CaptureMemoryLimitTests {
    @Test func aCaptureTooLargeForMemoryIsRefusedBeforeItRuns() throws {
        let collector = ActivationCollector(memoryLimit: 1_200_000)
        try collector.start(layers: ["wide", "narrow"], sampleIDs: Array(0..<1000))
        try collector.append(layer: 0, rows: [Float](repeating: 1, count: 2 * 100), features: 100, samples: 0..<2)
        do {
            try collector.append(layer: 1, rows: [Float](repeating: 1, count: 2 * 10), features: 10, samples: 0..<2)
            Issue.record("a 1000 × 110 capture fits in 1 MB")
        } catch let error as ProbeError {
            let message = error.localizedDescription
            #expect(message.contains("2 layers of 1000 samples"), "\(message)")
            #expect(message.contains("wide 100") && message.contains("1.3 MB") && message.contains("1.2 MB available")
                    && message.contains("project:K"), "\(message)")
        }
        let roomy = ActivationCollector(memoryLimit: 2_000_000)
        try roomy.start(layers: ["wide", "narrow"], sampleIDs: Array(0..<1000))
        try roomy.append(layer: 0, rows: [Float](repeating: 1, count: 2 * 100), features: 100, samples: 0..<2)
        try roomy.append(layer: 1, rows: [Float](repeating: 1, count: 2 * 10), features: 10, samples: 0..<2)
    }
}

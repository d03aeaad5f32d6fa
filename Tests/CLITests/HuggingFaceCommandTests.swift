import Foundation
import RepProbeKit
import Testing

/// The commands on Hugging Face folders and text probe sets (Tests/Fixtures/huggingface).
@Suite struct HuggingFaceCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/huggingface")
    static func folder(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
    let cli = CLITests()

    @Test func stimuliWritesTheTokensOfATextProbeSet() throws {
        let work = try ModelCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let ids = work.appendingPathComponent("ids.npy")
        let result = try cli.run(["stimuli", "sentences", "--model", Self.folder("bert"), "-o", ids.path,
                                  "--labels", work.appendingPathComponent("topics.npy").path])
        #expect(result.status == 0, "\(result.stderr)")
        let tokens = try NPY.read(ids), mask = try NPY.read(work.appendingPathComponent("ids.attention_mask.npy"))
        let types = try NPY.read(work.appendingPathComponent("ids.token_type_ids.npy"))
        #expect(tokens.shape.first == 240 && tokens.shape == mask.shape && mask.shape == types.shape)
        #expect(tokens.int64s()?.first == 2, "sentences start with [CLS]")
        #expect(try NPY.read(work.appendingPathComponent("topics.npy")).shape == [240])
        let noModel = try cli.run(["stimuli", "sentences", "--shape", "1,8,8", "-o", ids.path])
        #expect(noModel.status != 0 && noModel.stderr.contains("text probe set"), "\(noModel.stderr)")
    }

    /// `capture --probe` and `capture --input NAME=FILE` of the files `stimuli` wrote give
    /// the same activations.
    @Test func captureFromAProbeSetOrItsTokenFilesAgree() throws {
        let work = try ModelCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let ids = work.appendingPathComponent("ids.npy")
        #expect(try cli.run(["stimuli", "sentences", "--model", Self.folder("gpt2"), "-o", ids.path]).status == 0)
        let fromProbe = work.appendingPathComponent("a.npz"), fromFiles = work.appendingPathComponent("b.npz")
        let a = try cli.run(["capture", Self.folder("gpt2"), "--probe", "sentences", "--reduce", "last", "-o", fromProbe.path])
        #expect(a.status == 0, "\(a.stderr)")
        let b = try cli.run(["capture", Self.folder("gpt2"), "--input", "input_ids=\(ids.path)",
                             "--input", "attention_mask=\(work.appendingPathComponent("ids.attention_mask.npy").path)",
                             "--reduce", "last", "-o", fromFiles.path])
        #expect(b.status == 0, "\(b.stderr)")
        let first = try ArrayFile.read(fromProbe), second = try ArrayFile.read(fromFiles)
        #expect(first.map(\.name) == ["sample_ids", "drop", "h.0", "h.1", "ln_f"])
        #expect(first.map(\.array) == second.map(\.array))
    }

    @Test func compareWritesAReportOnText() throws {
        let work = try ModelCommandTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: work) }
        let report = work.appendingPathComponent("report")
        let result = try cli.run(["compare", Self.folder("bert"), Self.folder("gpt2"), "--probe", "sentences",
                                  "--resamples", "20", "-o", report.path])
        #expect(result.status == 0, "\(result.stderr)")
        let markdown = try String(contentsOf: report.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("encoder.layer.1") && markdown.contains("h.1") && markdown.contains("sentences"))
        let results = try String(contentsOf: report.appendingPathComponent("results.json"), encoding: .utf8)
        #expect(results.contains("\"model_b_weights\"") && results.contains("model-00002-of-00002.safetensors")
                && results.contains("\"model_a_tokenizer\""), "provenance names the folder's files")
        let images = try cli.run(["compare", Self.folder("bert"), "--probe", "digits"])
        #expect(images.status != 0 && images.stderr.contains("inputs"), "\(images.stderr)")
    }
}

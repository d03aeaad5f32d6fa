import Foundation
import Testing
@testable import Tokenization

/// Tokenizers read from the fixture folders (Tests/Fixtures/huggingface, made by
/// make_huggingface_fixtures.py) against the ids the `tokenizers` package gives for 356
/// varied sentences: Unicode, punctuation, spacing, long words, special-token literals.
@Suite struct TokenizerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/huggingface")

    struct Cases: Decodable {
        var sentences: [String]
        var bert: [[Int]]
        var gpt2: [[Int]]
        var roberta: [[Int]]
    }

    static let cases: Cases = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("tokenizer_cases.json"))
        return try! JSONDecoder().decode(Cases.self, from: data)
    }()

    /// A copy of a fixture folder with only `files`.
    static func folder(_ model: String, keeping files: [String]) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(model)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for file in files {
            try FileManager.default.copyItem(at: fixtures.appendingPathComponent("\(model)/\(file)"), to: target.appendingPathComponent(file))
        }
        return target
    }

    static func check(_ tokenizer: Tokenizer, expected: [[Int]], _ what: String) {
        var mismatches: [String] = []
        for (sentence, ids) in zip(cases.sentences, expected) {
            let actual = tokenizer.encode(sentence)
            if actual != ids { mismatches.append("\(sentence.debugDescription): \(actual) ≠ \(ids)") }
        }
        #expect(cases.sentences.count == expected.count && cases.sentences.count >= 300)
        #expect(mismatches.isEmpty, "\(what): \(mismatches.count) of \(cases.sentences.count) differ, first: \(mismatches.prefix(3))")
    }

    @Test func wordPieceFromTokenizerJSON() throws {
        Self.check(try Tokenizer(folder: Self.fixtures.appendingPathComponent("bert")), expected: Self.cases.bert, "bert tokenizer.json")
    }

    @Test func wordPieceFromVocabularyText() throws {
        let folder = try Self.folder("bert", keeping: ["vocab.txt", "tokenizer_config.json"])
        defer { try? FileManager.default.removeItem(at: folder) }
        Self.check(try Tokenizer(folder: folder), expected: Self.cases.bert, "bert vocab.txt")
    }

    @Test func windowsLineEndingsReadTheSame() throws {
        let folder = try Self.folder("bert", keeping: ["vocab.txt", "tokenizer_config.json"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("vocab.txt")
        try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\n", with: "\r\n").write(to: url, atomically: true, encoding: .utf8)
        Self.check(try Tokenizer(folder: folder), expected: Self.cases.bert, "bert vocab.txt with CRLF")
    }

    @Test func bytePairFromTokenizerJSON() throws {
        Self.check(try Tokenizer(folder: Self.fixtures.appendingPathComponent("gpt2")), expected: Self.cases.gpt2, "gpt2 tokenizer.json")
    }

    /// RoBERTa's byte-level BPE with its `<s> … </s>` template (RobertaProcessing).
    @Test func robertaFromTokenizerJSON() throws {
        Self.check(try Tokenizer(folder: Self.fixtures.appendingPathComponent("roberta")), expected: Self.cases.roberta, "roberta tokenizer.json")
    }

    @Test func bytePairFromVocabularyAndMerges() throws {
        let folder = try Self.folder("gpt2", keeping: ["vocab.json", "merges.txt", "tokenizer_config.json"])
        defer { try? FileManager.default.removeItem(at: folder) }
        Self.check(try Tokenizer(folder: folder), expected: Self.cases.gpt2, "gpt2 vocab.json + merges.txt")
    }

    @Test func truncationKeepsTheSpecialTokens() throws {
        let tokenizer = try Tokenizer(folder: Self.fixtures.appendingPathComponent("bert"))
        let full = tokenizer.encode("neural networks learn representations in their hidden layers")
        let cut = tokenizer.encode("neural networks learn representations in their hidden layers", maxLength: 5)
        #expect(cut.ids == Array(full.prefix(4)) + [full.last!])
        #expect(cut.typeIDs == [0, 0, 0, 0, 0])
        #expect(tokenizer.specialTokenCount == 2)
    }

    @Test func brokenTokenizersAreRefusedByName() throws {
        let cases: [(String, [String], String, (URL) throws -> Void)] = [
            ("bert", ["tokenizer.json"], "is not valid JSON", { try Data("{\"model\": ".utf8).write(to: $0.appendingPathComponent("tokenizer.json")) }),
            ("bert", ["tokenizer.json"], "'Unigram' is not supported", {
                let url = $0.appendingPathComponent("tokenizer.json")
                let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"type\": \"WordPiece\"", with: "\"type\": \"Unigram\"")
                try text.write(to: url, atomically: true, encoding: .utf8)
            }),
            ("bert", ["tokenizer.json"], "nesting deeper than", {
                try Data((String(repeating: "{\"a\":", count: 50_000) + "1" + String(repeating: "}", count: 50_000)).utf8)
                    .write(to: $0.appendingPathComponent("tokenizer.json"))
            }),
            ("bert", ["tokenizer.json"], "more than a tokenizer file may be", {
                let handle = try FileHandle(forWritingTo: $0.appendingPathComponent("tokenizer.json"))
                try handle.truncate(atOffset: 1 << 31)
                try handle.close()
            }),
            ("bert", ["tokenizer.json"], "not an integer from 0 to", {
                let url = $0.appendingPathComponent("tokenizer.json")
                let text = try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "\"[PAD]\": 0", with: "\"[PAD]\": 99999999999")
                try text.write(to: url, atomically: true, encoding: .utf8)
            }),
            ("gpt2", ["vocab.json", "merges.txt"], "is not UTF-8 text", {
                try Data([0x23, 0xFF, 0xFE, 0x0A]).write(to: $0.appendingPathComponent("merges.txt"))
            }),
            ("gpt2", ["vocab.json"], "no merges.txt", { _ in }),
            ("gpt2", ["vocab.json", "merges.txt"], "line 3 is not two tokens", {
                try Data("#version: 0.2\nĠ t\nbroken\n".utf8).write(to: $0.appendingPathComponent("merges.txt"))
            }),
            ("gpt2", ["vocab.json", "merges.txt"], "not in the vocabulary", {
                try Data("#version: 0.2\nĠ t\nzzq qqz\n".utf8).write(to: $0.appendingPathComponent("merges.txt"))
            }),
            ("bert", [], "has no tokenizer", { _ in }),
        ]
        for (model, files, expected, edit) in cases {
            let folder = try Self.folder(model, keeping: files)
            defer { try? FileManager.default.removeItem(at: folder) }
            try edit(folder)
            do {
                _ = try Tokenizer(folder: folder)
                Issue.record("\(expected): loaded")
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(message.contains(expected) && message.contains(folder.lastPathComponent), "\(expected): \(message)")
            }
        }
    }
}

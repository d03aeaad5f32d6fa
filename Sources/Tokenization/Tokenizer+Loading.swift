import Foundation
import Formats

extension Tokenizer {
    /// Whether `folder` holds a tokenizer this type can read.
    public static func exists(in folder: URL) -> Bool {
        ["tokenizer.json", "vocab.txt", "vocab.json"].contains {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
    }

    /// The tokenizer of a Hugging Face model folder: `tokenizer.json` when there is one,
    /// else `vocab.txt` (WordPiece, with `tokenizer_config.json`'s `do_lower_case`) or
    /// `vocab.json` + `merges.txt` (byte-level BPE).
    ///
    /// - Throws: ``TokenizerError`` naming the file and the problem.
    public init(folder: URL) throws {
        let file = { (name: String) in folder.appendingPathComponent(name) }
        let exists = { (name: String) in FileManager.default.fileExists(atPath: file(name).path) }
        let settings = exists("tokenizer_config.json") ? try Self.readJSON(file("tokenizer_config.json")) : JSONValue.object([])
        if exists("tokenizer.json") {
            try self.init(json: try Self.readJSON(file("tokenizer.json")), source: file("tokenizer.json").path)
        } else if exists("vocab.txt") {
            try self.init(wordPieceVocabulary: file("vocab.txt"), settings: settings)
        } else if exists("vocab.json") {
            guard exists("merges.txt") else {
                throw TokenizerError.invalidFile(file: folder.path, problem: "has vocab.json but no merges.txt, so no byte-level BPE tokenizer")
            }
            try self.init(vocabulary: file("vocab.json"), merges: file("merges.txt"), settings: settings)
        } else {
            throw TokenizerError.invalidFile(file: folder.path, problem: "has no tokenizer (tokenizer.json, vocab.txt, or vocab.json with merges.txt)")
        }
    }

    // MARK: tokenizer.json

    init(json: JSONValue, source: String) throws {
        func unsupported(_ component: String, _ problem: String) -> TokenizerError {
            .unsupported(file: source, component: component, problem: problem)
        }
        func invalid(_ problem: String) -> TokenizerError { .invalidFile(file: source, problem: problem) }
        guard let model = json["model"], let type = model["type"]?.stringValue else {
            throw invalid("has no model with a type (not a tokenizer.json?)")
        }
        let vocabulary = try Self.vocabulary(model["vocab"], source: source)
        switch type {
        case "WordPiece":
            guard let unknown = model["unk_token"]?.stringValue, let unknownID = vocabulary.id(unknown) else {
                throw invalid("the WordPiece unk_token is missing or not in the vocabulary")
            }
            self.model = .wordPiece(vocabulary: vocabulary, unknown: unknownID,
                                    prefix: model["continuing_subword_prefix"]?.stringValue ?? "##",
                                    maxCharacters: model["max_input_chars_per_word"]?.intValue ?? 100)
        case "BPE":
            for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
                if let value = model[key]?.stringValue, !value.isEmpty { throw unsupported("model", "BPE with \(key) '\(value)' is not supported") }
            }
            if model["dropout"]?.doubleValue.map({ $0 > 0 }) == true { throw unsupported("model", "BPE dropout is not supported") }
            if model["byte_fallback"]?.boolValue == true { throw unsupported("model", "BPE byte_fallback (SentencePiece-style) is not supported") }
            if model["ignore_merges"]?.boolValue == true { throw unsupported("model", "BPE ignore_merges is not supported") }
            guard let items = model["merges"]?.arrayItems else { throw invalid("the BPE model has no merges") }
            let pairs = try items.map { item -> (String, String) in
                if let text = item.stringValue {
                    let parts = text.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw invalid("merge '\(text)' is not two tokens separated by a space") }
                    return (String(parts[0]), String(parts[1]))
                }
                guard let pair = item.arrayItems, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue else {
                    throw invalid("a merge is neither \"a b\" nor [\"a\", \"b\"]: \(item.serialized.prefix(80))")
                }
                return (a, b)
            }
            self.model = .bytePair(vocabulary: vocabulary, merges: try Self.merges(pairs, vocabulary: vocabulary, source: source))
        default:
            throw unsupported("model", "'\(type)' is not supported (WordPiece and BPE are)")
        }
        normalizer = try Self.normalizer(json["normalizer"], source: source)
        preTokenizer = try Self.preTokenizer(json["pre_tokenizer"], source: source)
        if case .bytePair = self.model, case .byteLevel = preTokenizer {} else if case .bytePair = self.model {
            throw unsupported("pre_tokenizer", "BPE is supported with the ByteLevel pre-tokenizer only")
        }
        addedTokens = try (json["added_tokens"]?.arrayItems ?? []).map { item in
            guard let content = item["content"]?.stringValue, let id = item["id"]?.intValue, id >= 0 else {
                throw invalid("an added token has no content or id: \(item.serialized.prefix(80))")
            }
            return AddedToken(content: Array(content.unicodeScalars), id: id, leftStrip: item["lstrip"]?.boolValue ?? false,
                              rightStrip: item["rstrip"]?.boolValue ?? false, singleWord: item["single_word"]?.boolValue ?? false,
                              normalized: item["normalized"]?.boolValue ?? false)
        }
        template = try Self.template(json["post_processor"], source: source)
        let padding = json["padding"]?["pad_id"]?.intValue
        paddingID = padding ?? addedTokens.first { ["[PAD]", "<pad>"].contains(String(String.UnicodeScalarView($0.content))) }?.id
        self.source = source
    }

    static func vocabulary(_ value: JSONValue?, source: String) throws -> Vocabulary {
        guard let entries = value?.objectEntries else {
            throw TokenizerError.invalidFile(file: source, problem: "the model has no vocab object")
        }
        let limit = ResourceLimit.vocabulary
        guard entries.count <= limit.value else {
            throw TokenizerError.invalidFile(file: source, problem: "the vocabulary has \(entries.count) entries, more than a vocabulary may have \(limit.exceeded(needing: entries.count))")
        }
        var vocabulary = Vocabulary()
        for (token, id) in entries {
            guard let number = id.intValue, number >= 0, number < limit.value else {
                let raising = id.intValue.map { $0 >= limit.value ? " \(limit.exceeded(needing: $0 + 1))" : "" } ?? ""
                throw TokenizerError.invalidFile(
                    file: source, problem: "token '\(token)' has id \(id.serialized), not an integer from 0 to \(limit.value - 1)" + raising)
            }
            let id = number
            vocabulary.insert(token, id: id)
        }
        return vocabulary
    }

    static func merges(_ pairs: [(String, String)], vocabulary: Vocabulary, source: String) throws -> [TokenModel.PairKey: (rank: Int, merged: Int)] {
        guard pairs.count <= ResourceLimit.vocabulary.value else {
            throw TokenizerError.invalidFile(file: source, problem: "\(pairs.count) merges, more than a merge list may have \(ResourceLimit.vocabulary.exceeded(needing: pairs.count))")
        }
        var merges: [TokenModel.PairKey: (rank: Int, merged: Int)] = [:]
        for (rank, (a, b)) in pairs.enumerated() {
            guard let left = vocabulary.id(a), let right = vocabulary.id(b), let merged = vocabulary.id(a + b) else {
                throw TokenizerError.invalidFile(file: source, problem: "merge \(rank + 1) ('\(a)' '\(b)') uses or makes a token that is not in the vocabulary")
            }
            let key = TokenModel.PairKey(left: left, right: right)
            if merges[key] == nil { merges[key] = (rank, merged) }
        }
        return merges
    }

    static func normalizer(_ value: JSONValue?, source: String) throws -> Normalizer? {
        guard let value, !value.isNull else { return nil }
        let type = value["type"]?.stringValue ?? "?"
        switch type {
        case "BertNormalizer":
            let lowercase = value["lowercase"]?.boolValue ?? true
            return .bert(cleanText: value["clean_text"]?.boolValue ?? true, spaceCJK: value["handle_chinese_chars"]?.boolValue ?? true,
                         stripAccents: value["strip_accents"]?.boolValue ?? lowercase, lowercase: lowercase)
        case "Lowercase": return .lowercase
        case "StripAccents": return .stripAccents
        case "NFD": return .nfd
        case "NFC": return .nfc
        case "NFKD": return .nfkd
        case "NFKC": return .nfkc
        case "Sequence":
            return .sequence(try (value["normalizers"]?.arrayItems ?? []).compactMap { try normalizer($0, source: source) })
        default:
            throw TokenizerError.unsupported(
                file: source, component: "normalizer",
                problem: "'\(type)' is not supported (BertNormalizer, Lowercase, StripAccents, NFD, NFC, NFKD, NFKC, Sequence are)")
        }
    }

    static func preTokenizer(_ value: JSONValue?, source: String) throws -> PreTokenizer {
        guard let value, !value.isNull else { return .whitespaceSplit }
        let type = value["type"]?.stringValue ?? "?"
        switch type {
        case "BertPreTokenizer": return .bert
        case "WhitespaceSplit": return .whitespaceSplit
        case "ByteLevel":
            guard value["use_regex"]?.boolValue ?? true else {
                throw TokenizerError.unsupported(file: source, component: "pre_tokenizer", problem: "ByteLevel without its split pattern (use_regex false) is not supported")
            }
            return .byteLevel(addPrefixSpace: value["add_prefix_space"]?.boolValue ?? false)
        case "Sequence":
            if let items = value["pretokenizers"]?.arrayItems, items.count == 1 { return try preTokenizer(items[0], source: source) }
            fallthrough
        default:
            throw TokenizerError.unsupported(
                file: source, component: "pre_tokenizer",
                problem: "'\(type)' is not supported (BertPreTokenizer, ByteLevel, WhitespaceSplit are)")
        }
    }

    static func template(_ value: JSONValue?, source: String) throws -> [TemplateItem] {
        guard let value, !value.isNull else { return [.sequence(typeID: 0)] }
        let type = value["type"]?.stringValue ?? "?"
        func invalid(_ problem: String) -> TokenizerError { .invalidFile(file: source, problem: "post_processor: \(problem)") }
        func pair(_ key: String) throws -> Int {
            guard let items = value[key]?.arrayItems, items.count == 2, let id = items[1].intValue else {
                throw invalid("'\(key)' should be [token, id]")
            }
            return id
        }
        switch type {
        case "ByteLevel":
            return [.sequence(typeID: 0)]
        case "BertProcessing", "RobertaProcessing":
            return [.special([try pair("cls")], typeID: 0), .sequence(typeID: 0), .special([try pair("sep")], typeID: 0)]
        case "TemplateProcessing":
            guard let single = value["single"]?.arrayItems else { throw invalid("the template has no 'single'") }
            return try single.map { item in
                if let special = item["SpecialToken"] {
                    guard let name = special["id"]?.stringValue,
                          let ids = value["special_tokens"]?[name]?["ids"]?.arrayItems?.compactMap(\.intValue) else {
                        throw invalid("special token \(item.serialized.prefix(60)) has no ids")
                    }
                    return .special(ids, typeID: special["type_id"]?.intValue ?? 0)
                }
                guard let sequence = item["Sequence"] else { throw invalid("template item \(item.serialized.prefix(60)) is not understood") }
                return .sequence(typeID: sequence["type_id"]?.intValue ?? 0)
            }
        case "Sequence":
            let templates = try (value["processors"]?.arrayItems ?? []).map { try template($0, source: source) }
            return templates.first { $0 != [.sequence(typeID: 0)] } ?? [.sequence(typeID: 0)]
        default:
            throw TokenizerError.unsupported(
                file: source, component: "post_processor",
                problem: "'\(type)' is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel are)")
        }
    }

    // MARK: Classic files

    /// BERT's `vocab.txt`: one token a line, the id its line number.
    init(wordPieceVocabulary url: URL, settings: JSONValue) throws {
        let text = try Self.readText(url)
        var vocabulary = Vocabulary()
        var lines = TextLines.split(text)
        if lines.last == "" { lines.removeLast() }
        guard lines.count <= ResourceLimit.vocabulary.value else {
            throw TokenizerError.invalidFile(file: url.path, problem: "\(lines.count) tokens, more than a vocabulary may have \(ResourceLimit.vocabulary.exceeded(needing: lines.count))")
        }
        for (id, token) in lines.enumerated() where vocabulary.id(token) == nil {
            vocabulary.insert(token, id: id)
        }
        let special = Self.specialTokens(settings)
        let unknownToken = special["unk_token"] ?? "[UNK]"
        guard let unknown = vocabulary.id(unknownToken) else {
            throw TokenizerError.invalidFile(file: url.path, problem: "has no unknown token '\(unknownToken)'")
        }
        let lowercase = settings["do_lower_case"]?.boolValue ?? true
        model = .wordPiece(vocabulary: vocabulary, unknown: unknown, prefix: "##", maxCharacters: 100)
        normalizer = .bert(cleanText: true, spaceCJK: settings["tokenize_chinese_chars"]?.boolValue ?? true,
                           stripAccents: settings["strip_accents"]?.boolValue ?? lowercase, lowercase: lowercase)
        preTokenizer = .bert
        addedTokens = ["unk_token", "sep_token", "pad_token", "cls_token", "mask_token"].compactMap { key in
            guard let token = special[key] ?? Self.bertDefaults[key], let id = vocabulary.id(token) else { return nil }
            return AddedToken(content: Array(token.unicodeScalars), id: id)
        }
        guard let cls = vocabulary.id(special["cls_token"] ?? "[CLS]"), let sep = vocabulary.id(special["sep_token"] ?? "[SEP]") else {
            throw TokenizerError.invalidFile(file: url.path, problem: "has no [CLS] or [SEP] token")
        }
        template = [.special([cls], typeID: 0), .sequence(typeID: 0), .special([sep], typeID: 0)]
        paddingID = vocabulary.id(special["pad_token"] ?? "[PAD]")
        source = url.path
    }

    static let bertDefaults = ["unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"]

    /// GPT-2's `vocab.json` and `merges.txt` (its first line may be `#version: …`).
    init(vocabulary vocabularyURL: URL, merges mergesURL: URL, settings: JSONValue) throws {
        let vocabulary = try Self.vocabulary(try Self.readJSON(vocabularyURL), source: vocabularyURL.path)
        var pairs: [(String, String)] = []
        for (index, trimmed) in TextLines.split(try Self.readText(mergesURL)).enumerated() {
            if trimmed.isEmpty || (index == 0 && trimmed.hasPrefix("#version")) { continue }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TokenizerError.invalidFile(file: mergesURL.path, problem: "line \(index + 1) is not two tokens separated by a space")
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        model = .bytePair(vocabulary: vocabulary, merges: try Self.merges(pairs, vocabulary: vocabulary, source: mergesURL.path))
        normalizer = nil
        preTokenizer = .byteLevel(addPrefixSpace: settings["add_prefix_space"]?.boolValue ?? false)
        let special = Self.specialTokens(settings)
        var seen = Set<Int>()
        addedTokens = (["bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"].compactMap { special[$0] }
            + ["<|endoftext|>"]).compactMap { token in
            guard let id = vocabulary.id(token), seen.insert(id).inserted else { return nil }
            return AddedToken(content: Array(token.unicodeScalars), id: id)
        }
        template = [.sequence(typeID: 0)]
        paddingID = special["pad_token"].flatMap { vocabulary.id($0) }
        source = mergesURL.deletingLastPathComponent().path
    }

    /// Special-token strings of a `tokenizer_config.json` (plain strings or `{"content": …}`).
    static func specialTokens(_ settings: JSONValue) -> [String: String] {
        var result: [String: String] = [:]
        for key in ["unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "bos_token", "eos_token"] {
            if let text = settings[key]?.stringValue ?? settings[key]?["content"]?.stringValue { result[key] = text }
        }
        return result
    }

    static func readJSON(_ url: URL) throws -> JSONValue {
        try SmallFile.json(url, within: .tokenizer)
    }

    static func readText(_ url: URL) throws -> String {
        try SmallFile.text(url, within: .tokenizer)
    }
}

import Foundation

/// A Hugging Face tokenizer, read from a model folder and run natively: text to the ids the
/// `tokenizers` library gives (`Tokenizer.encode(text).ids`), special tokens included.
///
/// Supported: WordPiece (BERT and its relatives, from `tokenizer.json` or `vocab.txt`) and
/// byte-level BPE (GPT-2, RoBERTa, from `tokenizer.json` or `vocab.json` + `merges.txt`),
/// with the normalisers, pre-tokenisers and post-processors those use. Anything else is
/// refused by name.
public struct Tokenizer: Sendable {
    /// A token matched in the raw text before normalisation (special tokens such as `[CLS]`
    /// or `<|endoftext|>`).
    struct AddedToken: Sendable {
        var content: [Unicode.Scalar]
        var id: Int
        var leftStrip = false
        var rightStrip = false
        var singleWord = false
        var normalized = false
    }

    /// One item of a post-processing template: a special token's ids, or the sequence.
    enum TemplateItem: Sendable, Equatable {
        case special([Int], typeID: Int)
        case sequence(typeID: Int)
    }

    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let model: TokenModel
    let addedTokens: [AddedToken]
    /// The single-sequence template (`[CLS] $A [SEP]`); `[.sequence]` when nothing is added.
    let template: [TemplateItem]
    /// The id of the padding token, if the tokenizer names one.
    public let paddingID: Int?
    /// Where the tokenizer came from, for messages and provenance.
    public let source: String

    /// The number of token ids (the vocabulary and the added tokens).
    public var vocabularySize: Int {
        Swift.max(model.vocabulary.count, (addedTokens.map(\.id).max() ?? -1) + 1)
    }

    /// How many special tokens the template adds around one sequence.
    public var specialTokenCount: Int {
        template.reduce(0) { count, item in
            if case let .special(ids, _) = item { return count + ids.count }
            return count
        }
    }

    /// The ids of `text`, special tokens included.
    public func encode(_ text: String) -> [Int] {
        applyTemplate(encodeContent(text))
    }

    /// The ids of `text` without special tokens, in at most `limit` tokens (truncated at the
    /// end), then wrapped in the template's special tokens; with the token type of each id.
    public func encode(_ text: String, maxLength: Int?) -> (ids: [Int], typeIDs: [Int]) {
        var content = encodeContent(text)
        if let maxLength { content = Array(content.prefix(Swift.max(0, maxLength - specialTokenCount))) }
        var ids: [Int] = [], types: [Int] = []
        for item in template {
            switch item {
            case let .special(special, typeID):
                ids += special
                types += Array(repeating: typeID, count: special.count)
            case let .sequence(typeID):
                ids += content
                types += Array(repeating: typeID, count: content.count)
            }
        }
        return (ids, types)
    }

    func applyTemplate(_ content: [Int]) -> [Int] {
        template.flatMap { item -> [Int] in
            switch item {
            case let .special(ids, _): return ids
            case .sequence: return content
            }
        }
    }

    /// The ids of the text, without the template's special tokens.
    func encodeContent(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in split(Array(text.unicodeScalars), tokens: addedTokens.filter { !$0.normalized }) {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(scalars):
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                let normalized = normalizer?.apply(String(view)) ?? String(view)
                for inner in split(Array(normalized.unicodeScalars), tokens: addedTokens.filter(\.normalized)) {
                    switch inner {
                    case let .token(id): ids.append(id)
                    case let .text(part):
                        var partView = String.UnicodeScalarView()
                        partView.append(contentsOf: part)
                        for word in preTokenizer.split(String(partView)) where !word.isEmpty {
                            ids += model.ids(word)
                        }
                    }
                }
            }
        }
        return ids
    }

    enum Segment { case text([Unicode.Scalar]), token(Int) }

    /// Cuts `text` at the added tokens: leftmost match first, the longest at a position.
    func split(_ text: [Unicode.Scalar], tokens: [AddedToken]) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(text)] }
        let sorted = tokens.sorted { $0.content.count > $1.content.count }
        var segments: [Segment] = []
        var pending: [Unicode.Scalar] = []
        var i = 0
        func isWordCharacter(_ s: Unicode.Scalar) -> Bool { s.isLetter || s.isNumber || s == "_" }
        while i < text.count {
            let match = sorted.first { token in
                let n = token.content.count
                guard n > 0, i + n <= text.count, Array(text[i..<(i + n)]) == token.content else { return false }
                if token.singleWord {
                    if i > 0, isWordCharacter(text[i - 1]) { return false }
                    if i + n < text.count, isWordCharacter(text[i + n]) { return false }
                }
                return true
            }
            guard let match else {
                pending.append(text[i])
                i += 1
                continue
            }
            if match.leftStrip {
                while let last = pending.last, last.isTokenizerWhitespace { pending.removeLast() }
            }
            if !pending.isEmpty { segments.append(.text(pending)); pending = [] }
            segments.append(.token(match.id))
            i += match.content.count
            if match.rightStrip {
                while i < text.count, text[i].isTokenizerWhitespace { i += 1 }
            }
        }
        if !pending.isEmpty { segments.append(.text(pending)) }
        return segments
    }
}

import Foundation
import Formats
import Networks
import Tokenization

/// The sentences of a text probe set. They are tokenized when a model runs, by that model's
/// own tokenizer, so that one probe set serves a BERT and a GPT-2 alike (each sees its own
/// ids; reductions such as `mean` or `last` give one vector per sentence for both).
public struct TextStimuli: Sendable, Equatable {
    public var sentences: [String]
    /// Tokens per sentence at most, special tokens included.
    public var maxLength: Int
    /// Pad every sentence to `maxLength` rather than to the longest of the set.
    public var padsToMaxLength: Bool

    public init(sentences: [String], maxLength: Int = 128, padsToMaxLength: Bool = false) {
        self.sentences = sentences
        self.maxLength = maxLength
        self.padsToMaxLength = padsToMaxLength
    }

    /// The token ids, attention mask (1 for real tokens) and token types of every sentence,
    /// `[sentences, length]` int64, padded on the right with the tokenizer's padding id;
    /// sentences are cut at `maxLength` tokens, or at `modelLimit` if that is smaller (the
    /// model's position table).
    ///
    /// - Throws: ``ProbeError/invalidProbeSet(file:problem:)`` for a sentence without a
    ///   single token (an empty line for a tokenizer that adds no special tokens).
    public func encoded(with tokenizer: Tokenizer, modelLimit: Int? = nil, origin: String) throws -> (ids: Tensor, mask: Tensor, types: Tensor) {
        let limit = min(maxLength, modelLimit ?? .max)
        let encodings = sentences.map { tokenizer.encode($0, maxLength: limit) }
        if let empty = encodings.firstIndex(where: { $0.ids.isEmpty }) {
            throw ProbeError.invalidProbeSet(
                file: origin, problem: "sentence \(empty + 1) (\(sentences[empty].debugDescription)) has no token for the tokenizer of \(tokenizer.source)")
        }
        let length = padsToMaxLength ? limit : encodings.map(\.ids.count).max() ?? 0
        let padding = Int64(tokenizer.paddingID ?? 0)
        var ids = [Int64](), mask = [Int64](), types = [Int64]()
        for encoding in encodings {
            let pad = length - encoding.ids.count
            ids += encoding.ids.map(Int64.init) + Array(repeating: padding, count: pad)
            mask += Array(repeating: 1, count: encoding.ids.count) + Array(repeating: 0, count: pad)
            types += encoding.typeIDs.map(Int64.init) + Array(repeating: 0, count: pad)
        }
        let shape = [sentences.count, length]
        return (Tensor(shape: shape, elements: ids), Tensor(shape: shape, elements: mask), Tensor(shape: shape, elements: types))
    }

    /// Reads `data`: JSON Lines when it ends in `.jsonl` (a `text` field and the class in
    /// `settings.label`, default `label`), else one sentence a line (blank lines skipped).
    /// At most `bound` sentences are read; a file with more is refused unless `samples`
    /// asks for no more than that.
    static func read(_ settings: ProbeSetSpec.TextSettings, data: URL, samples: Int?, bound: ResourceLimit = .sentences)
        throws -> (stimuli: TextStimuli, labels: [Int]?, classNames: [Int: String]) {
        let content = try SmallFile.text(data, within: .sentenceFile)
        var lines = TextLines.split(content)
        var sentences: [String] = []
        var rawLabels: [JSONValue] = []
        // A file with more than the limit and no smaller sample count is refused rather than
        // cut short.
        let limit = min(samples ?? Int.max, bound.value)
        func tooMany() -> ProbeError {
            .invalidProbeSet(file: data.path, problem: "holds more sentences than a sentence file may give \(bound.exceeded); "
                + "a smaller 'samples' reads the first ones")
        }
        if data.pathExtension.lowercased() == "jsonl" {
            let field = settings.label ?? "label"
            for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                guard sentences.count < limit else {
                    if (samples ?? Int.max) > bound.value { throw tooMany() }
                    break
                }
                let value: JSONValue
                do {
                    value = try JSONValue.parse(Array(line.utf8))
                } catch {
                    throw ProbeError.invalidProbeSet(file: data.path, problem: "line \(number + 1) is not JSON (\(error.reason))")
                }
                guard let text = value["text"]?.stringValue else {
                    throw ProbeError.invalidProbeSet(file: data.path, problem: "line \(number + 1) has no string field 'text'")
                }
                sentences.append(text)
                if let label = value[field], !label.isNull {
                    guard label.stringValue != nil || label.intValue != nil else {
                        throw ProbeError.invalidProbeSet(file: data.path, problem: "line \(number + 1): label '\(field)' must be a string or an integer, not \(label.serialized)")
                    }
                    rawLabels.append(label)
                } else if settings.label != nil || !rawLabels.isEmpty {
                    throw ProbeError.invalidProbeSet(file: data.path, problem: "line \(number + 1) has no label '\(field)'")
                }
            }
            if !rawLabels.isEmpty && rawLabels.count != sentences.count {
                throw ProbeError.invalidProbeSet(file: data.path, problem: "only \(rawLabels.count) of \(sentences.count) lines have a label '\(field)'")
            }
        } else {
            if settings.label != nil {
                throw ProbeError.invalidProbeSet(file: data.path, problem: "labels need JSON Lines (.jsonl); a text file holds sentences only")
            }
            lines = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            if lines.count > limit && (samples ?? Int.max) > bound.value { throw tooMany() }
            sentences = Array(lines.prefix(limit))
        }
        guard !sentences.isEmpty else { throw ProbeError.invalidProbeSet(file: data.path, problem: "holds no sentence") }
        var labels: [Int]?
        var classNames: [Int: String] = [:]
        if !rawLabels.isEmpty {
            let names = rawLabels.compactMap(\.stringValue)
            if names.count == rawLabels.count {
                let classes = Array(Set(names)).sorted()
                let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
                labels = names.map { index[$0]! }
                for (i, name) in classes.enumerated() { classNames[i] = name }
            } else {
                guard rawLabels.allSatisfy({ $0.intValue != nil }) else {
                    throw ProbeError.invalidProbeSet(file: data.path, problem: "labels mix strings and integers")
                }
                labels = rawLabels.compactMap(\.intValue)
                for value in Set(labels ?? []) { classNames[value] = String(value) }
            }
        }
        return (TextStimuli(sentences: sentences, maxLength: settings.maxLength, padsToMaxLength: settings.padding == "max_length"),
                labels, classNames)
    }
}

extension ProbeSet {
    /// The number of samples (images, rows or sentences).
    public var count: Int { text?.sentences.count ?? inputs.shape.first ?? 0 }

    /// What `network` is fed, by input name: the images or arrays for a model with one
    /// input; for a text probe set, the sentences tokenized by the model's tokenizer as
    /// `input_ids`, `attention_mask` and `token_type_ids` (those of them the model takes).
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` when the model cannot take this
    ///   probe set (no tokenizer for text, inputs that text does not fill, several inputs
    ///   for images).
    public func sources(for network: Network) throws -> [String: any InputSource] {
        let inputNames = network.graph.inputs.map(\.name)
        guard let text else {
            guard inputNames.count == 1 else {
                throw ProbeError.invalidInput(
                    file: network.file, problem: "\(inputNames.count) inputs (\(inputNames.joined(separator: ", "))); probe set '\(name)' feeds one")
            }
            return [inputNames[0]: TensorInputs(inputs, origin: name)]
        }
        guard let tokenizer = network.tokenizer else {
            throw ProbeError.invalidInput(
                file: network.file,
                problem: "'\(name)' is a text probe set and the model has no tokenizer (a Hugging Face folder with tokenizer.json, vocab.txt, or vocab.json and merges.txt)")
        }
        let (ids, mask, types) = try text.encoded(with: tokenizer, modelLimit: network.graph.maxSequenceLength,
                                                  origin: files.first?.path ?? name)
        var sources: [String: any InputSource] = [:]
        for input in inputNames {
            switch input {
            case "input_ids": sources[input] = TensorInputs(ids, origin: name)
            case "attention_mask": sources[input] = TensorInputs(mask, origin: name)
            case "token_type_ids": sources[input] = TensorInputs(types, origin: name)
            default:
                throw ProbeError.invalidInput(
                    file: network.file, problem: "input '\(input)' is not one that text fills (input_ids, attention_mask, token_type_ids)")
            }
        }
        return sources
    }
}

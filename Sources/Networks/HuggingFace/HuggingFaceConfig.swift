import Foundation
import Formats

/// The `config.json` of a Hugging Face model folder: typed look-ups that name the file and
/// the key when a value is missing or of the wrong kind.
struct HuggingFaceConfig {
    let json: JSONValue
    let file: String

    init(_ url: URL) throws {
        file = url.path
        json = try SmallFile.json(url, within: .config)
        guard json.objectEntries != nil else { throw invalid("is not a JSON object (a Hugging Face config.json)") }
    }

    func invalid(_ problem: String) -> NetworkError { .invalidModel(file: file, problem: problem) }

    private func present(_ key: String) -> JSONValue? {
        guard let value = json[key], !value.isNull else { return nil }
        return value
    }

    func string(_ key: String) -> String? { present(key)?.stringValue }

    func string(_ key: String, default value: String) throws -> String {
        guard let raw = present(key) else { return value }
        guard let text = raw.stringValue else { throw invalid("'\(key)' should be a string, not \(raw.serialized)") }
        return text
    }

    /// A positive integer no larger than `limit`.
    func int(_ key: String, default value: Int? = nil, limit: Int = 1 << 24) throws -> Int {
        guard let raw = present(key) else {
            guard let value else { throw invalid("'\(key)' is missing") }
            return value
        }
        guard let integer = raw.intValue, integer >= 1, integer <= limit else {
            throw invalid("'\(key)' should be an integer from 1 to \(limit), not \(raw.serialized)")
        }
        return integer
    }

    func double(_ key: String, default value: Double) throws -> Double {
        guard let raw = present(key) else { return value }
        guard let number = raw.doubleValue, number.isFinite else {
            throw invalid("'\(key)' should be a finite number, not \(raw.serialized)")
        }
        return number
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = present(key) else { return value }
        guard let flag = raw.boolValue else { throw invalid("'\(key)' should be true or false, not \(raw.serialized)") }
        return flag
    }

    /// `hidden / heads`, checking that it divides.
    func headSize(hidden: Int, heads: Int) throws -> Int {
        guard hidden % heads == 0 else {
            throw invalid("the hidden size \(hidden) is not a multiple of the \(heads) attention heads")
        }
        return hidden / heads
    }

    /// The `approximate` attribute of ONNX Gelu for the Hugging Face activation under `key`.
    func gelu(_ key: String, default value: String) throws -> String {
        let name = try string(key, default: value)
        switch name {
        case "gelu": return "none"
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return "tanh"
        default:
            throw invalid("'\(key)' = '\(name)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast)")
        }
    }
}

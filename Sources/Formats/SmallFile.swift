import Foundation

/// Whole-file reads of the small files that describe things (configurations, tokenizers,
/// sentence lists, label tables, images), with the checks every such read needs: the path
/// is a file, not a folder; it is no larger than its ``ResourceLimit``; and, for text and JSON, the bytes
/// are UTF-8 or parse. Every error names the file and says why in plain words.
public enum SmallFile {
    /// The bytes of the file at `url`, which should be what `limit` bounds.
    ///
    /// - Throws: ``FormatError/unreadable(file:reason:)``.
    public static func data(_ url: URL, within limit: ResourceLimit) throws -> Data {
        try requireFile(url)
        do {
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
            guard size <= limit.value else {
                throw FormatError.unreadable(file: url.path, reason: "it is \(size) bytes, more than \(limit.meaning) may be \(limit.exceeded(needing: size))")
            }
            return try Data(contentsOf: url)
        } catch let error as FormatError {
            throw error
        } catch {
            throw FormatError.unreadable(url, after: error)
        }
    }

    /// Throws ``FormatError/unreadable(file:reason:)`` unless `url` names an existing file
    /// (not a folder), so that a read fails with those words rather than the system's.
    public static func requireFile(_ url: URL) throws {
        if let problem = FormatError.problem(reading: url) { throw FormatError.unreadable(file: url.path, reason: problem) }
    }

    /// The UTF-8 text of the file at `url`.
    ///
    /// - Throws: ``FormatError/unreadable(file:reason:)``, or
    ///   ``FormatError/invalidContent(file:reason:)`` for bytes that are not UTF-8.
    public static func text(_ url: URL, within limit: ResourceLimit) throws -> String {
        guard let text = String(data: try data(url, within: limit), encoding: .utf8) else {
            throw FormatError.invalidContent(file: url.path, reason: "is not UTF-8 text, so not \(limit.meaning)")
        }
        return text
    }

    /// The JSON value of the file at `url` (nesting limited by ``ResourceLimit/jsonDepth``).
    ///
    /// - Throws: ``FormatError/unreadable(file:reason:)``, or
    ///   ``FormatError/invalidContent(file:reason:)`` for text that is not JSON.
    public static func json(_ url: URL, within limit: ResourceLimit) throws -> JSONValue {
        do {
            return try JSONValue.parse(Array(try data(url, within: limit)))
        } catch let error as JSONValue.ParseError {
            throw FormatError.invalidContent(file: url.path, reason: "is not valid JSON (\(error.reason)), so not \(limit.meaning)")
        }
    }
}

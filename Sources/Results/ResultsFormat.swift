import Formats
import Foundation

/// What a results file holds and which version of its layout, written as
/// `"format": {"kind": "comparison", "version": 1}` at the top of every `results.json` and
/// `log.json`, so that a report can be rendered again from the file alone.
///
/// Files written before the format was recorded have no such key; they are version 1 of the
/// kind their keys show.
public struct ResultsFormat: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// ``ComparisonResults``.
        case comparison
        /// ``ReceptiveFieldResults``.
        case receptiveFields = "receptive_fields"
        /// ``TrainingLog``.
        case training
    }

    public var kind: Kind
    public var version: Int

    /// The layout this build writes and the newest it reads.
    public static let currentVersion = 1

    public init(kind: Kind, version: Int = ResultsFormat.currentVersion) {
        self.kind = kind
        self.version = version
    }

    /// The one JSON encoding of results files: sorted keys, two-space indentation, slashes
    /// unescaped, a final newline (same results, same bytes).
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(contentsOf: Array("\n".utf8))
        return data
    }
}

/// Results that record how long their run took: the one value that differs between runs
/// of the same inputs, which a report can leave out.
public protocol TimedResults: Encodable {
    var runSeconds: Double { get set }
}

extension TimedResults {
    /// These results, with the run time set to 0 unless `keep`.
    public func keepingRunTime(_ keep: Bool) -> Self {
        var copy = self
        if !keep { copy.runSeconds = 0 }
        return copy
    }
}

extension ComparisonResults: TimedResults {
    public var runSeconds: Double {
        get { provenance.seconds }
        set { provenance.seconds = newValue }
    }
}

extension ReceptiveFieldResults: TimedResults {
    public var runSeconds: Double {
        get { provenance.seconds }
        set { provenance.seconds = newValue }
    }
}

/// A problem reading a results file.
public struct ResultsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public var file: String
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
    public var errorDescription: String? { description }
}

/// Any of the results a report is rendered from.
public enum AnyResults: Sendable {
    case comparison(ComparisonResults)
    case receptiveFields(ReceptiveFieldResults)
    case training(TrainingLog)

    /// Reads a `results.json` or `log.json`: its `format` says what it holds; a file without
    /// one is recognised by its keys.
    ///
    /// - Throws: ``ResultsError`` naming the file: not JSON, a kind or version this build
    ///   does not know, or keys that fit no results type.
    public static func read(_ url: URL) throws -> AnyResults {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ResultsError(file: url.path, problem: "cannot be read (\(FormatError.reason(reading: url, after: error)))")
        }
        struct Header: Decodable {
            var format: ResultsFormat?
            var modelA: String?
            var model: String?
            var recipe: String?
            enum CodingKeys: String, CodingKey { case format, modelA = "model_a", model, recipe }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw ResultsError(file: url.path, problem: "is not a repprobe results file (\(Self.describe(error)))")
        }
        if let format = header.format, format.version > ResultsFormat.currentVersion {
            throw ResultsError(
                file: url.path,
                problem: "holds \(format.kind.rawValue) results of format version \(format.version); this repprobe reads up to version \(ResultsFormat.currentVersion)")
        }
        let kind = header.format?.kind
            ?? (header.modelA != nil ? .comparison : header.recipe != nil ? .training : header.model != nil ? .receptiveFields : nil)
        guard let kind else {
            throw ResultsError(file: url.path, problem: "is not a repprobe results file: no format, model_a, model or recipe key")
        }
        do {
            switch kind {
            case .comparison: return .comparison(try JSONDecoder().decode(ComparisonResults.self, from: data))
            case .receptiveFields: return .receptiveFields(try JSONDecoder().decode(ReceptiveFieldResults.self, from: data))
            case .training: return .training(try JSONDecoder().decode(TrainingLog.self, from: data))
            }
        } catch {
            throw ResultsError(file: url.path, problem: "\(kind.rawValue) results that do not decode (\(Self.describe(error)))")
        }
    }

    static func describe(_ error: Error) -> String {
        (error as? DecodingError)?.summary ?? "\(error)"
    }
}

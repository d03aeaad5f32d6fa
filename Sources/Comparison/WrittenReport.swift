import Foundation
import Report

/// A report written as a folder: `report.md`, its SVG figures and `results.json`.
///
/// Everything is a function of the results, so the same results give the same bytes; the
/// run time, the one value that changes between runs of the same inputs, is left out when
/// `includeTiming` is false.
public protocol WrittenReport {
    associatedtype Results: Encodable
    var includeTiming: Bool { get }
    /// The results as they go into `results.json` (without the run time unless
    /// `includeTiming`).
    var writtenResults: Results { get }
    func markdown() -> String
    func figures() -> [(name: String, svg: String)]
}

extension WrittenReport {
    /// Every file of the report, by name.
    public func files() throws -> [(name: String, contents: Data)] {
        var files = figures().map { (name: $0.name, contents: Data($0.svg.utf8)) }
        files.append(("report.md", Data(markdown().utf8)))
        files.append(("results.json", try json()))
        return files.sorted { $0.name < $1.name }
    }

    /// Writes the report into `folder` atomically (see ``ReportFolder``).
    public func write(to folder: URL) throws {
        try ReportFolder.write(try files(), to: folder)
    }

    /// `results.json`: sorted keys, two-space indentation, a final newline.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(writtenResults)
        data.append(contentsOf: Array("\n".utf8))
        return data
    }
}

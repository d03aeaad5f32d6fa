import Foundation
import Results

/// A report written as a folder: `report.md`, its SVG figures and the results it was
/// rendered from (`results.json`, or `log.json` for training).
///
/// Everything is a function of the results, so the same results give the same bytes; the
/// run time, the one value that changes between runs of the same inputs, is left out when
/// `includeTiming` is false.
public protocol WrittenReport {
    associatedtype WrittenResults: Encodable
    var includeTiming: Bool { get }
    /// The results as they go into `results.json` (without the run time unless
    /// `includeTiming`).
    var writtenResults: WrittenResults { get }
    /// The name of the results file in the folder.
    static var resultsFileName: String { get }
    func markdown() -> String
    func figures() -> [(name: String, svg: String)]
}

extension WrittenReport {
    public static var resultsFileName: String { "results.json" }


    /// Every file of the report, by name.
    public func files() throws -> [(name: String, contents: Data)] {
        var files = figures().map { (name: $0.name, contents: Data($0.svg.utf8)) }
        files.append(("report.md", Data(markdown().utf8)))
        files.append((Self.resultsFileName, try json()))
        return files.sorted { $0.name < $1.name }
    }

    /// Writes the report into `folder` atomically (see ``ReportFolder``); a folder of other
    /// files is replaced only with `force`.
    public func write(to folder: URL, force: Bool = false) throws {
        try ReportFolder.write(try files(), to: folder, force: force)
    }

    /// The results file's bytes (``ResultsFormat/encode(_:)``).
    public func json() throws -> Data { try ResultsFormat.encode(writtenResults) }
}

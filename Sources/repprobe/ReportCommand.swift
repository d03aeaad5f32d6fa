import ArgumentParser
import Foundation
import RepProbeKit

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a report again from its results.json (compare, rf) or log.json (train), without rerunning anything.",
        discussion: """
            The results file says what it holds ("format": {"kind": ..., "version": ...}); files \
            written before the format was recorded are recognised by their keys. The folder gets \
            report.md, the SVG figures and the results file, the same bytes the run wrote, and is \
            replaced as a whole only when everything succeeded.
            """
    )

    @Argument(help: "A results.json written by compare -o or rf -o, or a log.json written by train.")
    var results: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report into this folder.", valueName: "folder"))
    var output: String

    @Flag(help: "Leave the run time out of report.md and results.json.")
    var noTiming = false

    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        try reportFolder.check(output)
        let report = try AnyResults.read(URL(fileURLWithPath: results)).report(includeTiming: !noTiming)
        try report.write(to: URL(fileURLWithPath: output), force: reportFolder.force)
        print("wrote \(output)/report.md, \(type(of: report).resultsFileName) and \(report.figures().count) figures")
    }
}

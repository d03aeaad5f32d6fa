import ArgumentParser
import Foundation
import RepProbeKit

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Compare the two networks that ship with repprobe on the digits probe set and write the report.",
        discussion: """
            The same as `repprobe compare` with no model arguments: two seeds of one small CNN \
            trained on handwritten digits (models/, made by models/make_models.py) see 360 \
            held-out digits; the report (report.md, SVG figures, results.json) goes to reports/demo.
            """
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Folder for the report.", valueName: "folder"))
    var output: String = CompareCommand.defaultOutput

    @Option(help: "Bootstrap resamples for the interval of each best match.")
    var resamples: Int = 1000

    @Flag(help: "Leave the run time out, so that reruns give identical bytes.")
    var noTiming = false

    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        var arguments = ["-o", output, "--resamples", String(resamples)]
        if noTiming { arguments.append("--no-timing") }
        if reportFolder.force { arguments.append("--force") }
        let compare = try CompareCommand.parse(arguments)
        try compare.validate()
        try compare.run()
    }
}

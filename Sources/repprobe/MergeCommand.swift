import ArgumentParser
import Foundation
import RepProbeKit

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of a comparison (`compare --shard K/N`, `cka --shard K/N`) into its CKA table or report.",
        discussion: """
            Each file holds one shard's statistics of the linear CKA table, with the models, \
            inputs, layers and reduction they came from. repprobe checks that the files are \
            shards of one comparison (and says which difference it found otherwise), joins them \
            exactly in the order of their shards, and prints the table of all the inputs: the \
            same numbers as one run over them, to rounding. Named in any order, the same files \
            give the same output.

            With -o FOLDER, repprobe writes the report those statistics give (report.md with its \
            figures, and results.json): the CKA tables, best matches and PCA spectra of one run's \
            report; the parts that need every activation at once are left out, and the report \
            says which. With -o FILE.safetensors the joined statistics are written instead, so \
            that shards can be joined in stages; the table and the report need every shard.
            """
    )

    @Argument(help: "Accumulator files written by `repprobe compare --shard K/N -o FILE` or `repprobe cka --shard K/N -o FILE`.")
    var files: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report into this folder, or the joined statistics into FILE.safetensors, instead of printing the table.",
                                                    valueName: "folder|file.safetensors"))
    var output: String?

    @Flag(help: "Leave the run time out of report.md and results.json, so that reruns give identical bytes.")
    var noTiming = false

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name the accumulator files of the shards") }
        if output != nil && json { throw ValidationError("--json prints the table; -o writes the report or the statistics instead") }
        if noTiming && !(output.map { !$0.hasSuffix(".safetensors") } ?? false) { throw ValidationError("--no-timing applies to the report: add -o FOLDER") }
    }

    @OptionGroup var reportFolder: ReportFolderOptions

    func run() throws {
        let clock = ContinuousClock.now
        if let output {
            if output.hasSuffix(".safetensors") { try AtomicFile.checkWritable(URL(fileURLWithPath: output)) } else { try reportFolder.check(output) }
        }
        let merged = try SimilarityAccumulator.merging(contentsOf: files.map { URL(fileURLWithPath: $0) })
        if let output, !output.hasSuffix(".safetensors") {
            return try ReportOutput.write(try merged.comparisonResults(seconds: ComparisonResults.Provenance.seconds(since: clock)), to: output,
                                          timing: !noTiming, force: reportFolder.force)
        }
        if let output {
            try merged.write(to: URL(fileURLWithPath: output))
            print(ShardStatistics.wrote(output, merged))
            return
        }
        try SimilarityTable.print(try merged.similarity(), label: "linear CKA, biased estimator", json: json)
    }
}

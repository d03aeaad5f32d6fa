import ArgumentParser
import Foundation
import Notebooks
import RepProbeKit

struct NotebookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Run the shell blocks of Markdown notebooks and write their outputs under them, or check that the outputs still hold.",
        discussion: """
            A notebook is a Markdown file. Each fenced block whose info string is `sh` runs with \
            bash (-e -o pipefail) from the notebook's folder, with this repprobe first on the PATH; \
            its standard output goes into the ```output block right under it (created or replaced). \
            A line `# figure: PATH` inside a block adds the image link ![](PATH) under the output. \
            Standard error is shown only when a block fails.

            With --check nothing is written: every block runs and its output is compared with \
            the one in the file, numbers within --tolerance (relative) and all other text exactly; \
            any failed block or changed output makes the command fail.

            A block opened with ```sh slow (training networks, say) runs when outputs are written \
            but not with --check, unless --all is given: later blocks read the files it wrote, which \
            the notebook's folder keeps. --keep-slow writes the other blocks' outputs without \
            running the slow ones again.
            """
    )

    @Argument(help: "Notebook files (.md).")
    var files: [String]

    @Flag(help: "Compare outputs with the file instead of writing them.")
    var check = false

    @Flag(help: "With --check, run the slow blocks too.")
    var all = false

    @Flag(help: "When writing outputs, keep the slow blocks' outputs instead of running them.")
    var keepSlow = false

    @Option(help: "Largest relative difference allowed between numbers with --check.")
    var tolerance: Double = 1e-3

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one notebook") }
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a non-negative number") }
    }

    func run() throws {
        let runner = NotebookRunner(
            settings: .init(check: check, all: all, keepSlow: keepSlow, tolerance: tolerance),
            executableFolder: BundledFolders.executable.deletingLastPathComponent())
        var failures: [String] = []
        for path in files {
            let outcome: NotebookOutcome
            do {
                outcome = try runner.run(path, progress: Diagnostics.note)
            } catch let error as NotebookError {
                throw ValidationError(error.description)
            }
            failures += outcome.failures.map(\.description)
            let skipped = outcome.skippedSlow
            let slowNote = skipped == 0 ? "" : " (\(skipped) slow block\(skipped == 1 ? "" : "s") not run)"
            // One failure anywhere keeps every later notebook as it was.
            if !check && failures.isEmpty {
                try outcome.write()
                print("\(path): \(outcome.blocksRun) blocks run, outputs written" + slowNote)
            } else if check {
                print("\(path): \(outcome.blocksRun) blocks checked" + slowNote)
            }
        }
        guard failures.isEmpty else { throw ValidationError(failures.joined(separator: "\n")) }
    }
}

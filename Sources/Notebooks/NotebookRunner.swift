import Formats
import Foundation

/// Runs the shell blocks of a Markdown notebook, to write their outputs under them or to
/// check that the outputs written there still hold.
///
/// Each block runs with bash (`-e -o pipefail`) in the notebook's folder, with the
/// executable folder first on the PATH (so that blocks call the `repprobe` being tested,
/// not one installed elsewhere) and ``blockVariable`` set. Its standard output becomes the
/// block's output; its standard error is kept only when it fails.
public struct NotebookRunner: Sendable {
    /// What a run does with the blocks and their outputs.
    public struct Settings: Sendable, Equatable {
        /// Compare the outputs with the file instead of producing new text.
        public var check: Bool
        /// With ``check``, run the slow blocks too.
        public var all: Bool
        /// When producing new text, keep the slow blocks' outputs instead of running them.
        public var keepSlow: Bool
        /// Largest relative difference allowed between numbers with ``check``
        /// (see ``OutputComparison/difference(_:_:tolerance:)``).
        public var tolerance: Double

        public init(check: Bool = false, all: Bool = false, keepSlow: Bool = false, tolerance: Double = 1e-3) {
            self.check = check
            self.all = all
            self.keepSlow = keepSlow
            self.tolerance = tolerance
        }
    }

    /// Set (to `1`) in the environment of every block.
    ///
    /// A block that ran notebooks would run its own notebook again, and again; the runner
    /// refuses to start where this variable is set.
    public static let blockVariable = "REPPROBE_NOTEBOOK_BLOCK"

    public var settings: Settings
    /// Put first on the blocks' PATH: the folder of the executable the blocks should call.
    public var executableFolder: URL
    /// The environment the blocks inherit, and that tells whether this is itself a block.
    public var environment: [String: String]

    public init(settings: Settings = Settings(), executableFolder: URL,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.executableFolder = executableFolder
        self.environment = environment
    }

    /// Runs the notebook at `path`, its blocks in `folder` (by default the notebook's own,
    /// which its relative paths refer to), calling `progress` with a line before each block.
    ///
    /// Nothing is written: the outcome holds the new text when there is some to write
    /// (see ``NotebookOutcome/write()``). A failed block is reported in the outcome and the
    /// blocks after it still run. Throws ``NotebookError`` when this is itself a notebook
    /// block or the file cannot be read, and the error of starting bash if that fails.
    public func run(_ path: String, in folder: URL? = nil, progress: (String) -> Void = { _ in }) throws -> NotebookOutcome {
        guard environment[Self.blockVariable] == nil else { throw NotebookError.insideBlock }
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw NotebookError.unreadable(file: path, reason: FormatError.reason(reading: url, after: error))
        }
        let notebook = Notebook(text)
        let folder = folder ?? url.deletingLastPathComponent()
        var outputs: [String] = []
        var failures: [NotebookFailure] = []
        var skipped = 0
        for (index, block) in notebook.blocks.enumerated() {
            if skips(block) {
                outputs.append(block.output ?? "")
                skipped += 1
                continue
            }
            progress("\(url.lastPathComponent): block \(index + 1) of \(notebook.blocks.count)")
            let result = try execute(block.code, in: folder)
            guard result.status == 0 else {
                failures.append(NotebookFailure(file: path, block: index + 1, line: block.line,
                                                problem: .exited(status: result.status, standardError: result.stderr)))
                outputs.append(block.output ?? "")
                continue
            }
            outputs.append(result.stdout)
            if settings.check,
               let difference = OutputComparison.difference(block.output ?? "", result.stdout, tolerance: settings.tolerance) {
                failures.append(NotebookFailure(file: path, block: index + 1, line: block.line, problem: .outputChanged(difference)))
            }
        }
        let newText = settings.check || !failures.isEmpty ? nil : notebook.rendered(outputs: outputs)
        return NotebookOutcome(file: path, url: url, blockCount: notebook.blocks.count, skippedSlow: skipped,
                               failures: failures, newText: newText)
    }

    /// Whether `block` keeps its written output instead of running.
    func skips(_ block: Notebook.Block) -> Bool {
        block.isSlow && (settings.check ? !settings.all : settings.keepSlow)
    }

    /// Runs `code` with bash in `folder`, the executable folder first on the PATH.
    func execute(_ code: String, in folder: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "-o", "pipefail", "-c", code]
        process.currentDirectoryURL = folder
        var environment = self.environment
        environment["PATH"] = executableFolder.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment[Self.blockVariable] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so that neither fills up and blocks it.
        let group = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        group.enter()
        DispatchQueue.global().async {
            errorData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// What running one notebook gave: how many blocks ran, what failed, and the new text.
public struct NotebookOutcome: Sendable, Equatable {
    /// The notebook's path as it was given (messages quote it).
    public var file: String
    public var url: URL
    public var blockCount: Int
    /// Slow blocks that kept their written output instead of running.
    public var skippedSlow: Int
    /// Blocks that failed or whose output changed, in order.
    public var failures: [NotebookFailure]
    /// The notebook with the new outputs, when they are to be written: `nil` with a check,
    /// or when a block failed (so that a broken run never replaces good outputs).
    public var newText: String?

    /// The blocks that ran, failed ones included.
    public var blocksRun: Int { blockCount - skippedSlow }

    /// Writes ``newText`` over the notebook, atomically, so that an interrupted run leaves
    /// the old file whole. Does nothing when there is no new text.
    public func write() throws {
        guard let newText else { return }
        try AtomicFile.write(Data(newText.utf8), to: url)
    }
}

/// A block of a notebook that failed, or whose output no longer matches the file.
public struct NotebookFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong with the block.
    public enum Problem: Sendable, Equatable {
        /// Bash exited with a non-zero status; its standard error is kept to show why.
        case exited(status: Int32, standardError: String)
        /// The output differs from the file's (see ``OutputComparison/difference(_:_:tolerance:)``).
        case outputChanged(String)
    }

    /// The notebook's path as it was given.
    public var file: String
    /// 1-based index of the block among the notebook's blocks.
    public var block: Int
    /// 1-based line of the block's opening fence.
    public var line: Int
    public var problem: Problem

    /// The problem in words, without the place.
    public var message: String {
        switch problem {
        case let .exited(status, standardError): return "exited with status \(status):\n\(standardError)"
        case let .outputChanged(difference): return "output changed: \(difference)"
        }
    }

    /// The place and the problem, as `repprobe notebook` reports it.
    public var description: String {
        switch problem {
        case .exited: return "\(file): block \(block) (line \(line)) \(message)"
        case .outputChanged: return "\(file): block \(block) (line \(line)): \(message)"
        }
    }
}

/// Why a notebook could not be run at all.
public enum NotebookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The runner was started from inside a notebook block.
    case insideBlock
    /// The notebook file cannot be read as UTF-8 text.
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .insideBlock: return "a notebook block cannot run notebooks"
        case let .unreadable(file, reason): return "\(file): cannot be read (\(reason))"
        }
    }
}

import ArgumentParser
import Foundation
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
        // A block that runs notebooks would run this one again, and again.
        guard ProcessInfo.processInfo.environment[Self.runningVariable] == nil else {
            throw ValidationError("a notebook block cannot run notebooks")
        }
        var failures: [String] = []
        for path in files {
            let url = URL(fileURLWithPath: path)
            let text: String
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                throw ValidationError("\(path): cannot be read (\(error.localizedDescription))")
            }
            let notebook = Notebook(text)
            var outputs: [String] = []
            var skipped = 0
            for (index, block) in notebook.blocks.enumerated() {
                if block.isSlow && (check ? !all : keepSlow) {
                    outputs.append(block.output ?? "")
                    skipped += 1
                    continue
                }
                Diagnostics.note("\(url.lastPathComponent): block \(index + 1) of \(notebook.blocks.count)")
                let result = try Self.execute(block.code, in: url.deletingLastPathComponent())
                guard result.status == 0 else {
                    failures.append("\(path): block \(index + 1) (line \(block.line)) exited with status \(result.status):\n\(result.stderr)")
                    outputs.append(block.output ?? "")
                    continue
                }
                outputs.append(result.stdout)
                if check, let difference = Self.difference(block.output ?? "", result.stdout, tolerance: tolerance) {
                    failures.append("\(path): block \(index + 1) (line \(block.line)): output changed: \(difference)")
                }
            }
            if !check && failures.isEmpty {
                try AtomicFile.write(Data(notebook.rendered(outputs: outputs).utf8), to: url)
                print("\(path): \(notebook.blocks.count - skipped) blocks run, outputs written" + Self.slowNote(skipped))
            } else if check {
                print("\(path): \(notebook.blocks.count - skipped) blocks checked" + Self.slowNote(skipped))
            }
        }
        guard failures.isEmpty else {
            throw ValidationError(failures.joined(separator: "\n"))
        }
    }

    static func slowNote(_ skipped: Int) -> String {
        skipped == 0 ? "" : " (\(skipped) slow block\(skipped == 1 ? "" : "s") not run)"
    }

    /// Set in the environment of every block.
    static let runningVariable = "REPPROBE_NOTEBOOK_BLOCK"

    /// Runs `code` with bash in `folder`, this executable's folder first on the PATH.
    static func execute(_ code: String, in folder: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "-o", "pipefail", "-c", code]
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        let binary = BundledFolders.executable.deletingLastPathComponent().path
        environment["PATH"] = binary + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment[runningVariable] = "1"
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

    /// The first difference between an expected and an actual output: numbers may differ by
    /// `tolerance` relative to the larger magnitude (and 1e-9 absolute), everything else
    /// must be equal. `nil` when they agree.
    static func difference(_ expected: String, _ actual: String, tolerance: Double) -> String? {
        let a = tokens(expected), b = tokens(actual)
        for (index, pair) in zip(a, b).enumerated() {
            switch pair {
            case let (.number(x), .number(y)):
                if abs(x - y) > max(1e-9, tolerance * max(abs(x), abs(y))) {
                    return "number \(index + 1): \(x) became \(y)"
                }
            case let (.text(x), .text(y)) where x == y:
                continue
            default:
                return "'\(pair.0)' became '\(pair.1)'"
            }
        }
        if a.count != b.count { return "\(a.count) tokens became \(b.count)" }
        return nil
    }

    enum Token: CustomStringConvertible {
        case number(Double)
        case text(String)

        var description: String {
            switch self {
            case let .number(value): return String(value)
            case let .text(text): return text
            }
        }
    }

    /// Whitespace-separated words, with each word split into runs of numbers and of other
    /// characters (so "0.998]" is the number 0.998 and "]").
    static func tokens(_ text: String) -> [Token] {
        var result: [Token] = []
        for word in text.split(whereSeparator: \.isWhitespace) {
            var rest = Substring(word)
            while !rest.isEmpty {
                let numberEnd = Self.numberPrefix(rest)
                if numberEnd > 0, let value = Double(rest.prefix(numberEnd)) {
                    result.append(.number(value))
                    rest = rest.dropFirst(numberEnd)
                } else {
                    let end = rest.dropFirst().firstIndex { $0.isNumber || $0 == "-" } ?? rest.endIndex
                    result.append(.text(String(rest[..<end])))
                    rest = rest[end...]
                }
            }
        }
        return result
    }

    /// The length of the number at the start of `text` (sign, digits, point, exponent).
    static func numberPrefix(_ text: Substring) -> Int {
        let characters = Array(text)
        var i = 0
        if i < characters.count, characters[i] == "-" { i += 1 }
        let digitsStart = i
        while i < characters.count, characters[i].isASCII, characters[i].isNumber { i += 1 }
        if i < characters.count, characters[i] == ".", i + 1 < characters.count, characters[i + 1].isASCII, characters[i + 1].isNumber {
            i += 1
            while i < characters.count, characters[i].isASCII, characters[i].isNumber { i += 1 }
        }
        guard i > digitsStart else { return 0 }
        if i + 1 < characters.count, characters[i] == "e" || characters[i] == "E" {
            var j = i + 1
            if j < characters.count, characters[j] == "-" || characters[j] == "+" { j += 1 }
            let exponentStart = j
            while j < characters.count, characters[j].isASCII, characters[j].isNumber { j += 1 }
            if j > exponentStart { i = j }
        }
        return i
    }
}

/// A Markdown notebook: prose, `sh` blocks, and the generated output and figure lines
/// under each block.
struct Notebook {
    struct Block {
        /// 1-based line of the opening fence.
        var line: Int
        /// The fenced block as written, fences included.
        var source: String
        var code: String
        /// The current ```output block's text, if there is one.
        var output: String?
        /// Image paths named by `# figure:` lines.
        var figures: [String]
        /// Opened with ```sh slow: not rerun by `--check` unless asked.
        var isSlow: Bool
    }

    /// The file split into pieces: prose lines to keep, and blocks (whose generated parts
    /// are dropped and written anew).
    enum Piece {
        case prose(String)
        case block(Int)
    }

    private(set) var pieces: [Piece] = []
    private(set) var blocks: [Block] = []

    init(_ text: String) {
        let lines = text.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let fence = line.trimmingCharacters(in: .whitespaces)
            guard fence == "```sh" || fence == "```sh slow" else {
                pieces.append(.prose(line))
                i += 1
                continue
            }
            let start = i
            var code: [String] = []
            i += 1
            while i < lines.count, lines[i].trimmingCharacters(in: .whitespaces) != "```" {
                code.append(lines[i])
                i += 1
            }
            i += 1  // closing fence
            let fenced = lines[start..<min(i, lines.count)].joined(separator: "\n")
            let figures = code.compactMap { line -> String? in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("# figure:") else { return nil }
                return trimmed.dropFirst("# figure:".count).trimmingCharacters(in: .whitespaces)
            }
            // The generated part: blank lines, an ```output block, then the figure links.
            var j = i
            while j < lines.count, lines[j].isEmpty { j += 1 }
            var output: String?
            if j < lines.count, lines[j] == "```output" {
                var k = j + 1
                var captured: [String] = []
                while k < lines.count, lines[k] != "```" {
                    captured.append(lines[k])
                    k += 1
                }
                output = captured.isEmpty ? "" : captured.joined(separator: "\n") + "\n"
                j = k + 1
                var m = j
                while m < lines.count, lines[m].isEmpty { m += 1 }
                var linked = 0
                while m < lines.count, linked < figures.count, lines[m] == "![](\(figures[linked]))" {
                    linked += 1
                    m += 1
                    if linked < figures.count, m < lines.count, lines[m].isEmpty { m += 1 }
                }
                if linked > 0 { j = m }
                i = j
            }
            blocks.append(Block(line: start + 1, source: fenced, code: code.joined(separator: "\n"), output: output, figures: figures,
                                isSlow: fence == "```sh slow"))
            pieces.append(.block(blocks.count - 1))
        }
    }

    /// The notebook with `outputs[k]` under block `k`.
    func rendered(outputs: [String]) -> String {
        var lines: [String] = []
        for piece in pieces {
            switch piece {
            case let .prose(line):
                lines.append(line)
            case let .block(k):
                lines.append(blocks[k].source)
                lines.append("")
                var output = outputs[k]
                if output.hasSuffix("\n") { output.removeLast() }
                lines.append("```output")
                if !output.isEmpty { lines.append(output) }
                lines.append("```")
                for figure in blocks[k].figures {
                    lines.append("")
                    lines.append("![](\(figure))")
                }
                lines.append("")
            }
        }
        // Blocks end with a blank line of their own; do not let them pile up.
        var text = lines.joined(separator: "\n")
        while text.contains("\n\n\n") { text = text.replacingOccurrences(of: "\n\n\n", with: "\n\n") }
        while text.hasSuffix("\n") { text.removeLast() }
        return text + "\n"
    }
}

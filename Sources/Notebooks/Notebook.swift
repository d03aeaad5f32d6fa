import Foundation

/// A Markdown notebook: prose, `sh` blocks, and the generated output and figure lines
/// under each block.
///
/// Parsing keeps every prose line as written and drops each block's generated part (its
/// ```output block and the figure links after it), so that ``rendered(outputs:)`` with the
/// outputs already in the file gives that file back byte for byte.
public struct Notebook: Sendable, Equatable {
    /// A fenced ```sh (or ```sh slow) block, with the output written under it.
    public struct Block: Sendable, Equatable {
        /// 1-based line of the opening fence.
        public var line: Int
        /// The fenced block as written, fences included.
        public var source: String
        /// The lines between the fences.
        public var code: String
        /// The current ```output block's text, if there is one.
        public var output: String?
        /// Image paths named by `# figure:` lines.
        public var figures: [String]
        /// Opened with ```sh slow: not rerun by a check unless asked.
        public var isSlow: Bool

        /// The fence's info string, `sh` or `sh slow`.
        public var info: String { isSlow ? "sh slow" : "sh" }
    }

    /// The file split into pieces: prose lines to keep, and blocks (whose generated parts
    /// are dropped and written anew).
    enum Piece: Sendable, Equatable {
        case prose(String)
        case block(Int)
    }

    private(set) var pieces: [Piece] = []
    /// The shell blocks, in the order they appear (and run).
    public private(set) var blocks: [Block] = []

    /// Parses the text of a notebook.
    public init(_ text: String) {
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

    /// The notebook with `outputs[k]` under block `k`, each followed by its figure links.
    ///
    /// `outputs` has one entry per block; a final newline of an output is not doubled.
    public func rendered(outputs: [String]) -> String {
        precondition(outputs.count == blocks.count, "\(outputs.count) outputs for \(blocks.count) blocks")
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

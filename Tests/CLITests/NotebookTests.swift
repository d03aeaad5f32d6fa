import Foundation
import Testing

@testable import repprobe

/// The notebook runner, and every notebook under notebooks-md/ still giving the outputs
/// written in it.
@Suite struct NotebookTests {
    static let notebooks = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("notebooks-md")
    let cli = CLITests()

    /// The notebooks are checked in a copy, so that the figures their blocks write do not
    /// replace the tracked ones; the repository folders they refer to (`../models`,
    /// `../probes`, and `../Tests` for the Hugging Face fixtures) are linked beside the copy.
    @Test func everyNotebookStillGivesItsOutputs() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.notebooks.path)
            .filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
        #expect(files.count >= 4)
        let manager = FileManager.default
        let root = manager.temporaryDirectory.appendingPathComponent("notebooks-\(UUID().uuidString)")
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? manager.removeItem(at: root) }
        let copy = root.appendingPathComponent("notebooks-md")
        try manager.copyItem(at: Self.notebooks, to: copy)
        let repository = Self.notebooks.deletingLastPathComponent()
        for folder in ["models", "probes", "Tests"] {
            try manager.createSymbolicLink(at: root.appendingPathComponent(folder),
                                           withDestinationURL: repository.appendingPathComponent(folder))
        }
        let result = try cli.run(["notebook", "--check"] + files.map { copy.appendingPathComponent($0).path })
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.components(separatedBy: "blocks checked").count == files.count + 1)
    }

    @Test func outputsAreWrittenUnderTheirBlocksAndReplacedOnRerun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("n.md")
        let source = "# Title\n\nText.\n\n```sh\necho 3.14159 apples\n# figure: plot.svg\n```\n\nMore text.\n\n```sh\nprintf 'a\\nb\\n'\n```\n"
        try source.write(to: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["notebook", file.path]).status == 0)
        let once = try String(contentsOf: file, encoding: .utf8)
        #expect(once == "# Title\n\nText.\n\n```sh\necho 3.14159 apples\n# figure: plot.svg\n```\n\n```output\n3.14159 apples\n```\n\n![](plot.svg)\n\nMore text.\n\n```sh\nprintf 'a\\nb\\n'\n```\n\n```output\na\nb\n```\n")
        #expect(try cli.run(["notebook", file.path]).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == once)
        #expect(try cli.run(["notebook", "--check", file.path]).status == 0)
        // A changed number beyond the tolerance, and a failing block, are both reported.
        try once.replacingOccurrences(of: "3.14159 apples\n```", with: "3.2 apples\n```").write(to: file, atomically: true, encoding: .utf8)
        let changed = try cli.run(["notebook", "--check", file.path])
        #expect(changed.status != 0 && changed.stderr.contains("3.2 became 3.14159"))
        try (once + "\n```sh\nexit 3\n```\n").write(to: file, atomically: true, encoding: .utf8)
        let failing = try cli.run(["notebook", file.path])
        #expect(failing.status != 0 && failing.stderr.contains("exited with status 3"))
    }

    @Test func slowBlocksRunWhenWritingAndOnlyOnRequestWhenChecking() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("n.md")
        // The slow block counts its runs in a file that the next block reads.
        let source = "```sh slow\necho x >> runs.txt\necho trained\n```\n\n```sh\nwc -l < runs.txt\n```\n"
        try source.write(to: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["notebook", file.path]).status == 0)
        let written = try String(contentsOf: file, encoding: .utf8)
        #expect(written.contains("```output\ntrained\n```") && written.contains("```output\n1\n```"))
        let checked = try cli.run(["notebook", "--check", file.path])
        #expect(checked.status == 0 && checked.stdout.contains("1 blocks checked (1 slow block not run)"), "\(checked.stderr)")
        // With --all the slow block runs again: two runs now, so the count changed.
        let all = try cli.run(["notebook", "--check", "--all", file.path])
        #expect(all.status != 0 && all.stderr.contains("became 2"))
        #expect(try cli.run(["notebook", "--keep-slow", file.path]).status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8).contains("```output\ntrained\n```\n\n```sh\nwc -l < runs.txt\n```\n\n```output\n2\n```"))
    }
}

import Foundation
import Testing

@testable import Notebooks

/// Running notebooks: outputs produced and written, checked, failures, slow blocks, and
/// what a block sees.
@Suite struct NotebookRunnerTests {
    /// A notebook file in a fresh temporary folder, removed when the test is done.
    final class Scratch {
        let folder: URL
        let file: URL

        init(_ text: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("notebooks-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            file = folder.appendingPathComponent("n.md")
            try text.write(to: file, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(at: folder) }

        var text: String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
    }

    static let binary = URL(fileURLWithPath: "/nonexistent/repprobe-bin")

    /// A runner whose blocks inherit this process's environment, without the variable that
    /// would make it refuse to run if the tests themselves run inside a notebook block.
    func runner(check: Bool = false, all: Bool = false, keepSlow: Bool = false, tolerance: Double = 1e-3) -> NotebookRunner {
        var environment = ProcessInfo.processInfo.environment
        environment[NotebookRunner.blockVariable] = nil
        return NotebookRunner(settings: .init(check: check, all: all, keepSlow: keepSlow, tolerance: tolerance),
                              executableFolder: Self.binary, environment: environment)
    }

    static let twoBlocks = "# Title\n\n```sh\necho 3.14159 apples\n```\n\nMore.\n\n```sh\nprintf 'a\\nb\\n'\n```\n"
    static let twoBlocksWritten = "# Title\n\n```sh\necho 3.14159 apples\n```\n\n```output\n3.14159 apples\n```\n\nMore.\n\n```sh\nprintf 'a\\nb\\n'\n```\n\n```output\na\nb\n```\n"

    @Test func outputsAreWrittenUnderTheirBlocks() throws {
        let scratch = try Scratch(Self.twoBlocks)
        let outcome = try runner().run(scratch.file.path)
        #expect(outcome.newText == Self.twoBlocksWritten)
        #expect(outcome.blocksRun == 2 && outcome.skippedSlow == 0 && outcome.failures.isEmpty)
        #expect(scratch.text == Self.twoBlocks, "running alone writes nothing")
        try outcome.write()
        #expect(scratch.text == Self.twoBlocksWritten)
    }

    @Test func rerunningGivesTheSameText() throws {
        let scratch = try Scratch(Self.twoBlocksWritten)
        #expect(try runner().run(scratch.file.path).newText == Self.twoBlocksWritten)
    }

    @Test func checkOfUnchangedOutputsPassesAndGivesNoText() throws {
        let scratch = try Scratch(Self.twoBlocksWritten)
        let outcome = try runner(check: true).run(scratch.file.path)
        #expect(outcome.failures.isEmpty && outcome.blocksRun == 2)
        #expect(outcome.newText == nil)
    }

    @Test func checkReportsAChangedOutputWithItsBlockAndLine() throws {
        let scratch = try Scratch(Self.twoBlocksWritten.replacingOccurrences(of: "```output\n3.14159", with: "```output\n3.2"))
        let outcome = try runner(check: true).run(scratch.file.path)
        let failure = try #require(outcome.failures.first)
        #expect(outcome.failures.count == 1)
        #expect(failure.block == 1 && failure.line == 3)
        #expect(failure.problem == .outputChanged("number 1: 3.2 became 3.14159"))
        #expect(failure.description == "\(scratch.file.path): block 1 (line 3): output changed: number 1: 3.2 became 3.14159")
    }

    @Test func checkAllowsNumbersWithinTheTolerance() throws {
        let scratch = try Scratch(Self.twoBlocksWritten.replacingOccurrences(of: "```output\n3.14159", with: "```output\n3.142"))
        #expect(try runner(check: true, tolerance: 1e-3).run(scratch.file.path).failures.isEmpty)
        #expect(try runner(check: true, tolerance: 1e-6).run(scratch.file.path).failures.count == 1)
    }

    @Test func failingBlockReportsItsStatusAndStandardErrorAndWritesNothing() throws {
        let source = Self.twoBlocksWritten + "\n```sh\necho oops >&2\nexit 3\n```\n"
        let scratch = try Scratch(source)
        let outcome = try runner().run(scratch.file.path)
        let failure = try #require(outcome.failures.first)
        #expect(failure.block == 3 && failure.line == 22)
        #expect(failure.problem == .exited(status: 3, standardError: "oops\n"))
        #expect(failure.description == "\(scratch.file.path): block 3 (line 22) exited with status 3:\noops\n")
        #expect(outcome.newText == nil)
        try outcome.write()
        #expect(scratch.text == source)
    }

    @Test func blocksAfterAFailureStillRun() throws {
        let scratch = try Scratch("```sh\nfalse\n```\n\n```sh\ntouch ran\n```\n")
        let outcome = try runner().run(scratch.file.path)
        #expect(outcome.failures.map(\.block) == [1] && outcome.blocksRun == 2)
        #expect(FileManager.default.fileExists(atPath: scratch.folder.appendingPathComponent("ran").path))
    }

    @Test func aFailureInsideAPipelineFailsTheBlock() throws {
        let scratch = try Scratch("```sh\nfalse | cat\necho after\n```\n")
        #expect(try runner().run(scratch.file.path).failures.first?.problem == .exited(status: 1, standardError: ""))
    }

    /// The slow block counts its runs in a file that the next block reads.
    static let slowThenFast = "```sh slow\necho x >> runs.txt\necho trained\n```\n\n```output\ntrained\n```\n\n```sh\nwc -l < runs.txt\n```\n\n```output\n1\n```\n"

    @Test func slowBlocksAreSkippedByACheck() throws {
        let scratch = try Scratch(Self.slowThenFast)
        try "x\n".write(to: scratch.folder.appendingPathComponent("runs.txt"), atomically: true, encoding: .utf8)
        let outcome = try runner(check: true).run(scratch.file.path)
        #expect(outcome.skippedSlow == 1 && outcome.blocksRun == 1 && outcome.failures.isEmpty)
    }

    @Test func slowBlocksRunInACheckOfAll() throws {
        let scratch = try Scratch(Self.slowThenFast)
        try "x\n".write(to: scratch.folder.appendingPathComponent("runs.txt"), atomically: true, encoding: .utf8)
        let outcome = try runner(check: true, all: true).run(scratch.file.path)
        #expect(outcome.skippedSlow == 0 && outcome.blocksRun == 2)
        #expect(outcome.failures.map(\.problem) == [.outputChanged("number 1: 1.0 became 2.0")])
    }

    @Test func slowBlocksRunWhenWriting() throws {
        let scratch = try Scratch(Self.slowThenFast)
        let outcome = try runner().run(scratch.file.path)
        #expect(outcome.skippedSlow == 0 && outcome.newText == Self.slowThenFast)
    }

    @Test func keepSlowKeepsTheSlowOutputsWhenWriting() throws {
        let scratch = try Scratch(Self.slowThenFast.replacingOccurrences(of: "```output\ntrained\n```", with: "```output\nkept\n```"))
        try "x\nx\n".write(to: scratch.folder.appendingPathComponent("runs.txt"), atomically: true, encoding: .utf8)
        let outcome = try runner(keepSlow: true).run(scratch.file.path)
        #expect(outcome.skippedSlow == 1)
        #expect(outcome.newText == Self.slowThenFast.replacingOccurrences(of: "```output\ntrained\n```", with: "```output\nkept\n```")
            .replacingOccurrences(of: "```output\n1\n```", with: "```output\n2\n```"))
    }

    @Test func theVariableIsSetInsideBlocks() throws {
        let scratch = try Scratch("```sh\necho \"$\(NotebookRunner.blockVariable)\"\n```\n")
        #expect(try runner().run(scratch.file.path).newText?.contains("```output\n1\n```") == true)
    }

    @Test func theExecutableFolderComesFirstOnThePath() throws {
        let scratch = try Scratch("```sh\necho \"${PATH%%:*}\"\n```\n")
        #expect(try runner().run(scratch.file.path).newText?.contains("```output\n\(Self.binary.path)\n```") == true)
    }

    @Test func blocksRunInTheNotebooksFolder() throws {
        let scratch = try Scratch("```sh\ncat beside.txt\n```\n")
        try "found\n".write(to: scratch.folder.appendingPathComponent("beside.txt"), atomically: true, encoding: .utf8)
        #expect(try runner().run(scratch.file.path).newText?.contains("```output\nfound\n```") == true)
    }

    @Test func blocksRunInTheFolderGiven() throws {
        let scratch = try Scratch("```sh\ncat beside.txt\n```\n")
        let other = try Scratch("")
        try "elsewhere\n".write(to: other.folder.appendingPathComponent("beside.txt"), atomically: true, encoding: .utf8)
        #expect(try runner().run(scratch.file.path, in: other.folder).newText?.contains("```output\nelsewhere\n```") == true)
    }

    @Test func progressNamesEachBlockThatRuns() throws {
        let scratch = try Scratch(Self.slowThenFast)
        try "x\n".write(to: scratch.folder.appendingPathComponent("runs.txt"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        _ = try runner(check: true).run(scratch.file.path) { lines.append($0) }
        #expect(lines == ["n.md: block 2 of 2"])
    }

    @Test func insideABlockTheRunnerRefuses() throws {
        let scratch = try Scratch(Self.twoBlocks)
        var runner = runner()
        runner.environment[NotebookRunner.blockVariable] = "1"
        #expect(throws: NotebookError.insideBlock) { try runner.run(scratch.file.path) }
        #expect(NotebookError.insideBlock.description == "a notebook block cannot run notebooks")
    }

    @Test func anUnreadableFileIsNamed() throws {
        let scratch = try Scratch("")
        let missing = scratch.folder.appendingPathComponent("missing.md").path
        let error = #expect(throws: NotebookError.self) { try runner().run(missing) }
        guard case let .unreadable(file, _)? = error else { return }
        #expect(file == missing)
        #expect(error?.description.hasPrefix("\(missing): cannot be read (") == true)
    }
}

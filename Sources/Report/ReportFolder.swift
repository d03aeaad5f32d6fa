import Formats
import Foundation

/// Writes a report's files into a folder all at once: they go into a hidden sibling folder
/// first, which then takes the target's place with a rename, so a run that fails half-way
/// leaves either the previous report or none, never a mixture.
///
/// Only a folder that repprobe wrote (it holds the ``marker`` file) or an empty one is
/// replaced: a folder of the user's own files is refused unless `force` says otherwise, so
/// that `-o DIR` never deletes them silently. Staging folders left by a process that was
/// killed half-way are removed by the next write beside them.
public enum ReportFolder {
    public enum Failure: Error, LocalizedError {
        case cannotWrite(folder: String, reason: String)
        case badFileName(String)
        case notAReportFolder(folder: String, files: [String])

        public var errorDescription: String? {
            switch self {
            case let .cannotWrite(folder, reason): return "\(folder): cannot write the report (\(reason))"
            case let .badFileName(name): return "'\(name)' is not a plain file name for a report file"
            case let .notAReportFolder(folder, files):
                let shown = files.prefix(3).joined(separator: ", ") + (files.count > 3 ? " and \(files.count - 3) more" : "")
                return "\(folder): the folder holds files repprobe did not write (\(shown)), which writing the report there would delete; "
                    + "choose another folder, or pass --force to replace it"
            }
        }
    }

    /// The file that marks a folder as a report repprobe wrote.
    public static let marker = ".repprobe-report"

    /// Checks, before anything is computed, that a report can be written to `folder`: it is
    /// not a file, it is empty, missing or a report repprobe wrote (or `force`), and its
    /// parent is, or can be made, a writable folder.
    public static func checkWritable(_ folder: URL, force: Bool = false) throws {
        let manager = FileManager.default
        let target = folder.standardizedFileURL
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure.cannotWrite(folder: target.path, reason: "a file, not a folder, has that name") }
            let contents = ((try? manager.contentsOfDirectory(atPath: target.path)) ?? []).sorted()
            if !force && !contents.isEmpty && !contents.contains(marker) {
                throw Failure.notAReportFolder(folder: target.path, files: contents)
            }
        }
        // The nearest existing ancestor must be a writable folder.
        var ancestor = target.deletingLastPathComponent()
        while !manager.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), ancestor.path != "/" {
            ancestor = ancestor.deletingLastPathComponent()
        }
        guard isDirectory.boolValue else {
            throw Failure.cannotWrite(folder: target.path, reason: "\(ancestor.path) is a file, not a folder")
        }
        guard manager.isWritableFile(atPath: ancestor.path) else {
            throw Failure.cannotWrite(folder: target.path, reason: "permission denied in \(ancestor.path)")
        }
    }

    /// Writes `files` (plain names, no folders) into `folder`, replacing what was there (see
    /// ``checkWritable(_:force:)``).
    public static func write(_ files: [(name: String, contents: Data)], to folder: URL, force: Bool = false) throws {
        for (name, _) in files where name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            throw Failure.badFileName(name)
        }
        try checkWritable(folder, force: force)
        let manager = FileManager.default
        let target = folder.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        StagingName.removeStale(beside: target, kinds: ["new", "old"])
        let staging = StagingName.url(beside: target, kind: "new")
        let previous = StagingName.url(beside: target, kind: "old")
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            try manager.createDirectory(at: staging, withIntermediateDirectories: false)
            for (name, contents) in files {
                try contents.write(to: staging.appendingPathComponent(name))
            }
            try Data("A report written by repprobe: repprobe replaces this folder when it writes the report again.\n".utf8)
                .write(to: staging.appendingPathComponent(marker))
            var isDirectory: ObjCBool = false
            let exists = manager.fileExists(atPath: target.path, isDirectory: &isDirectory)
            if exists && !isDirectory.boolValue {
                throw Failure.cannotWrite(folder: target.path, reason: "a file, not a folder, has that name")
            }
            if exists { try manager.moveItem(at: target, to: previous) }
            do {
                try manager.moveItem(at: staging, to: target)
            } catch {
                if exists { try? manager.moveItem(at: previous, to: target) }
                throw error
            }
            if exists { try? manager.removeItem(at: previous) }
        } catch let failure as Failure {
            try? manager.removeItem(at: staging)
            throw failure
        } catch {
            try? manager.removeItem(at: staging)
            throw Failure.cannotWrite(folder: target.path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
    }
}

import Foundation

/// Writes a report's files into a folder all at once: they go into a hidden sibling folder
/// first, which then takes the target's place with a rename, so a run that fails half-way
/// leaves either the previous report or none, never a mixture.
public enum ReportFolder {
    public enum Failure: Error, LocalizedError {
        case cannotWrite(folder: String, reason: String)
        case badFileName(String)

        public var errorDescription: String? {
            switch self {
            case let .cannotWrite(folder, reason): return "\(folder): cannot write the report (\(reason))"
            case let .badFileName(name): return "'\(name)' is not a plain file name for a report file"
            }
        }
    }

    /// Writes `files` (plain names, no folders) into `folder`, replacing what was there.
    public static func write(_ files: [(name: String, contents: Data)], to folder: URL) throws {
        for (name, _) in files where name.isEmpty || name.contains("/") || name.hasPrefix(".") {
            throw Failure.badFileName(name)
        }
        let manager = FileManager.default
        let target = folder.standardizedFileURL
        let parent = target.deletingLastPathComponent()
        let token = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).new-\(token)")
        let previous = parent.appendingPathComponent(".\(target.lastPathComponent).old-\(token)")
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            try manager.createDirectory(at: staging, withIntermediateDirectories: false)
            for (name, contents) in files {
                try contents.write(to: staging.appendingPathComponent(name))
            }
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
            throw Failure.cannotWrite(folder: target.path, reason: error.localizedDescription)
        }
    }
}

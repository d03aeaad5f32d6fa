import Foundation

/// The hidden files and folders written beside a destination until it is complete,
/// `.NAME.KIND-PID-TOKEN`: the temporary file of an atomic write (`tmp`), the parts of a
/// streamed archive (`parts`), a report folder and its predecessor while they change places
/// (`new`, `old`).
///
/// The process id in the name lets a later run tell the leftovers of a process that was
/// killed from those of one still writing, and remove only the former.
public enum StagingName {
    /// A fresh staging path of `kind` beside `target`, for this process.
    public static func url(beside target: URL, kind: String) -> URL {
        let token = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        return target.deletingLastPathComponent().appendingPathComponent(prefix(of: target, kind: kind) + token)
    }

    /// Removes the staging files and folders of `kinds` beside `target` whose process no
    /// longer runs. Failures are ignored: this is tidying, never a reason to stop.
    public static func removeStale(beside target: URL, kinds: [String]) {
        let parent = target.deletingLastPathComponent()
        let prefixes = kinds.map { prefix(of: target, kind: $0) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] {
            guard let prefix = prefixes.first(where: name.hasPrefix),
                  let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0 else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }

    private static func prefix(of target: URL, kind: String) -> String { ".\(target.lastPathComponent).\(kind)-" }
}

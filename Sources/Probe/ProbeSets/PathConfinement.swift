import Foundation

/// The folders a probe set may read from: its own file's folder, and folders the user
/// allowed on the command line. A probe set is data that can come from anywhere, so a path
/// in it (`../../home/…`, `/etc/…`, or a symbolic link that leads out) must not make
/// repprobe open a file elsewhere on the machine.
public struct PathConfinement: Sendable {
    /// The allowed folders, standardized and with symbolic links resolved.
    let roots: [String]
    /// The probe-set file, for messages.
    let file: String

    /// The folder of the probe set `file`, and `allowing`.
    public init(probeSet file: URL, allowing: [URL] = []) {
        self.file = file.path
        roots = ([file.deletingLastPathComponent()] + allowing).map(Self.resolved)
    }

    static func resolved(_ url: URL) -> String {
        let path = url.standardizedFileURL.resolvingSymlinksInPath().path
        return path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// `path` as the probe set gives it, resolved against the probe set's folder when
    /// relative.
    ///
    /// - Throws: ``ProbeError/invalidProbeSet(file:problem:)`` when it leads outside the
    ///   allowed folders.
    func url(_ path: String, relativeTo folder: URL? = nil) throws -> URL {
        let base = folder ?? URL(fileURLWithPath: file).deletingLastPathComponent()
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        try check(url, as: path)
        return url
    }

    /// Throws unless `url` (with symbolic links resolved) lies in an allowed folder.
    func check(_ url: URL, as given: String? = nil) throws {
        let target = Self.resolved(url)
        guard !roots.contains(where: { target == $0 || target.hasPrefix($0 == "/" ? "/" : $0 + "/") }) else { return }
        throw ProbeError.invalidProbeSet(
            file: file, problem: "'\(given ?? url.path)' leads outside the probe set's folder; a probe set reads only files "
                + "in its own folder and in folders given with --allow-path")
    }
}

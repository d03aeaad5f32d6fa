import Foundation
import Formats
@testable import Probe
import Testing

/// A probe set reads only files in its own folder, and in folders the user allows: no path
/// in it (`..`, absolute, or a symbolic link that leads out) opens a file elsewhere.
@Suite struct PathConfinementTests {
    /// A fresh folder holding `set/` (the probe set's folder) and `outside/` beside it, with
    /// a small `.npz` of images in `outside/`.
    static func layout() throws -> (root: URL, set: URL, outside: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("confinement-\(UUID().uuidString)")
        let set = root.appendingPathComponent("set"), outside = root.appendingPathComponent("outside")
        for folder in [set, outside] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let images = NumericArray(shape: [2, 1, 4, 4], elementType: .float32, storage: .float32([Float](repeating: 0.5, count: 32)))
        try NPZ.write([("images", images)], to: outside.appendingPathComponent("data.npz"))
        return (root, set, outside)
    }

    static func load(_ path: String, in folder: URL, allowing: [URL] = []) throws -> ProbeSet {
        let file = folder.appendingPathComponent("probe.yaml")
        try "stimuli: {kind: file, path: \(path), array: images}\n".write(to: file, atomically: true, encoding: .utf8)
        return try ProbeSet.load(file.path, inputShape: [1, 4, 4], allowing: allowing)
    }

    static func expectRefused(_ path: String, in folder: URL, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) { _ = try load(path, in: folder) } throws: { error in
            guard case let ProbeError.invalidProbeSet(file, problem) = error else { return false }
            return file.hasSuffix("probe.yaml") && problem.contains("'\(path)' leads outside the probe set's folder")
                && problem.contains("--allow-path")
        }
    }

    @Test func pathsLeadingOutOfTheFolderAreRefused() throws {
        let (root, set, outside) = try Self.layout()
        defer { try? FileManager.default.removeItem(at: root) }
        Self.expectRefused("../outside/data.npz", in: set)
        Self.expectRefused(outside.appendingPathComponent("data.npz").path, in: set)
        Self.expectRefused("/etc/passwd", in: set)
        // A symbolic link inside the folder that leads out is followed, and refused.
        try FileManager.default.createSymbolicLink(at: set.appendingPathComponent("link.npz"),
                                                   withDestinationURL: outside.appendingPathComponent("data.npz"))
        Self.expectRefused("link.npz", in: set)
    }

    @Test func theUserMayAllowAFolder() throws {
        let (root, set, outside) = try Self.layout()
        defer { try? FileManager.default.removeItem(at: root) }
        let allowed = try Self.load("../outside/data.npz", in: set, allowing: [outside])
        #expect(allowed.inputs.shape == [2, 1, 4, 4])
        // Inside its own folder nothing needs allowing, sub-folders and `.` segments included.
        try FileManager.default.createDirectory(at: set.appendingPathComponent("data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: outside.appendingPathComponent("data.npz"), to: set.appendingPathComponent("data/d.npz"))
        #expect(try Self.load("./data/d.npz", in: set).inputs.shape == [2, 1, 4, 4])
    }

    @Test func imageListsCannotLeadOut() throws {
        let (root, set, _) = try Self.layout()
        defer { try? FileManager.default.removeItem(at: root) }
        let images = set.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try "file,label\n../../outside/cat.png,cat\n".write(to: images.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        let file = set.appendingPathComponent("probe.yaml")
        try "stimuli:\n  kind: images\n  path: images\n  labels: labels.csv\n  mean: [0.5]\n  std: [0.5]\n"
            .write(to: file, atomically: true, encoding: .utf8)
        #expect { _ = try ProbeSet.load(file.path, inputShape: [1, 4, 4]) } throws: { error in
            guard case let ProbeError.invalidProbeSet(_, problem) = error else { return false }
            return problem.contains("leads outside the probe set's folder")
        }
    }
}

import Foundation
import Formats
import Testing
@testable import Networks
@testable import Probe

/// Image-folder probe sets against Pillow and PyTorch (Tests/Fixtures/images/
/// make_image_fixtures.py): decoded by libpng and libjpeg-turbo, resized, cropped and
/// normalised as a model card says.
@Suite struct ImageFolderTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    static let preprocessing = """
          resize: 36
          crop: [32, 32]
          mean: [0.485, 0.456, 0.406]
          std: [0.229, 0.224, 0.225]

        """

    /// The folders these probe sets read from, outside their own: the fixtures and the
    /// temporary folders the tests make.
    static let allowed = [fixtures, FileManager.default.temporaryDirectory]

    /// A probe set YAML in a fresh folder that points at `path` with `settings`.
    static func probeSet(_ path: String, _ settings: String = preprocessing) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let yaml = "stimuli:\n  kind: images\n  path: \(path)\n\(settings)"
        try yaml.write(to: folder.appendingPathComponent("set.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("set.yaml")
    }

    @Test func subFoldersAreClassesAndPixelsMatchPillowAndPyTorch() throws {
        let set = try ProbeSet.load(try Self.probeSet(Self.fixtures.appendingPathComponent("photos").path).path, inputShape: [3, 64, 64], allowing: Self.allowed)
        #expect(set.inputs.shape == [4, 3, 32, 32])
        #expect(set.labels == [0, 0, 1, 1] && set.classNames == [0: "cat", 1: "dog"])
        let reference = try NPY.read(Self.fixtures.appendingPathComponent("reference.npy")).floats()
        let values = try #require(set.inputs.floats)
        let error = zip(values, reference).map { abs($0 - $1) }.max() ?? .infinity
        // One 8-bit step is 1/255 before normalisation (≈ 0.017 after dividing by std 0.225):
        // PNG and JPEG decode to Pillow's exact bytes, so the error is float rounding.
        #expect(values.count == reference.count && error < 1e-4, "max error \(error)")
    }

    @Test func aLabelsFileGivesTheOrderAndTheClasses() throws {
        let set = try ProbeSet.load(try Self.probeSet(Self.fixtures.appendingPathComponent("photos").path,
                                                      "  labels: labels.csv\n" + Self.preprocessing).path, inputShape: [3, 32, 32], allowing: Self.allowed)
        #expect(set.labels == [1, 0, 1, 0] && set.classNames == [0: "cat", 1: "dog"])
        let bySubfolder = try ProbeSet.load(try Self.probeSet(Self.fixtures.appendingPathComponent("photos").path).path, inputShape: [3, 32, 32], allowing: Self.allowed)
        let all = try #require(bySubfolder.inputs.floats), listed = try #require(set.inputs.floats)
        let plane = 3 * 32 * 32
        #expect(Array(listed[0..<plane]) == Array(all[(3 * plane)..<(4 * plane)]), "d.png first")
    }

    @Test func greyModelsAndDirectResizing() throws {
        let set = try ProbeSet.load(try Self.probeSet(Self.fixtures.appendingPathComponent("photos/cat").path,
                                                      "  mean: [0.5]\n  std: [0.5]\n").path, inputShape: [1, 20, 24], allowing: Self.allowed)
        #expect(set.inputs.shape == [2, 1, 20, 24] && set.labels == nil)
        let values = try #require(set.inputs.floats)
        #expect(values.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test func brokenImagesAndSettingsAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("images-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = try Data(contentsOf: Self.fixtures.appendingPathComponent("photos/cat/a.png"))
        let jpeg = try Data(contentsOf: Self.fixtures.appendingPathComponent("photos/cat/b.jpg"))
        // A PNG header claiming 100 000 × 100 000 pixels (the IHDR CRC is not what libpng
        // checks first: the size limit is).
        var huge = png
        huge.replaceSubrange(16..<24, with: [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0])
        let cases: [(String, Data, String)] = [
            ("truncated.png", png.prefix(60), "PNG"),
            ("garbage.png", Data("not an image at all".utf8), "neither a PNG nor a JPEG"),
            ("truncated.jpg", jpeg.prefix(200), "JPEG"),
            ("huge.png", huge, "huge.png"),
        ]
        for (name, data, expected) in cases {
            let sub = folder.appendingPathComponent(name + ".d")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            try data.write(to: sub.appendingPathComponent(name))
            do {
                _ = try ProbeSet.load(try Self.probeSet(sub.path, "  crop: [8, 8]\n").path, inputShape: [3, 8, 8], allowing: Self.allowed)
                Issue.record("\(name): loaded")
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(message.contains(name) && message.contains(expected), "\(name): \(message)")
            }
        }
        let settings: [(String, String)] = [
            ("  mean: [0.5]\n  std: [0.5]\n", "mean and std give 1 channels"),
            ("  std: [1, 0, 1]\n", "std positive"),
            ("  resize: 36\n  crop: [64, 64]\n", "smaller than the 64×64 crop"),
            ("  resize: 0\n", "resize must be between"),
        ]
        for (text, expected) in settings {
            do {
                _ = try ProbeSet.load(try Self.probeSet(Self.fixtures.appendingPathComponent("photos").path, text).path, inputShape: [3, 32, 32], allowing: Self.allowed)
                Issue.record("\(expected): loaded")
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(message.contains(expected), "\(expected): \(message)")
            }
        }
        // A labels table with a line that is not FILE,LABEL, and one naming a missing image.
        let listed = folder.appendingPathComponent("listed")
        try FileManager.default.createDirectory(at: listed, withIntermediateDirectories: true)
        try png.write(to: listed.appendingPathComponent("a.png"))
        for (table, expected) in [("a.png,cat\nb.png\n", "line 2 is not FILE,LABEL"), ("a.png,cat\nmissing.png,dog\n", "missing.png")] {
            try table.write(to: listed.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
            do {
                _ = try ProbeSet.load(try Self.probeSet(listed.path, "  labels: labels.csv\n  crop: [8, 8]\n").path, inputShape: [3, 8, 8], allowing: Self.allowed)
                Issue.record("\(expected): loaded")
            } catch {
                let message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
                #expect(message.contains(expected), "\(expected): \(message)")
            }
        }
        let empty = folder.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(throws: ProbeError.self) { try ProbeSet.load(try Self.probeSet(empty.path).path, inputShape: [3, 32, 32], allowing: Self.allowed) }
    }
}

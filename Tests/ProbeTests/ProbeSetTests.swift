import Foundation
import Formats
import Networks
import Testing
@testable import Probe

/// The probe-set files under probes/ and the stimuli they generate.
@Suite struct ProbeSetTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let probes = repository.appendingPathComponent("probes")

    static func spec(_ yaml: String) throws -> ProbeSetSpec {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try ProbeSetSpec.read(file)
    }

    @Test func shippedProbeSetsLoadForTheShippedModelsInputs() throws {
        #expect(ProbeSet.available(in: [Self.probes]) == ["deadleaves", "digits", "digits-small", "digits-train", "digits-train-0to4", "digits-train-5to9", "gratings", "noise", "sentences"])
        let digits = try ProbeSet.load("digits", inputShape: [1, 16, 16], folders: [Self.probes])
        #expect(digits.inputs.shape == [360, 1, 16, 16])
        #expect(digits.labels?.count == 360)
        let training = try ProbeSet.load("digits-train", inputShape: [1, 16, 16], folders: [Self.probes])
        #expect(training.inputs.shape == [1_437, 1, 16, 16])
        #expect(Set(training.labels ?? []) == Set(0..<10))
        #expect(Set(digits.labels ?? []) == Set(0..<10))
        #expect(digits.reduction == .flatten)
        let gratings = try ProbeSet.load("gratings", inputShape: [3, 32, 32], folders: [Self.probes])
        #expect(gratings.inputs.shape == [16 * 3 * 4, 3, 32, 32])
        #expect(gratings.labels?.prefix(13) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(gratings.classNames[4] == "45°")
        #expect(gratings.factors["frequency"]?.prefix(5) == [0.0625, 0.0625, 0.0625, 0.0625, 0.125])
        let noise = try ProbeSet.load("noise", inputShape: [1, 16, 16], folders: [Self.probes])
        #expect(noise.inputs.shape == [512, 1, 16, 16])
        #expect(noise.labels == nil)
        let leaves = try ProbeSet.load("deadleaves", inputShape: [3, 24, 20], folders: [Self.probes])
        #expect(leaves.inputs.shape == [256, 3, 24, 20] && leaves.labels == nil)
        let sentences = try ProbeSet.load("sentences", inputShape: [], folders: [Self.probes])
        #expect(sentences.count == 240 && sentences.text?.maxLength == 64 && sentences.reduction == .mean)
        #expect(sentences.classNames == [0: "animals", 1: "cooking", 2: "sport", 3: "weather"])
        #expect((0..<4).allSatisfy { k in sentences.labels?.filter { $0 == k }.count == 60 })
    }

    @Test func digitsMatchPyTorchsBilinearUpsampling() throws {
        let digits = try ProbeSet.load("digits", inputShape: [1, 16, 16], folders: [Self.probes])
        let reference = try NPY.read(Self.repository.appendingPathComponent("Tests/Fixtures/probes/digits_inputs.npy"))
        let actual = try #require(digits.inputs.floats)
        let expected = reference.floats()
        #expect(reference.shape == [10, 1, 16, 16])
        let worst = zip(actual.prefix(expected.count), expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-6, "largest difference from PyTorch: \(worst)")
    }

    @Test func gratingOrientationFollowsTheWaveVector() {
        // 0°: the wave runs along x, so every column is constant; 90°: every row is.
        let vertical = Stimuli.grating(.init(orientation: 0, frequency: 0.125, phase: 0), height: 8, width: 8,
                                       channels: 1, mean: 0.5, contrast: 1)
        for column in 0..<8 { #expect(Set((0..<8).map { vertical[$0 * 8 + column] }).count == 1) }
        let horizontal = Stimuli.grating(.init(orientation: 90, frequency: 0.125, phase: 0), height: 8, width: 8,
                                         channels: 2, mean: 0.5, contrast: 1)
        for row in 0..<8 { #expect(Set((0..<8).map { horizontal[row * 8 + $0] }).count == 1) }
        #expect(Array(horizontal[0..<64]) == Array(horizontal[64..<128]))
        // Contrast 1 around 0.5 stays within [0, 1]; pixel centres sit half a pixel off the
        // image centre, so at 1/8 cycle per pixel the extremes are cos(π/8) from the mean.
        #expect(vertical.min()! >= 0 && vertical.max()! <= 1)
        #expect(abs((vertical.max()! - vertical.min()!) - Float(cos(Double.pi / 8))) < 1e-6)
    }

    @Test func noiseIsSeededAndHasTheAskedStatistics() {
        var settings = ProbeSetSpec.NoiseSettings()
        let a = Stimuli.noise(settings, count: 200, channels: 1, height: 10, width: 10, seed: 3)
        #expect(a == Stimuli.noise(settings, count: 200, channels: 1, height: 10, width: 10, seed: 3))
        #expect(a != Stimuli.noise(settings, count: 200, channels: 1, height: 10, width: 10, seed: 4))
        let mean = a.reduce(0, +) / Float(a.count)
        let sd = (a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(a.count)).squareRoot()
        #expect(abs(mean - 0.5) < 0.01 && abs(sd - 0.25) < 0.01)
        settings.distribution = "uniform"
        let u = Stimuli.noise(settings, count: 100, channels: 1, height: 10, width: 10, seed: 3)
        #expect(u.min()! >= 0 && u.max()! <= 1)
    }

    @Test func deadLeavesAreSeededPiecewiseConstantAndHaveANaturalSpectrum() throws {
        let settings = ProbeSetSpec.DeadLeavesSettings()
        let (count, size) = (24, 32)
        let images = Stimuli.deadLeaves(settings, count: count, channels: 1, height: size, width: size, seed: 5)
        #expect(images == Stimuli.deadLeaves(settings, count: count, channels: 1, height: size, width: size, seed: 5))
        #expect(images != Stimuli.deadLeaves(settings, count: count, channels: 1, height: size, width: size, seed: 6))
        #expect(images.min()! >= 0 && images.max()! <= 1)
        // Occluding discs: most neighbouring pixels are equal, edges are sharp.
        var equal = 0, pairs = 0
        for n in 0..<count {
            for r in 0..<size {
                for c in 1..<size {
                    pairs += 1
                    if images[(n * size + r) * size + c] == images[(n * size + r) * size + c - 1] { equal += 1 }
                }
            }
        }
        #expect(Double(equal) / Double(pairs) > 0.4)
        // Radially averaged power falls as 1/f^α with α near 2 (natural images: 1.6–2.4).
        var power = [Double](repeating: 0, count: size / 2), bins = [Double](repeating: 0, count: size / 2)
        for n in 0..<count {
            let image = (0..<(size * size)).map { Double(images[n * size * size + $0]) }
            let mean = image.reduce(0, +) / Double(image.count)
            for ky in -(size / 2 - 1)..<(size / 2) {
                for kx in 0..<(size / 2) {
                    let k = (Double(kx * kx + ky * ky)).squareRoot()
                    let bin = Int(k.rounded())
                    guard bin >= 2, bin < size / 2 else { continue }
                    var re = 0.0, im = 0.0
                    for r in 0..<size {
                        for c in 0..<size {
                            let angle = -2 * Double.pi * Double(kx * c + ky * r) / Double(size)
                            re += (image[r * size + c] - mean) * cos(angle)
                            im += (image[r * size + c] - mean) * sin(angle)
                        }
                    }
                    power[bin] += re * re + im * im
                    bins[bin] += 1
                }
            }
        }
        let points = (2..<(size / 2)).map { (log(Double($0)), log(power[$0] / bins[$0])) }
        let mx = points.map(\.0).reduce(0, +) / Double(points.count), my = points.map(\.1).reduce(0, +) / Double(points.count)
        let slope = points.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +) / points.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        #expect(slope < -1.6 && slope > -2.6, "power spectrum slope \(slope)")
    }

    @Test func mistakesInAProbeFileAreNamed() throws {
        func problem(_ yaml: String) -> String {
            do {
                _ = try Self.spec(yaml)
                return "accepted"
            } catch { return "\(error.localizedDescription)" }
        }
        #expect(problem("stimuli: {kind: gratings, orientation: 8}").contains("unknown key 'stimuli.orientation'"))
        #expect(problem("stimuli: {kind: gratings}\nsample: 3").contains("unknown key 'sample'"))
        #expect(problem("stimuli: {kind: movies}").contains("not one of gratings, noise, deadleaves, file"))
        #expect(problem("stimuli: {kind: gratings, frequencies: [0.7]}").contains("Nyquist"))
        #expect(problem("stimuli: {kind: noise}\nreduction: squash").contains("reduction 'squash'"))
        #expect(problem("stimuli: {kind: file}").contains("missing key 'path'"))
        #expect(problem("stimuli: {kind: file, path: data/digits.npz, classes: [1]}").contains("'classes' needs 'labels'"))
        #expect(problem("stimuli: {kind: gratings}\nlabels: colour").contains("orientation, frequency or phase"))
        #expect(problem("samples: 3").contains("missing key 'stimuli'"))
        #expect(problem("stimuli: {kind: noise}\nlayers: [conv1, conv2]") == "accepted")
    }

    @Test func aClassFilterKeepsThoseSamplesInOrder() throws {
        let yaml = """
            stimuli: {kind: file, path: data/digits.npz, array: images_test, labels: labels_test, scale: 0.0625, resize: [16, 16], classes: [5, 6, 7, 8, 9]}
            """
        let file = Self.probes.appendingPathComponent("high-digits.yaml")
        let all = try ProbeSet.load("digits", inputShape: [1, 16, 16], folders: [Self.probes])
        let high = try ProbeSet(spec: Self.spec(yaml), file: file, inputShape: [1, 16, 16])
        let labels = try #require(all.labels), images = try #require(all.inputs.floats)
        let kept = labels.indices.filter { labels[$0] >= 5 }
        #expect(high.labels == kept.map { labels[$0] })
        #expect(high.inputs.shape == [kept.count, 1, 16, 16])
        #expect(high.inputs.floats == kept.flatMap { images[($0 * 256)..<(($0 + 1) * 256)] })
        // The sample cap counts kept samples.
        let capped = try ProbeSet(spec: Self.spec(yaml + "\nsamples: 7"), file: file, inputShape: [1, 16, 16])
        #expect(capped.labels == Array(kept.prefix(7).map { labels[$0] }))
        let none = "stimuli: {kind: file, path: data/digits.npz, array: images_test, labels: labels_test, classes: [42]}"
        #expect(throws: ProbeError.self) { try ProbeSet(spec: Self.spec(none), file: file, inputShape: [1, 8, 8]) }
    }

    @Test func unknownNamesListWhatExists() throws {
        #expect {
            try ProbeSet.locate("gratngs", in: [Self.probes])
        } throws: { error in
            let message = error.localizedDescription
            return message.contains("no probe set named 'gratngs'") && message.contains("digits, digits-small, digits-train, digits-train-0to4, digits-train-5to9, gratings, noise")
        }
    }

    @Test func fileStimuliCheckTheirArrays() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("probe-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try ArrayFile.write([("images", NumericArray(shape: [4, 3, 5, 5], float32: Array(repeating: 1, count: 300))),
                             ("classes", NumericArray(shape: [4], float32: [0, 1.5, 0, 1]))],
                            to: folder.appendingPathComponent("set.npz"), format: .npz)
        let file = folder.appendingPathComponent("set.yaml")
        try "stimuli: {kind: file, path: set.npz, array: images, labels: classes}".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ProbeError.self) { try ProbeSet.load(file.path, inputShape: [3, 5, 5]) }
        try "stimuli: {kind: file, path: set.npz, array: pictures}".write(to: file, atomically: true, encoding: .utf8)
        #expect {
            try ProbeSet.load(file.path, inputShape: [3, 5, 5])
        } throws: { "\($0.localizedDescription)".contains("has no array 'pictures'; it has classes, images") || "\($0.localizedDescription)".contains("has no array 'pictures'") }
        try "stimuli: {kind: file, path: set.npz, array: images}".write(to: file, atomically: true, encoding: .utf8)
        #expect {
            try ProbeSet.load(file.path, inputShape: [1, 5, 5])
        } throws: { "\($0.localizedDescription)".contains("images have 3 channels, the model takes 1") }
        let loaded = try ProbeSet.load(file.path, inputShape: [3, 5, 5])
        #expect(loaded.inputs.shape == [4, 3, 5, 5])
        #expect(loaded.name == "set")
    }

    /// A probe set made of arrays (`compare --input x.npy --labels y.npy`): damaged or
    /// disagreeing files are errors that name the file.
    @Test func arraysThatLieOrDisagreeAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("probe-arrays-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let images = folder.appendingPathComponent("x.npy"), labels = folder.appendingPathComponent("y.npy")
        try NPY.write(NumericArray(shape: [4, 1, 2, 2], float32: (0..<16).map(Float.init)), to: images)
        try NPY.write(NumericArray(shape: [3], float64: [0, 1, 2]), to: labels)
        let set = try ProbeSet(array: images)
        #expect(set.name == "x" && set.inputs.shape == [4, 1, 2, 2] && set.labels == nil && set.reduction == .mean)
        #expect(try set.slice(1..<3).inputs.shape == [2, 1, 2, 2])
        #expect(throws: ProbeError.self) { try set.slice(2..<9) }

        let mismatch = #expect(throws: ProbeError.self) { try ProbeSet(array: images, labels: labels) }
        #expect(mismatch?.localizedDescription.contains("y.npy") == true)
        let truncated = folder.appendingPathComponent("truncated.npy")
        try Data(try Data(contentsOf: images).prefix(100)).write(to: truncated)
        let format = #expect(throws: (any Error).self) { try ProbeSet(array: truncated) }
        #expect("\(format.map { "\($0)" } ?? "")".contains("truncated.npy"))
        let lying = folder.appendingPathComponent("lying.npy")
        var bytes = [UInt8](try Data(contentsOf: images))
        if let range = bytes.firstRange(of: Array("(4, 1, 2, 2)".utf8)) { bytes.replaceSubrange(range, with: Array("(9, 9, 9, 9)".utf8)) }
        try Data(bytes).write(to: lying)
        #expect(throws: (any Error).self) { try ProbeSet(array: lying) }
    }
}

import Foundation
import RepProbeKit
import Testing

/// `repprobe rf` on filters with known Gabor parameters, and on a model.
@Suite struct ReceptiveFieldCommandTests {
    let cli = CLITests()

    struct Entry: Decodable {
        var filter: Int
        var channel: String
        var theta_deg: Double
        var frequency: Double
        var sigma_x: Double
        var sigma_y: Double
        var r2: Double
        var well_fit: Bool
    }

    @Test func fitsEveryChannelAndTheLuminanceFilter() throws {
        // Two RGB filters: each channel the same Gabor at 30° and 120°, the last channel of
        // the second one noise.
        var generator = SeededGenerator(seed: 2)
        var values: [Float] = []
        for degrees in [30.0, 120.0] {
            let g = Gabor(amplitude: 1, x0: 0, y0: 0, sigmaX: 2, sigmaY: 3, theta: degrees * .pi / 180, frequency: 0.18, phase: 1, offset: 0)
            for channel in 0..<3 {
                let plane = g.image(height: 11, width: 11)
                values += plane.map { Float(degrees == 120 && channel == 2 ? 0.3 * generator.nextGaussian() : $0) }
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("filters-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [2, 3, 11, 11], float32: values), to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try cli.run(["rf", file.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try JSONDecoder().decode([Entry].self, from: Data(result.stdout.utf8))
        #expect(entries.map(\.channel) == ["0", "1", "2", "mean", "0", "1", "2", "mean"])
        #expect(entries.filter(\.well_fit).count == 7)
        #expect(!entries[6].well_fit)
        for entry in [entries[0], entries[4]] {
            let expected = entry.filter == 0 ? 30.0 : 120.0
            #expect(abs(entry.theta_deg - expected) < 0.01 && abs(entry.frequency - 0.18) < 1e-4 && entry.r2 > 0.9999)
        }
        let text = try cli.run(["rf", file.path])
        #expect(text.stdout.contains("well fit (R² ≥ 0.70): 2 of 2 luminance filters"))
    }

    @Test func takesTheFirstConvolutionOfAModelAndRefusesOtherShapes() throws {
        let model = CompareReportTests.root.appendingPathComponent("models/digits-plain-seed1.onnx").path
        let result = try cli.run(["rf", model, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONDecoder().decode([Entry].self, from: Data(result.stdout.utf8)).count == 12)
        let flat = FileManager.default.temporaryDirectory.appendingPathComponent("flat-\(UUID().uuidString).npy")
        try NPY.write(NumericArray(shape: [4, 9], float32: Array(repeating: 0, count: 36)), to: flat)
        defer { try? FileManager.default.removeItem(at: flat) }
        let refused = try cli.run(["rf", flat.path])
        #expect(refused.status != 0 && refused.stderr.contains("out_channels × in_channels × kh × kw"))
    }
}

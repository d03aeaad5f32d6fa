import Foundation
import Formats
import Testing
@testable import Probe

/// `Stimuli.grating` against NumPy images drawn from the formula in its documentation
/// (`Tests/Fixtures/analysis/make_tuning_reference.py`): odd and even sizes, non-square
/// images, one and three channels, off-grid orientations, several phases, means and contrasts.
@Suite struct GratingReferenceTests {
    static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/analysis/grating_reference.npz")

    @Test func gratingsMatchTheDocumentedFormula() throws {
        let arrays = Dictionary(try NPZ.read(Self.file).map { ($0.name, $0.array) }, uniquingKeysWith: { a, _ in a })
        let params = try #require(arrays["params"])
        try #require(params.shape.count == 2 && params.shape[1] == 8)
        try #require(params.shape[0] >= 4)
        let table = params.doubles()
        for k in 0..<params.shape[0] {
            let p = Array(table[(8 * k)..<(8 * k + 8)])
            let (height, width, channels) = (Int(p[0]), Int(p[1]), Int(p[2]))
            let expected = try #require(arrays["image_\(k)"])
            #expect(expected.shape == [channels, height, width])
            let actual = Stimuli.grating(.init(orientation: p[3], frequency: p[4], phase: p[5]), height: height, width: width,
                                         channels: channels, mean: p[6], contrast: p[7])
            let reference = expected.doubles()
            try #require(actual.count == reference.count, "grating \(k): \(actual.count) values, expected \(reference.count)")
            let worst = zip(actual, reference).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst < 1e-6, "grating \(k) (\(height)×\(width)×\(channels), θ \(p[3])°, f \(p[4]), φ \(p[5])°): largest difference \(worst)")
        }
    }
}

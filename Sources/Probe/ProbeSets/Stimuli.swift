import Analysis
import Foundation

/// Generated images for probing networks: sinusoidal gratings and pixel noise, and the
/// bilinear resize that file stimuli may need. Images are `[channels, height, width]`,
/// row-major, the same in every channel.
public enum Stimuli {
    /// One grating's parameters.
    public struct Grating: Sendable, Equatable {
        /// Direction of the wave vector, degrees in [0, 180), counter-clockwise from the
        /// image's x axis (rightwards) with y pointing up: 0° gives vertical stripes, 90°
        /// horizontal ones.
        public var orientation: Double
        /// Cycles per pixel.
        public var frequency: Double
        /// Degrees; 0 puts a peak at the image centre.
        public var phase: Double
    }

    /// Every combination of the settings' orientations, frequencies and phases, orientation
    /// slowest and phase fastest, with its index in each factor.
    public static func gratingGrid(_ s: ProbeSetSpec.GratingSettings) -> [(grating: Grating, orientation: Int, frequency: Int, phase: Int)] {
        var grid: [(Grating, Int, Int, Int)] = []
        for o in 0..<s.orientations {
            for (f, frequency) in s.frequencies.enumerated() {
                for p in 0..<s.phases {
                    let grating = Grating(orientation: 180 * Double(o) / Double(s.orientations), frequency: frequency,
                                          phase: 360 * Double(p) / Double(s.phases))
                    grid.append((grating, o, f, p))
                }
            }
        }
        return grid
    }

    /// `mean + contrast/2 · cos(2π f (x cos θ + y sin θ) + φ)` at every pixel, with `(x, y)`
    /// measured from the image centre (y up), written `channels` times.
    public static func grating(_ g: Grating, height: Int, width: Int, channels: Int, mean: Double, contrast: Double) -> [Float] {
        let theta = g.orientation * .pi / 180, phi = g.phase * .pi / 180
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        var plane = [Float](repeating: 0, count: height * width)
        for row in 0..<height {
            let y = cy - Double(row)
            for column in 0..<width {
                let x = Double(column) - cx
                let wave = cos(2 * .pi * g.frequency * (x * cos(theta) + y * sin(theta)) + phi)
                plane[row * width + column] = Float(mean + contrast / 2 * wave)
            }
        }
        return Array([[Float]](repeating: plane, count: channels).joined())
    }

    /// `count` images of independent pixel noise, seeded.
    public static func noise(_ s: ProbeSetSpec.NoiseSettings, count: Int, channels: Int, height: Int, width: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let total = count * channels * height * width
        if s.distribution == "uniform" {
            return (0..<total).map { _ in Float(s.low + (s.high - s.low) * generator.nextUnit()) }
        }
        return (0..<total).map { _ in Float(s.mean + s.std * generator.nextGaussian()) }
    }

    /// `count` dead-leaves images, seeded: discs are drawn front to back, each filling only
    /// the pixels no disc in front of it covers, until every pixel is covered (or after a
    /// million discs per image). Every channel gets the same grey.
    public static func deadLeaves(_ s: ProbeSetSpec.DeadLeavesSettings, count: Int, channels: Int, height: Int, width: Int,
                                  seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let smallest = s.radius?[0] ?? 1, largest = s.radius?[1] ?? max(1, Double(max(height, width)) / 2)
        // Inverse of the power law's CDF on [smallest, largest].
        let power = 1 - s.exponent, a = pow(smallest, power), b = pow(largest, power)
        let plane = height * width
        var images = [Float](repeating: 0, count: count * channels * plane)
        var covered = [Bool](repeating: false, count: plane)
        for n in 0..<count {
            for p in 0..<plane { covered[p] = false }
            var remaining = plane, discs = 0
            var grey = [Float](repeating: 0, count: plane)
            while remaining > 0 && discs < 1_000_000 {
                discs += 1
                let r = pow(a - generator.nextUnit() * (a - b), 1 / power)
                let cx = -r + generator.nextUnit() * (Double(width - 1) + 2 * r)
                let cy = -r + generator.nextUnit() * (Double(height - 1) + 2 * r)
                let value = Float(s.low + (s.high - s.low) * generator.nextUnit())
                let rows = max(0, Int((cy - r).rounded(.up)))...min(height - 1, Int((cy + r).rounded(.down)))
                guard !rows.isEmpty else { continue }
                for row in rows {
                    let dy = Double(row) - cy, half = (r * r - dy * dy).squareRoot()
                    let low = max(0, Int((cx - half).rounded(.up))), high = min(width - 1, Int((cx + half).rounded(.down)))
                    guard low <= high else { continue }
                    for column in low...high where !covered[row * width + column] {
                        covered[row * width + column] = true
                        grey[row * width + column] = value
                        remaining -= 1
                    }
                }
            }
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                for p in 0..<plane { images[base + p] = grey[p] }
            }
        }
        return images
    }

    /// Resizes `[planes, height, width]` bilinearly to `[planes, newHeight, newWidth]`, with
    /// half-pixel centres and sources clamped to the image: the source of output pixel `i` is
    /// `max(0, (i + ½)·in/out − ½)`. This is PyTorch's `interpolate(mode="bilinear",
    /// align_corners=False)` without antialiasing.
    public static func resize(_ x: [Float], planes: Int, height: Int, width: Int, to newHeight: Int, _ newWidth: Int) -> [Float] {
        func taps(_ output: Int, _ input: Int) -> [(Int, Int, Double)] {
            let scale = Double(input) / Double(output)
            return (0..<output).map { i in
                let source = max(0, (Double(i) + 0.5) * scale - 0.5)
                let low = min(Int(source), input - 1)
                let high = min(low + 1, input - 1)
                return (low, high, source - Double(low))
            }
        }
        let rows = taps(newHeight, height), columns = taps(newWidth, width)
        var y = [Float](repeating: 0, count: planes * newHeight * newWidth)
        for p in 0..<planes {
            let base = p * height * width
            for (i, (r0, r1, a)) in rows.enumerated() {
                for (j, (c0, c1, b)) in columns.enumerated() {
                    let top = Double(x[base + r0 * width + c0]) * (1 - b) + Double(x[base + r0 * width + c1]) * b
                    let bottom = Double(x[base + r1 * width + c0]) * (1 - b) + Double(x[base + r1 * width + c1]) * b
                    y[(p * newHeight + i) * newWidth + j] = Float(top * (1 - a) + bottom * a)
                }
            }
        }
        return y
    }
}

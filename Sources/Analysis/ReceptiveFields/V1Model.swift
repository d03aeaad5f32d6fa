import Foundation
import LinearAlgebra

/// A model of the primary visual cortex as a representation: a bank of quadrature pairs of
/// Gabor filters over orientations, spatial frequencies and positions, read out as simple
/// cells (each filter of a pair, half-wave rectified in both signs) and complex cells (the
/// energy of the pair, `√(even² + odd²)`), after Adelson & Bergen (1985).
///
/// Filters use the coordinates of ``Gabor`` and of the grating stimuli: y up, θ the
/// direction of the wave vector. Each filter is made DC-free on the part of it that lies in
/// the image (a uniform image gives no response) and scaled to unit norm, so cells at the
/// border respond like cells in the middle to the part of the stimulus they see. Colour
/// inputs are averaged over channels first (luminance).
public struct V1Model: Sendable {
    public struct Settings: Sendable, Equatable, Codable {
        /// Orientations, evenly spaced over 180°.
        public var orientations = 8
        /// Preferred spatial frequencies, cycles per pixel.
        public var frequencies: [Double] = [0.0625, 0.125, 0.25]
        /// Spatial-frequency bandwidth in octaves (full width at half height of a filter's
        /// frequency response); the median of macaque V1 is about 1.4 (De Valois, Albrecht
        /// & Thorell 1982).
        public var bandwidth = 1.4
        /// The envelope's σ along the stripes over σ across them.
        public var aspectRatio = 1.0
        /// Centres per image side: `positions × positions` receptive-field positions on a
        /// regular grid.
        public var positions = 4

        public init() {}

        enum CodingKeys: String, CodingKey {
            case orientations, frequencies, bandwidth = "bandwidth_octaves", aspectRatio = "aspect_ratio", positions
        }
    }

    /// One quadrature pair: its place in the bank and its two filters on the part of the image
    /// they cover.
    public struct Pair: Sendable {
        /// Degrees in [0, 180).
        public var orientation: Double
        /// Cycles per pixel.
        public var frequency: Double
        /// Envelope centre, pixels from the image centre (y up).
        public var x0: Double
        public var y0: Double
        /// σ across the stripes (along the wave vector), pixels.
        public var sigma: Double
        let rows: Range<Int>
        let columns: Range<Int>
        /// Cosine- and sine-phase filters over `rows × columns`, row-major.
        let even: [Double]
        let odd: [Double]

        /// The pair's filter of the given phase (0 = even, 90 = odd) as a whole
        /// `height × width` image, zero outside its support.
        public func image(odd useOdd: Bool, height: Int, width: Int) -> [Double] {
            var image = [Double](repeating: 0, count: height * width)
            let filter = useOdd ? odd : even
            for (i, r) in rows.enumerated() {
                for (j, c) in columns.enumerated() { image[r * width + c] = filter[i * columns.count + j] }
            }
            return image
        }
    }

    public let settings: Settings
    public let height: Int
    public let width: Int
    /// Ordered orientation-major, then frequency, then position (row-major over the grid).
    public let pairs: [Pair]

    /// σ of a Gaussian envelope (pixels) whose Gabor filter at `frequency` has a frequency
    /// response of `bandwidth` octaves at half height: the response around `f` is a Gaussian
    /// of σ_f = 1/(2πσ), which falls to half at `f ± σ_f √(2 ln 2)`, and the band edges
    /// `f ± Δ` span `bandwidth` octaves when `Δ = f (2^b − 1)/(2^b + 1)`.
    public static func sigma(frequency: Double, bandwidth: Double) -> Double {
        let ratio = pow(2, bandwidth)
        return (2 * log(2.0)).squareRoot() * (ratio + 1) / (2 * .pi * frequency * (ratio - 1))
    }

    public init(settings: Settings = Settings(), height: Int, width: Int) throws {
        guard height >= 1, width >= 1 else {
            throw AnalysisError.invalidArgument("V1 model: the image must be at least 1 × 1, got \(height) × \(width)")
        }
        guard settings.orientations >= 1, settings.positions >= 1, !settings.frequencies.isEmpty else {
            throw AnalysisError.invalidArgument("V1 model: needs at least one orientation, frequency and position")
        }
        guard settings.frequencies.allSatisfy({ $0 > 0 && $0 <= 0.5 }) else {
            throw AnalysisError.invalidArgument("V1 model: frequencies must lie in (0, 0.5] cycles per pixel, got \(settings.frequencies)")
        }
        guard settings.bandwidth > 0, settings.bandwidth.isFinite, settings.aspectRatio > 0, settings.aspectRatio.isFinite else {
            throw AnalysisError.invalidArgument("V1 model: bandwidth and aspect ratio must be positive")
        }
        self.settings = settings
        self.height = height
        self.width = width
        var pairs: [Pair] = []
        for o in 0..<settings.orientations {
            let orientation = 180 * Double(o) / Double(settings.orientations)
            for frequency in settings.frequencies {
                for gy in 0..<settings.positions {
                    for gx in 0..<settings.positions {
                        let row = (Double(gy) + 0.5) * Double(height) / Double(settings.positions) - 0.5
                        let column = (Double(gx) + 0.5) * Double(width) / Double(settings.positions) - 0.5
                        pairs.append(Self.pair(orientation: orientation, frequency: frequency, row: row, column: column,
                                               settings: settings, height: height, width: width))
                    }
                }
            }
        }
        self.pairs = pairs
    }

    static func pair(orientation: Double, frequency: Double, row: Double, column: Double,
                     settings: Settings, height: Int, width: Int) -> Pair {
        let sigma = Self.sigma(frequency: frequency, bandwidth: settings.bandwidth)
        let along = sigma * settings.aspectRatio
        let reach = 3 * max(sigma, along)
        let rows = max(0, Int((row - reach).rounded(.up)))..<min(height, Int((row + reach).rounded(.down)) + 1)
        let columns = max(0, Int((column - reach).rounded(.up)))..<min(width, Int((column + reach).rounded(.down)) + 1)
        let x0 = column - Double(width - 1) / 2, y0 = Double(height - 1) / 2 - row
        let theta = orientation * .pi / 180
        var envelope: [Double] = [], cosine: [Double] = [], sine: [Double] = []
        for r in rows {
            for c in columns {
                let (x, y) = Gabor.coordinates(row: r, column: c, height: height, width: width)
                let dx = x - x0, dy = y - y0
                let u = dx * cos(theta) + dy * sin(theta), v = -dx * sin(theta) + dy * cos(theta)
                let e = exp(-u * u / (2 * sigma * sigma) - v * v / (2 * along * along))
                envelope.append(e)
                cosine.append(e * cos(2 * .pi * frequency * u))
                sine.append(e * sin(2 * .pi * frequency * u))
            }
        }
        func balanced(_ filter: [Double]) -> [Double] {
            // Remove the DC with a multiple of the envelope, then scale to unit norm.
            let weight = envelope.reduce(0, +)
            let k = weight > 0 ? filter.reduce(0, +) / weight : 0
            let zeroMean = zip(filter, envelope).map { $0 - k * $1 }
            let norm = zeroMean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? zeroMean.map { $0 / norm } : zeroMean
        }
        return Pair(orientation: orientation, frequency: frequency, x0: x0, y0: y0, sigma: sigma,
                    rows: rows, columns: columns, even: balanced(cosine), odd: balanced(sine))
    }

    /// Simple cells per pair: even⁺, even⁻, odd⁺, odd⁻ (half-wave rectified).
    public static let simpleCellsPerPair = 4

    /// The names of the model's two layers when it stands as a representation: the simple
    /// cells, then the complex cells.
    public static let layerNames = ["v1.simple", "v1.complex"]

    /// The responses of the bank to `count` images of `channels × height × width` values
    /// each (row-major, as a network's NCHW input).
    ///
    /// - Returns: simple cells (`count × 4·pairs`, per pair even⁺, even⁻, odd⁺, odd⁻) and
    ///   complex cells (`count × pairs`).
    public func responses(_ images: [Float], count: Int, channels: Int) throws -> (simple: Matrix<Double>, complex: Matrix<Double>) {
        let plane = height * width
        guard count >= 0, channels >= 1, images.count == count * channels * plane else {
            throw AnalysisError.invalidArgument("V1 model: expected \(count) × \(channels) × \(height) × \(width) values, got \(images.count)")
        }
        guard images.allSatisfy(\.isFinite) else { throw AnalysisError.nonFinite(context: "V1 model: the images") }
        var simple = Matrix<Double>(rows: count, columns: pairs.count * Self.simpleCellsPerPair)
        var complex = Matrix<Double>(rows: count, columns: pairs.count)
        var luminance = [Double](repeating: 0, count: plane)
        for n in 0..<count {
            for p in 0..<plane {
                var sum = 0.0
                for c in 0..<channels { sum += Double(images[(n * channels + c) * plane + p]) }
                luminance[p] = sum / Double(channels)
            }
            for (k, pair) in pairs.enumerated() {
                var even = 0.0, odd = 0.0, i = 0
                for r in pair.rows {
                    for c in pair.columns {
                        let value = luminance[r * width + c]
                        even += pair.even[i] * value
                        odd += pair.odd[i] * value
                        i += 1
                    }
                }
                simple[n, 4 * k] = max(even, 0)
                simple[n, 4 * k + 1] = max(-even, 0)
                simple[n, 4 * k + 2] = max(odd, 0)
                simple[n, 4 * k + 3] = max(-odd, 0)
                complex[n, k] = (even * even + odd * odd).squareRoot()
            }
        }
        return (simple, complex)
    }
}

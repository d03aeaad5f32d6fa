import Foundation
import LinearAlgebra

/// A 2-D Gabor function: a Gaussian envelope times a sinusoid, plus an offset,
///
///     G(x, y) = A · exp(−u²/(2σx²) − v²/(2σy²)) · cos(2π f u + φ) + c
///     u =  (x − x₀) cos θ + (y − y₀) sin θ
///     v = −(x − x₀) sin θ + (y − y₀) cos θ
///
/// on pixel coordinates measured from the image centre with y pointing up (the convention
/// of the grating stimuli), so θ is the direction of the sinusoid's wave vector,
/// counter-clockwise from the x axis: θ = 0° gives vertical stripes. σx lies along the wave
/// vector, σy along the stripes.
public struct Gabor: Sendable, Equatable, Codable {
    public var amplitude: Double
    /// Envelope centre, pixels from the image centre (y up).
    public var x0: Double
    public var y0: Double
    public var sigmaX: Double
    public var sigmaY: Double
    /// Radians.
    public var theta: Double
    /// Cycles per pixel.
    public var frequency: Double
    /// Radians.
    public var phase: Double
    public var offset: Double

    public init(amplitude: Double, x0: Double, y0: Double, sigmaX: Double, sigmaY: Double, theta: Double,
                frequency: Double, phase: Double, offset: Double) {
        self.amplitude = amplitude
        self.x0 = x0
        self.y0 = y0
        self.sigmaX = sigmaX
        self.sigmaY = sigmaY
        self.theta = theta
        self.frequency = frequency
        self.phase = phase
        self.offset = offset
    }

    var parameters: [Double] { [amplitude, x0, y0, sigmaX, sigmaY, theta, frequency, phase, offset] }

    init(_ p: [Double]) {
        self.init(amplitude: p[0], x0: p[1], y0: p[2], sigmaX: p[3], sigmaY: p[4], theta: p[5], frequency: p[6], phase: p[7], offset: p[8])
    }

    /// The value at pixel (`row`, `column`) of a `height × width` image.
    public func value(row: Int, column: Int, height: Int, width: Int) -> Double {
        let (x, y) = Self.coordinates(row: row, column: column, height: height, width: width)
        let dx = x - x0, dy = y - y0
        let u = dx * cos(theta) + dy * sin(theta), v = -dx * sin(theta) + dy * cos(theta)
        let envelope = exp(-u * u / (2 * sigmaX * sigmaX) - v * v / (2 * sigmaY * sigmaY))
        return amplitude * envelope * cos(2 * .pi * frequency * u + phase) + offset
    }

    /// The whole `height × width` image, row-major.
    public func image(height: Int, width: Int) -> [Double] {
        (0..<height).flatMap { r in (0..<width).map { c in value(row: r, column: c, height: height, width: width) } }
    }

    static func coordinates(row: Int, column: Int, height: Int, width: Int) -> (x: Double, y: Double) {
        (Double(column) - Double(width - 1) / 2, Double(height - 1) / 2 - Double(row))
    }

    /// The same function with θ in [0, π), φ in [0, 2π) and a positive amplitude: turning
    /// the wave vector by π mirrors u, which the phase absorbs (φ → −φ); a negative
    /// amplitude is a phase shift of π.
    public var canonical: Gabor {
        var g = self
        if g.amplitude < 0 {
            g.amplitude = -g.amplitude
            g.phase += .pi
        }
        if g.frequency < 0 {
            g.frequency = -g.frequency
            g.phase = -g.phase
        }
        var turns = (g.theta / .pi).rounded(.down)
        g.theta -= turns * .pi
        if g.theta >= .pi { g.theta -= .pi; turns += 1 }
        if Int(turns) % 2 != 0 { g.phase = -g.phase }
        g.phase = g.phase.truncatingRemainder(dividingBy: 2 * .pi)
        if g.phase < 0 { g.phase += 2 * .pi }
        if g.phase > 2 * .pi - 1e-9 { g.phase = 0 }
        g.sigmaX = abs(g.sigmaX)
        g.sigmaY = abs(g.sigmaY)
        return g
    }
}

/// Fits ``Gabor`` functions to filters (first-layer convolution kernels, receptive fields) by
/// Levenberg–Marquardt from several starting points, the orientation and frequency of
/// which come from the filter's 2-D Fourier peak.
public enum GaborFit {
    /// A fitted filter.
    public struct Result: Sendable, Equatable, Codable {
        public var gabor: Gabor
        /// `1 − Σ residual² / Σ (value − mean)²`.
        public var r2: Double
        /// Whether `r2` reaches the threshold the fit was asked for.
        public var wellFit: Bool
        public var iterations: Int
    }

    /// The R² from which a fit counts as good, by default. Filters of trained networks that
    /// look Gabor-like to the eye typically reach 0.8–0.95; noise stays below 0.5.
    public static let defaultThreshold = 0.7

    /// Fits one `height × width` filter (row-major).
    ///
    /// Starts: the two strongest Fourier peaks (orientation and frequency), each with four
    /// phases and two envelope widths, centred on the filter's energy centroid; every start
    /// runs Levenberg–Marquardt and the lowest residual wins. A constant filter has nothing to
    /// fit and gets R² = 0.
    public static func fit(_ values: [Double], height: Int, width: Int, threshold: Double = defaultThreshold,
                           maxIterations: Int = 200) throws -> Result {
        guard height >= 2, width >= 2, values.count == height * width else {
            throw AnalysisError.invalidArgument("Gabor fit: a filter must be at least 2 × 2 with height × width values, got \(values.count) for \(height) × \(width)")
        }
        guard values.allSatisfy(\.isFinite) else { throw AnalysisError.nonFinite(context: "Gabor fit: the filter has non-finite values") }
        let mean = values.reduce(0, +) / Double(values.count)
        let total = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else {
            let flat = Gabor(amplitude: 0, x0: 0, y0: 0, sigmaX: 1, sigmaY: 1, theta: 0, frequency: 0, phase: 0, offset: mean)
            return Result(gabor: flat, r2: 0, wellFit: false, iterations: 0)
        }
        var best: (gabor: Gabor, residual: Double, iterations: Int)?
        for start in starts(values, height: height, width: width, mean: mean) {
            let (fitted, residual, iterations) = levenbergMarquardt(start, values, height: height, width: width, maxIterations: maxIterations)
            if residual.isFinite, best == nil || residual < best!.residual { best = (fitted, residual, iterations) }
        }
        guard let best else { throw AnalysisError.nonFinite(context: "Gabor fit: no start converged to a finite residual") }
        let r2 = 1 - best.residual / total
        return Result(gabor: best.gabor.canonical, r2: r2, wellFit: r2 >= threshold, iterations: best.iterations)
    }

    /// Starting points from the Fourier spectrum of the mean-removed filter.
    static func starts(_ values: [Double], height: Int, width: Int, mean: Double) -> [Gabor] {
        // Power at every wave vector (kx, ky) in cycles per image, y up; one half-plane.
        var peaks: [(power: Double, kx: Int, ky: Int)] = []
        for ky in -(height / 2)...(height / 2) {
            for kx in 0...(width / 2) where !(kx == 0 && ky <= 0) {
                var re = 0.0, im = 0.0
                for r in 0..<height {
                    for c in 0..<width {
                        let (x, y) = Gabor.coordinates(row: r, column: c, height: height, width: width)
                        let angle = 2 * .pi * (Double(kx) * x / Double(width) + Double(ky) * y / Double(height))
                        let v = values[r * width + c] - mean
                        re += v * cos(angle)
                        im -= v * sin(angle)
                    }
                }
                peaks.append((re * re + im * im, kx, ky))
            }
        }
        peaks.sort { $0.power > $1.power || ($0.power == $1.power && ($0.kx, $0.ky) < ($1.kx, $1.ky)) }
        // Energy centroid of the mean-removed filter.
        var weight = 0.0, cx = 0.0, cy = 0.0
        for r in 0..<height {
            for c in 0..<width {
                let e = (values[r * width + c] - mean) * (values[r * width + c] - mean)
                let (x, y) = Gabor.coordinates(row: r, column: c, height: height, width: width)
                weight += e; cx += e * x; cy += e * y
            }
        }
        if weight > 0 { cx /= weight; cy /= weight }
        let amplitude = values.map { abs($0 - mean) }.max() ?? 1
        let size = Double(min(height, width))
        var result: [Gabor] = []
        for peak in peaks.prefix(2) {
            let fx = Double(peak.kx) / Double(width), fy = Double(peak.ky) / Double(height)
            let frequency = max((fx * fx + fy * fy).squareRoot(), 0.5 / size)
            let theta = atan2(fy, fx)
            for sigma in [size / 4, size / 8] {
                for phase in stride(from: 0.0, to: 2 * .pi, by: .pi / 2) {
                    result.append(Gabor(amplitude: amplitude, x0: cx, y0: cy, sigmaX: sigma, sigmaY: sigma, theta: theta,
                                        frequency: frequency, phase: phase, offset: mean))
                }
            }
        }
        return result
    }

    /// Levenberg–Marquardt with Marquardt's diagonal scaling and the analytic Jacobian;
    /// returns the fit, its residual sum of squares and the iterations used.
    static func levenbergMarquardt(_ start: Gabor, _ values: [Double], height: Int, width: Int,
                                   maxIterations: Int) -> (Gabor, Double, Int) {
        var p = start.parameters
        let count = p.count
        var lambda = 1e-2
        var (residual, jacobian, residuals) = evaluate(p, values, height: height, width: width)
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            // Normal equations JᵀJ δ = −Jᵀr, damped on the diagonal.
            var jtj = [Double](repeating: 0, count: count * count), jtr = [Double](repeating: 0, count: count)
            for (row, r) in zip(jacobian, residuals) {
                for a in 0..<count {
                    jtr[a] += row[a] * r
                    for b in a..<count { jtj[a * count + b] += row[a] * row[b] }
                }
            }
            for a in 0..<count { for b in 0..<a { jtj[a * count + b] = jtj[b * count + a] } }
            var improved = false
            for _ in 0..<10 {
                var damped = jtj
                for a in 0..<count { damped[a * count + a] += lambda * max(jtj[a * count + a], 1e-12) }
                guard let step = try? Matrix(rows: count, columns: count, rowMajor: damped)
                    .solvingPositiveDefinite(Matrix(rows: count, columns: 1, columnMajor: jtr.map { -$0 })) else {
                    lambda *= 10
                    continue
                }
                let candidate = bounded(zip(p, step.storage).map { $0 + $1 }, height: height, width: width)
                let trial = evaluate(candidate, values, height: height, width: width)
                if trial.residual.isFinite && trial.residual < residual {
                    let gain = residual - trial.residual
                    p = candidate
                    (residual, jacobian, residuals) = trial
                    lambda = max(lambda / 10, 1e-9)
                    improved = true
                    if gain <= 1e-12 * max(residual, 1e-300) { return (Gabor(p), residual, iteration) }
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        return (Gabor(p), residual, iteration)
    }

    /// Keeps a step inside the region where the parameters mean something: on a pixel grid
    /// the frequencies f and f + 1 (along an axis) give the same samples, so f stays within
    /// [0, ½] (Nyquist), where the Fourier start put it; the envelope stays between 0.3
    /// pixels and twice the filter's size, and its centre within one size of the centre.
    static func bounded(_ p: [Double], height: Int, width: Int) -> [Double] {
        let size = Double(max(height, width))
        var q = p
        q[1] = min(max(q[1], -size), size)
        q[2] = min(max(q[2], -size), size)
        q[3] = min(max(abs(q[3]), 0.3), 2 * size)
        q[4] = min(max(abs(q[4]), 0.3), 2 * size)
        q[6] = min(max(q[6], 0), 0.5)
        return q
    }

    /// The residual sum of squares, the Jacobian (one row per pixel) and the residuals.
    static func evaluate(_ p: [Double], _ values: [Double], height: Int, width: Int) -> (residual: Double, jacobian: [[Double]], residuals: [Double]) {
        let (a, x0, y0, sx, sy, theta, f, phi, c) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8])
        let (cosT, sinT) = (cos(theta), sin(theta))
        var jacobian: [[Double]] = []
        var residuals: [Double] = []
        jacobian.reserveCapacity(values.count)
        var sum = 0.0
        for r in 0..<height {
            for col in 0..<width {
                let (x, y) = Gabor.coordinates(row: r, column: col, height: height, width: width)
                let dx = x - x0, dy = y - y0
                let u = dx * cosT + dy * sinT, v = -dx * sinT + dy * cosT
                let envelope = exp(-u * u / (2 * sx * sx) - v * v / (2 * sy * sy))
                let argument = 2 * .pi * f * u + phi
                let (cw, sw) = (cos(argument), sin(argument))
                let model = a * envelope * cw + c
                let residual = model - values[r * width + col]
                residuals.append(residual)
                sum += residual * residual
                let dGdu = a * envelope * (-u / (sx * sx) * cw - 2 * .pi * f * sw)
                let dGdv = a * envelope * (-v / (sy * sy)) * cw
                jacobian.append([
                    envelope * cw,                                   // amplitude
                    dGdu * -cosT + dGdv * sinT,                      // x0
                    dGdu * -sinT + dGdv * -cosT,                     // y0
                    a * envelope * cw * u * u / (sx * sx * sx),      // σx
                    a * envelope * cw * v * v / (sy * sy * sy),      // σy
                    dGdu * v + dGdv * -u,                            // θ
                    -a * envelope * sw * 2 * .pi * u,                // f
                    -a * envelope * sw,                              // φ
                    1,                                               // offset
                ])
            }
        }
        return (sum, jacobian, residuals)
    }
}

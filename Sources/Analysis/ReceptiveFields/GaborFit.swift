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

    /// Fits every one of `filters` (each `height × width`, row-major), on every core: the
    /// fits are independent, and the results are those of ``fit(_:height:width:threshold:maxIterations:)``
    /// one by one, in order.
    ///
    /// - Throws: the error of the first filter (in order) whose fit fails.
    public static func fit(all filters: [[Double]], height: Int, width: Int, threshold: Double = defaultThreshold) throws -> [Result] {
        final class Outcomes: @unchecked Sendable {
            var values: [Swift.Result<GaborFit.Result, any Error>?]
            let lock = NSLock()
            init(_ count: Int) { values = Array(repeating: nil, count: count) }
        }
        let outcomes = Outcomes(filters.count)
        DispatchQueue.concurrentPerform(iterations: filters.count) { k in
            let outcome = Swift.Result { try fit(filters[k], height: height, width: width, threshold: threshold) }
            outcomes.lock.withLock { outcomes.values[k] = outcome }
        }
        return try outcomes.values.map { try $0!.get() }
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
        var current = Evaluation(height: height, width: width), trial = current
        var residual = current.evaluate(p, values)
        var jtj = [Double](repeating: 0, count: count * count), jtr = [Double](repeating: 0, count: count)
        var damped = jtj, step = jtr
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            // Normal equations JᵀJ δ = −Jᵀr, damped on the diagonal.
            current.normalEquations(jtj: &jtj, jtr: &jtr)
            var improved = false
            for _ in 0..<10 {
                damped = jtj
                for a in 0..<count { damped[a * count + a] += lambda * max(jtj[a * count + a], 1e-12) }
                for a in 0..<count { step[a] = -jtr[a] }
                guard Self.solvePositiveDefinite(&damped, &step, count: count) else {
                    lambda *= 10
                    continue
                }
                let candidate = bounded(zip(p, step).map { $0 + $1 }, height: height, width: width)
                let trialResidual = trial.evaluate(candidate, values)
                if trialResidual.isFinite && trialResidual < residual {
                    let gain = residual - trialResidual
                    p = candidate
                    residual = trialResidual
                    swap(&current, &trial)
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

    /// Solves `a x = b` in place for a symmetric positive definite `count × count` `a`
    /// (row-major, overwritten by its Cholesky factor), leaving `x` in `b`; `false` when a
    /// pivot is not positive (the matrix is not positive definite). The systems here have
    /// nine unknowns, too few for a library call to pay for itself.
    static func solvePositiveDefinite(_ a: inout [Double], _ b: inout [Double], count n: Int) -> Bool {
        // a = L Lᵀ with L lower triangular, stored in the lower triangle of a.
        for j in 0..<n {
            var pivot = a[j * n + j]
            for k in 0..<j { pivot -= a[j * n + k] * a[j * n + k] }
            guard pivot > 0, pivot.isFinite else { return false }
            let diagonal = pivot.squareRoot()
            a[j * n + j] = diagonal
            for i in (j + 1)..<max(j + 1, n) {
                var value = a[i * n + j]
                for k in 0..<j { value -= a[i * n + k] * a[j * n + k] }
                a[i * n + j] = value / diagonal
            }
        }
        for i in 0..<n {
            var value = b[i]
            for k in 0..<i { value -= a[i * n + k] * b[k] }
            b[i] = value / a[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var value = b[i]
            for k in (i + 1)..<max(i + 1, n) { value -= a[k * n + i] * b[k] }
            b[i] = value / a[i * n + i]
        }
        return true
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

    /// The model, its residuals and its Jacobian at one parameter vector, in buffers kept
    /// across the iterations of a fit.
    struct Evaluation {
        static let parameterCount = 9
        let xs: [Double], ys: [Double]
        /// One row of `parameterCount` derivatives per pixel, row-major.
        var jacobian: [Double]
        var residuals: [Double]

        init(height: Int, width: Int) {
            var xs: [Double] = [], ys: [Double] = []
            for r in 0..<height {
                for c in 0..<width {
                    let (x, y) = Gabor.coordinates(row: r, column: c, height: height, width: width)
                    xs.append(x)
                    ys.append(y)
                }
            }
            self.xs = xs
            self.ys = ys
            jacobian = [Double](repeating: 0, count: xs.count * Self.parameterCount)
            residuals = [Double](repeating: 0, count: xs.count)
        }

        /// Fills the residuals and the Jacobian at `p`; returns the residual sum of squares.
        mutating func evaluate(_ p: [Double], _ values: [Double]) -> Double {
            let (a, x0, y0, sx, sy, theta, f, phi, c) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8])
            let (cosT, sinT) = (cos(theta), sin(theta))
            var sum = 0.0
            let m = Self.parameterCount
            for i in xs.indices {
                let dx = xs[i] - x0, dy = ys[i] - y0
                let u = dx * cosT + dy * sinT, v = -dx * sinT + dy * cosT
                let envelope = exp(-u * u / (2 * sx * sx) - v * v / (2 * sy * sy))
                let argument = 2 * .pi * f * u + phi
                let (cw, sw) = (cos(argument), sin(argument))
                let residual = a * envelope * cw + c - values[i]
                residuals[i] = residual
                sum += residual * residual
                let dGdu = a * envelope * (-u / (sx * sx) * cw - 2 * .pi * f * sw)
                let dGdv = a * envelope * (-v / (sy * sy)) * cw
                jacobian[i * m + 0] = envelope * cw                                 // amplitude
                jacobian[i * m + 1] = dGdu * -cosT + dGdv * sinT                    // x0
                jacobian[i * m + 2] = dGdu * -sinT + dGdv * -cosT                   // y0
                jacobian[i * m + 3] = a * envelope * cw * u * u / (sx * sx * sx)    // σx
                jacobian[i * m + 4] = a * envelope * cw * v * v / (sy * sy * sy)    // σy
                jacobian[i * m + 5] = dGdu * v + dGdv * -u                          // θ
                jacobian[i * m + 6] = -a * envelope * sw * 2 * .pi * u              // f
                jacobian[i * m + 7] = -a * envelope * sw                            // φ
                jacobian[i * m + 8] = 1                                             // offset
            }
            return sum
        }

        /// JᵀJ (full, row-major) and Jᵀr at the last evaluated point.
        func normalEquations(jtj: inout [Double], jtr: inout [Double]) {
            let m = Self.parameterCount
            for k in jtj.indices { jtj[k] = 0 }
            for k in jtr.indices { jtr[k] = 0 }
            for i in residuals.indices {
                let row = i * m, r = residuals[i]
                for a in 0..<m {
                    let ja = jacobian[row + a]
                    jtr[a] += ja * r
                    for b in a..<m { jtj[a * m + b] += ja * jacobian[row + b] }
                }
            }
            for a in 0..<m { for b in 0..<a { jtj[a * m + b] = jtj[b * m + a] } }
        }
    }
}

import CVectorMath
import LinearAlgebra

/// The L2-regularised logistic loss of scikit-learn's `LogisticRegression`, divided by
/// `C·n`: `mean loss + ‖W‖²/(2Cn)`, intercepts unpenalised.
///
/// Parameters are packed as `θ = [vec(W) (d × m, column-major); b (m)]`, with `m = 1`
/// (binary, sigmoid) or `m = K` (multinomial, softmax).
struct LogisticObjective {
    let x: Matrix<Double>
    let codes: [Int]
    let outputs: Int
    let penalty: Double

    init(x: Matrix<Double>, codes: [Int], classCount: Int, c: Double) {
        self.x = x
        self.codes = codes
        outputs = classCount == 2 ? 1 : classCount
        penalty = 1 / (c * Double(x.rows))
    }

    /// Linear predictors `XW + 1bᵀ`, `n × m`.
    private func predictors(_ theta: [Double]) -> Matrix<Double> {
        let d = x.columns, m = outputs
        return x.affine(Matrix(rows: d, columns: m, columnMajor: Array(theta[0..<(d * m)])), bias: Array(theta[(d * m)...]))
    }

    /// The objective at `theta`; writes the gradient. `probabilities` receives `σ(z)` (binary)
    /// or the softmax rows (multinomial).
    func value(_ theta: [Double], gradient: inout [Double], probabilities: UnsafeMutablePointer<Matrix<Double>>? = nil) -> Double {
        let n = x.rows, d = x.columns, m = outputs
        var z = predictors(theta)
        var p = Matrix<Double>(rows: probabilities == nil ? 0 : n, columns: probabilities == nil ? 0 : m)
        // z becomes dLoss/dz.
        let loss = z.storage.withUnsafeMutableBufferPointer { z in
            p.storage.withUnsafeMutableBufferPointer { p in
                codes.withUnsafeBufferPointer { codes in
                    // (An empty array's buffer may still have an address: nil says none.)
                    residuals(z.baseAddress!, codes: codes.baseAddress!, probabilities: probabilities == nil ? nil : p.baseAddress)
                }
            }
        }
        let gw = x.multiplied(by: z, transposingSelf: true, scale: 1 / Double(n))
        var norm = 0.0
        for k in 0..<(d * m) {
            norm += theta[k] * theta[k]
            gradient[k] = gw.storage[k] + penalty * theta[k]
        }
        let sums = z.columnMeans
        for j in 0..<m { gradient[d * m + j] = sums[j] }
        probabilities?.pointee = p
        return loss / Double(n) + 0.5 * penalty * norm
    }

    /// The summed loss of the column-major `n × m` predictors `z`, which become the loss's
    /// derivatives `p − y`; `p`, unless nil, receives the probabilities. The multinomial
    /// case, ten exponentials a sample for ten classes, is the vectorised kernel's.
    private func residuals(_ z: UnsafeMutablePointer<Double>, codes: UnsafePointer<Int>,
                           probabilities p: UnsafeMutablePointer<Double>?) -> Double {
        let n = x.rows, m = outputs
        var loss = 0.0
        if m == 1 {
            for i in 0..<n {
                let t = z[i], positive = codes[i] == 1
                loss += positive ? softplus(-t) : softplus(t)
                let s = sigmoid(t)
                p?[i] = s
                z[i] = positive ? s - 1 : s
            }
            return loss
        }
        return repprobe_cross_entropy(z, n, m, codes, p)
    }

    /// The Hessian at the point whose probabilities are `p`, `(d+1)m × (d+1)m`, in the
    /// packing of `θ`.
    func hessian(probabilities p: Matrix<Double>) -> Matrix<Double> {
        let n = x.rows, d = x.columns, m = outputs
        let size = (d + 1) * m
        var h = Matrix<Double>(rows: size, columns: size)
        // Position of parameter (feature a ∈ 0...d, output k) in θ; a = d is the intercept.
        func index(_ a: Int, _ k: Int) -> Int { a < d ? k * d + a : d * m + k }
        var augmented = Matrix<Double>(rows: n, columns: d + 1, repeating: 1)
        for j in 0..<d { for i in 0..<n { augmented[i, j] = x[i, j] } }
        for k in 0..<m {
            for l in k..<m {
                // Weights of the (k, l) block: p_k(δ_kl − p_l) (binary: s(1 − s)).
                var weighted = augmented
                for i in 0..<n {
                    let w = m == 1 ? p[i, 0] * (1 - p[i, 0]) : p[i, k] * ((k == l ? 1 : 0) - p[i, l])
                    for j in 0...d { weighted[i, j] *= w / Double(n) }
                }
                let block = augmented.multiplied(by: weighted, transposingSelf: true)
                for b in 0...d {
                    for a in 0...d {
                        h[index(a, k), index(b, l)] = block[a, b]
                        h[index(b, l), index(a, k)] = block[a, b]
                    }
                }
            }
        }
        for k in 0..<m { for a in 0..<d { h[index(a, k), index(a, k)] += penalty } }
        return h
    }

    /// Damped Newton iterations with a backtracking line search.
    func newton(start: [Double], tolerance: Double, maxIterations: Int) throws -> (theta: [Double], converged: Bool, iterations: Int) {
        var theta = start
        var gradient = [Double](repeating: 0, count: theta.count)
        var p = Matrix<Double>(rows: 0, columns: 0)
        var f = value(theta, gradient: &gradient, probabilities: &p)
        for iteration in 0..<maxIterations {
            let largest = largestMagnitude(gradient)
            if largest <= tolerance {
                return (theta, true, iteration)
            }
            var h = hessian(probabilities: p)
            // The multinomial intercepts are only defined up to a common shift (a flat
            // direction); a tiny ridge keeps the Cholesky solve definite, and because the
            // gradient has no component along that direction the step stays orthogonal to it.
            var ridge = 0.0
            for i in 0..<h.rows { ridge = Swift.max(ridge, h[i, i]) }
            ridge *= 1e-12
            for i in 0..<h.rows { h[i, i] += ridge }
            var step = try h.solvingPositiveDefinite(Matrix(rows: gradient.count, columns: 1, columnMajor: gradient.map { -$0 })).storage
            if outputs > 1 {
                // Rounding leaves the gradient a tiny component along the flat direction,
                // which the ridge would amplify: keep the intercepts' sum where it started.
                let d = x.columns
                let shift = step[(d * outputs)...].reduce(0, +) / Double(outputs)
                for j in 0..<outputs { step[d * outputs + j] -= shift }
            }
            let slope = zip(gradient, step).reduce(0) { $0 + $1.0 * $1.1 }
            // Near the optimum the step's decrease (about −slope/2) is below the rounding
            // of the objective, whose comparisons then only measure noise: there the full
            // step stands if it shrinks the gradient, as it does where Newton converges
            // quadratically.
            let unresolved = -slope <= 64 * Double.ulpOfOne * Swift.max(Swift.abs(f), 1)
            var t = 1.0
            var candidate = theta
            var newGradient = gradient
            var newP = p
            var accepted = false
            for _ in 0..<50 {
                for i in theta.indices { candidate[i] = theta[i] + t * step[i] }
                let fNew = value(candidate, gradient: &newGradient, probabilities: &newP)
                let fullStepStands = t == 1
                    && (fNew <= f || unresolved && largestMagnitude(newGradient) < largest)
                if fNew <= f + 1e-4 * t * slope || fullStepStands {
                    f = fNew
                    accepted = true
                    break
                }
                t *= 0.5
            }
            if !accepted {
                let small = largest <= Swift.max(tolerance, 1e-12)
                return (theta, small, iteration)
            }
            theta = candidate
            gradient = newGradient
            p = newP
        }
        return (theta, largestMagnitude(gradient) <= tolerance, maxIterations)
    }
}

/// The largest magnitude among `v`'s elements (0 for none): the solvers' stopping measure.
func largestMagnitude(_ v: [Double]) -> Double {
    v.reduce(0) { Swift.max($0, Swift.abs($1)) }
}

@inline(__always) func sigmoid(_ t: Double) -> Double {
    t >= 0 ? 1 / (1 + _exp(-t)) : _exp(t) / (1 + _exp(t))
}

/// `log(1 + eᵗ)` without overflow.
@inline(__always) func softplus(_ t: Double) -> Double {
    t > 0 ? t + _log1p(_exp(-t)) : _log1p(_exp(t))
}

/// Limited-memory BFGS for smooth unconstrained minimisation (Nocedal 1980), with a
/// backtracking Armijo line search. Enough for the strictly convex objectives of the
/// probes here; curvature pairs with `sᵀy ≤ 0` are skipped. Stops when the gradient's
/// largest component is below the tolerance or when an iteration lowers the objective by
/// no more than rounding (`64ε·max(|f|, 1)`, as SciPy's L-BFGS-B `ftol`).
struct LBFGS {
    var memory = 10
    var gradientTolerance = 1e-8
    var maxIterations = 10_000

    struct Outcome {
        var x: [Double]
        var value: Double
        var iterations: Int
        var converged: Bool
    }

    /// Minimises `objective`, which returns the value and writes the gradient.
    func minimize(start: [Double], objective: ([Double], inout [Double]) -> Double) -> Outcome {
        var x = start
        var g = [Double](repeating: 0, count: x.count)
        var f = objective(x, &g)
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        var iteration = 0
        while iteration < maxIterations {
            if largestMagnitude(g) <= gradientTolerance {
                return Outcome(x: x, value: f, iterations: iteration, converged: true)
            }
            iteration += 1
            // Two-loop recursion for the search direction −H∇f.
            var q = g
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for k in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[k] = rhoHistory[k] * dot(sHistory[k], q)
                axpy(-alphas[k], yHistory[k], &q)
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for i in q.indices { q[i] *= gamma }
            } else {
                let norm = dot(g, g).squareRoot()
                for i in q.indices { q[i] /= Swift.max(norm, 1) }
            }
            for k in 0..<sHistory.count {
                let beta = rhoHistory[k] * dot(yHistory[k], q)
                axpy(alphas[k] - beta, sHistory[k], &q)
            }
            var direction = q.map { -$0 }
            var slope = dot(g, direction)
            if slope >= 0 {  // not a descent direction: restart from steepest descent
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                direction = g.map { -$0 }
                slope = dot(g, direction)
            }
            var step = 1.0
            var candidate = x
            var gNew = g
            var fNew = f
            var accepted = false
            for _ in 0..<60 {
                for i in x.indices { candidate[i] = x[i] + step * direction[i] }
                fNew = objective(candidate, &gNew)
                if fNew <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted {
                return Outcome(x: x, value: f, iterations: iteration, converged: false)
            }
            let s = zip(candidate, x).map { $0 - $1 }
            let y = zip(gNew, g).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-12 * dot(y, y).squareRoot() * dot(s, s).squareRoot() {
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
                if sHistory.count > memory {
                    sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst()
                }
            }
            let decrease = f - fNew
            x = candidate
            g = gNew
            f = fNew
            // The objective no longer changes beyond rounding (SciPy's `ftol` criterion):
            // the optimum is reached to the precision the objective can be evaluated at.
            if decrease <= 64 * Double.ulpOfOne * Swift.max(Swift.abs(f), 1) {
                return Outcome(x: x, value: f, iterations: iteration, converged: true)
            }
        }
        let done = largestMagnitude(g) <= gradientTolerance
        return Outcome(x: x, value: f, iterations: iteration, converged: done)
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }

    private func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for i in x.indices { y[i] += alpha * x[i] }
    }
}

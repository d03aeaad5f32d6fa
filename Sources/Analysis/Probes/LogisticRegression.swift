import LinearAlgebra

/// L2-regularised logistic regression, fitted to the same optimum as scikit-learn's
/// `LogisticRegression(penalty="l2", C=C, solver="lbfgs")`.
///
/// With two classes it is the binary model with one weight vector `w` (class 1 when
/// `wᵀx + b > 0`); with more it is the multinomial (softmax) model with one weight vector
/// per class. The objective is
///
///     C · Σᵢ loss(xᵢ, yᵢ) + ½‖W‖²_F      (intercepts unpenalised)
///
/// whose unique minimiser is found on the equivalent objective divided by `C·n`, by Newton's
/// method for small problems and by L-BFGS (``LBFGS``) for large ones (see ``newtonLimit``).
/// Each evaluation of the objective is two products with the data (`Matrix` products, which
/// for these few columns run on their own kernels) and a vectorised softmax cross-entropy
/// (`repprobe_cross_entropy`); Newton steps are solved by the LAPACK routine `dposv`.
public struct LogisticRegression: Sendable {
    public let classes: [Int]
    public let c: Double
    /// `d × m` weights (`m = 1` for two classes).
    public let weights: Matrix<Double>
    public let intercept: [Double]
    /// Whether the gradient tolerance was reached.
    public let converged: Bool
    public let iterations: Int

    /// Fits on samples × features `x`.
    public init(
        x: Matrix<Double>, labels: [Int], c: Double = 1, tolerance: Double = 1e-8, maxIterations: Int = 10_000,
        solver: LogisticSolver = .automatic
    ) throws {
        try AnalysisError.checkSameSamples(x.rows, labels.count, "logistic regression labels")
        guard c > 0 else { throw AnalysisError.invalidArgument("logistic regression: C must be positive, got \(c)") }
        let encoding = try ClassEncoding(labels, context: "logistic regression")
        classes = encoding.classes
        self.c = c
        let objective = LogisticObjective(x: x, codes: encoding.codes, classCount: classes.count, c: c)
        let (d, m) = (x.columns, objective.outputs)
        let start = [Double](repeating: 0, count: (d + 1) * m)
        let solution: (theta: [Double], converged: Bool, iterations: Int)
        let useNewton: Bool
        switch solver {
        case .automatic: useNewton = (d + 1) * m <= LogisticRegression.newtonLimit
        case .newton: useNewton = true
        case .lbfgs: useNewton = false
        }
        if useNewton {
            solution = try objective.newton(start: start, tolerance: tolerance, maxIterations: Swift.min(maxIterations, 200))
        } else {
            let outcome = LBFGS(gradientTolerance: tolerance, maxIterations: maxIterations).minimize(start: start) { theta, gradient in
                objective.value(theta, gradient: &gradient)
            }
            solution = (outcome.x, outcome.converged, outcome.iterations)
        }
        weights = Matrix(rows: d, columns: m, columnMajor: Array(solution.theta[0..<(d * m)]))
        intercept = Array(solution.theta[(d * m)...])
        converged = solution.converged
        iterations = solution.iterations
    }

    /// Problems with at most this many parameters are solved by Newton's method (exact
    /// Hessian, Cholesky solves, quadratic convergence to machine precision); larger ones
    /// by L-BFGS, whose iterations cost two products with the data instead of `m²/2` and a
    /// Cholesky factorisation. Newton's 5–9 iterations against L-BFGS's 12–33, on random
    /// problems of 150–2 000 samples: Newton ahead up to 15 parameters (0.04 against 0.06 ms
    /// for 4 features and 2 classes), about even at 17 and 27, behind from 33 (0.84 against
    /// 0.34 ms for 32 features and 2 classes; 17.5 against 2.3 ms for 32 features and 10
    /// classes), with the same accuracies throughout.
    public static let newtonLimit = 30

    /// Decision values `XW + b`, `n × m`.
    public func decisionFunction(_ x: Matrix<Double>) -> Matrix<Double> {
        x.affine(weights, bias: intercept)
    }

    /// Class probabilities, `n × classes.count`.
    public func probabilities(_ x: Matrix<Double>) -> Matrix<Double> {
        let z = decisionFunction(x)
        var p = Matrix<Double>(rows: x.rows, columns: classes.count)
        for i in 0..<x.rows {
            if z.columns == 1 {
                p[i, 1] = sigmoid(z[i, 0])
                p[i, 0] = 1 - p[i, 1]
            } else {
                var top = -Double.infinity
                for j in 0..<z.columns { top = Swift.max(top, z[i, j]) }
                var sum = 0.0
                for j in 0..<z.columns { sum += _exp(z[i, j] - top) }
                for j in 0..<z.columns { p[i, j] = _exp(z[i, j] - top) / sum }
            }
        }
        return p
    }

    /// Predicted labels.
    public func predict(_ x: Matrix<Double>) -> [Int] {
        RidgePath.decide(decisionFunction(x)).map { classes[$0] }
    }
}

/// The optimiser behind ``LogisticRegression``; all reach the same unique minimiser.
public enum LogisticSolver: String, Sendable, CaseIterable {
    /// Newton up to ``LogisticRegression/newtonLimit`` parameters, L-BFGS above.
    case automatic
    case newton
    case lbfgs
}

@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// Invariances every CKA variant must have, on random data, and the known bugs of other
/// tools as regression tests.
@Suite struct CKAPropertyTests {
    static let variants: [CKAOptions] = [
        CKAOptions(kernel: .linear, estimator: .biased, form: .gram),
        CKAOptions(kernel: .linear, estimator: .biased, form: .feature),
        CKAOptions(kernel: .linear, estimator: .unbiased, form: .gram),
        CKAOptions(kernel: .linear, estimator: .unbiased, form: .feature),
        CKAOptions(kernel: .rbf(threshold: 0.5), estimator: .biased),
        CKAOptions(kernel: .rbf(threshold: 1.0), estimator: .unbiased),
    ]

    let x = gaussianMatrix(50, 7, seed: 11)
    var y: Matrix<Double> { x * gaussianMatrix(7, 5, seed: 12) + gaussianMatrix(50, 5, seed: 13) }

    /// A random orthogonal matrix from the QR factorisation of a Gaussian one.
    func orthogonal(_ n: Int, seed: UInt64) -> Matrix<Double> { gaussianMatrix(n, n, seed: seed).orthonormalQ() }

    @Test(arguments: variants)
    func symmetricAndOneOnIdenticalInputs(options: CKAOptions) throws {
        let xy = try CKA.similarity(x, y, options: options), yx = try CKA.similarity(y, x, options: options)
        expectClose(xy, yx, rtol: 1e-12)
        expectClose(try CKA.similarity(x, x, options: options), 1, rtol: 1e-12)
    }

    @Test(arguments: variants)
    func invariantToOrthogonalMapsScalingAndTranslation(options: CKAOptions) throws {
        let reference = try CKA.similarity(x, y, options: options)
        var moved = x * orthogonal(7, seed: 21)
        moved.scale(by: 37.5)
        for j in 0..<moved.columns { for i in 0..<moved.rows { moved[i, j] += Double(j) * 3 - 1 } }
        expectClose(try CKA.similarity(moved, y, options: options), reference, rtol: 1e-10)
    }

    @Test func notInvariantToGeneralInvertibleMaps() throws {
        // Stretch one direction by 100: an invertible map CKA must notice.
        var stretch = Matrix<Double>.identity(7)
        stretch[0, 0] = 100
        let reference = try CKA.linear(x, y)
        #expect(abs(try CKA.linear(x * stretch, y) - reference) > 1e-2)
    }

    @Test func unbiasedHSICOfIndependentDataIsNearZero() throws {
        let a = gaussianMatrix(400, 5, seed: 31), b = gaussianMatrix(400, 5, seed: 32)
        let unbiased = try HSIC.unbiased(KernelMatrix.linear(a), KernelMatrix.linear(b))
        let scale = try HSIC.unbiased(KernelMatrix.linear(a), KernelMatrix.linear(a))
        #expect(abs(unbiased / scale) < 0.02)
        // The biased estimator keeps a positive offset of order d/n.
        let biased = HSIC.biased(KernelMatrix.linear(a), KernelMatrix.linear(b)) / HSIC.biased(KernelMatrix.linear(a), KernelMatrix.linear(a))
        #expect(biased > abs(unbiased / scale))
    }

    @Test(arguments: [1e-150, 1e-20, 1e20, 1e150])
    func noOverflowOrUnderflowFromFeatureScale(scale: Double) throws {
        // Regression: products like ‖XᵀX‖²_F overflow (or vanish) for large (small) features,
        // giving NaN or 0/0 in tools that do not normalise first.
        var big = x
        big.scale(by: scale)
        for options in Self.variants {
            expectClose(try CKA.similarity(big, y, options: options), try CKA.similarity(x, y, options: options), rtol: 1e-9)
        }
        var single = x.converted(to: Float.self)
        single.scale(by: Float(scale > 1 ? 1e30 : 1e-30))
        let value = try CKA.linear(single, y.converted(to: Float.self))
        #expect(value.isFinite)
        expectClose(value, try CKA.linear(x, y), rtol: 1e-4)
    }

    @Test func unbiasedHSICZeroesTheDiagonal() throws {
        // Regression: subtracting the diagonal's mean instead of zeroing it changes the value.
        let k = KernelMatrix.linear(x), l = KernelMatrix.linear(y)
        var shifted = k
        for i in 0..<shifted.rows { shifted[i, i] += 1000 }
        expectClose(try HSIC.unbiased(shifted, l), try HSIC.unbiased(k, l), rtol: 1e-12)
    }

    @Test func debiasedNormaliserUsesEachInputsOwnTerms() throws {
        // Regression: a normaliser that mixes X and Y terms does not give exactly 1 here.
        let twice = y * Matrix<Double>.identity(5)
        expectClose(try CKA.linear(y, twice, estimator: .unbiased), 1, rtol: 1e-13)
        let cka = try CKA.linear(x, y, estimator: .unbiased)
        #expect(cka > 0 && cka < 1)
    }

    @Test func errorsNameTheProblem() throws {
        #expect(throws: AnalysisError.sampleCountMismatch(first: 50, second: 49, context: "layer 'y' against 'x'")) {
            try CKA.linear(x, x.selectingRows(Array(0..<49)))
        }
        let constant = Matrix<Double>(rows: 50, columns: 3, repeating: 2)
        #expect(throws: AnalysisError.constantRepresentation(context: "layer 'y'")) { try CKA.linear(x, constant) }
        #expect(throws: AnalysisError.tooFewSamples(needed: 4, got: 3, context: "unbiased CKA")) {
            try CKA.linear(x.selectingRows([0, 1, 2]), y.selectingRows([0, 1, 2]), estimator: .unbiased)
        }
        var broken = x
        broken[3, 2] = .nan
        #expect(throws: AnalysisError.nonFinite(context: "layer 'x'")) { try CKA.linear(broken, y) }
    }

    @Test func allPairsEqualsPairByPair() throws {
        let layers = [x, y, gaussianMatrix(50, 9, seed: 41), x * orthogonal(7, seed: 42)]
        for options in Self.variants {
            let matrix = try CKAMatrix.compute(layers, options: options)
            for i in 0..<4 {
                for j in 0..<4 {
                    expectClose(matrix[i, j], try CKA.similarity(layers[i], layers[j], options: options), rtol: 1e-10)
                }
            }
        }
    }

    /// The feature form multiplies the layers pair by pair where they lie: the numbers of the
    /// Gram form, and layers the caller still holds are copied before they are centred, so
    /// its data never changes; layers handed over are centred in place.
    @Test func featureFormLeavesTheCallersLayers() throws {
        func farFromZero() -> Matrix<Double> {
            var m = gaussianMatrix(50, 9, seed: 41)
            for k in m.storage.indices { m.storage[k] = m.storage[k] * 1e3 + 50 }
            return m
        }
        let layers = [x, y, farFromZero(), x * orthogonal(7, seed: 42), gaussianMatrix(50, 5, seed: 43), gaussianMatrix(50, 3, seed: 44)]
        for estimator in CKAEstimator.allCases {
            let feature = try CKAMatrix.compute(layers, options: CKAOptions(estimator: estimator, form: .feature))
            let gram = try CKAMatrix.compute(layers, options: CKAOptions(estimator: estimator, form: .gram))
            let handedOver = try CKAMatrix.compute([gaussianMatrix(50, 7, seed: 11), y], options: CKAOptions(estimator: estimator, form: .feature))
            let inFloat = try CKAMatrix.compute(layers.prefix(2).map { $0.converted(to: Float.self) }, options: CKAOptions(estimator: estimator, form: .feature))
            for i in 0..<6 {
                for j in 0..<6 { #expect(abs(feature[i, j] - gram[i, j]) <= 1e-12, "\(estimator) \(i), \(j)") }
            }
            #expect(abs(handedOver[0, 1] - feature[0, 1]) <= 1e-13 && abs(inFloat[0, 1] - feature[0, 1]) <= 1e-5)
        }
        // Generated again, the layers are what the caller still holds.
        #expect(layers[0] == gaussianMatrix(50, 7, seed: 11) && layers[2] == farFromZero())
    }

    /// A constant layer stops the strict matrix with an error naming it; the lenient one
    /// leaves its row and column NaN and gives every other pair its value.
    @Test func constantLayersAreUndefinedNotFatal() throws {
        var constant = Matrix<Double>(rows: 50, columns: 3)
        for j in 0..<3 { for i in 0..<50 { constant[i, j] = Double(j) - 0.5 } }
        var oneSampleApart = constant
        oneSampleApart[49, 1] += 1e-12
        #expect(CKAMatrix.isConstant(constant) && !CKAMatrix.isConstant(oneSampleApart) && !CKAMatrix.isConstant(x))
        let layers = [x, constant, y]
        #expect(throws: AnalysisError.constantRepresentation(context: "layer 'flat'")) {
            try CKAMatrix.compute(layers, names: ["x", "flat", "y"])
        }
        for options in Self.variants {
            let square = try CKAMatrix.computeUndefinedForConstant(layers, names: ["x", "flat", "y"], options: options)
            let cross = try CKAMatrix.computeUndefinedForConstant([constant, x], layers, options: options)
            let expected = try CKA.similarity(x, y, options: options)
            expectClose(square[0, 2], expected, rtol: 1e-10)
            expectClose(square[2, 0], expected, rtol: 1e-10)
            expectClose(cross[1, 2], expected, rtol: 1e-10)
            expectClose(cross[1, 0], 1, rtol: 1e-10)
            for k in 0..<3 { #expect(square[1, k].isNaN && square[k, 1].isNaN && cross[0, k].isNaN && cross[1, 1].isNaN) }
        }
        #expect(try CKAMatrix.computeUndefinedForConstant([constant], [x]).storage.allSatisfy(\.isNaN))
    }

    @Test func bootstrapIntervalCoversTheEstimateAndIsReproducible() throws {
        let first = try CKAResampling.bootstrap(x, y, resamples: 200, seed: 5)
        let again = try CKAResampling.bootstrap(x, y, resamples: 200, seed: 5)
        // Equal to rounding: OpenBLAS's products round differently with another thread count,
        // and a test running beside this one may set it for a small factorisation.
        #expect(first.resamples == again.resamples)
        expectClose([first.estimate, first.lower, first.upper, first.standardError],
                    [again.estimate, again.lower, again.upper, again.standardError], rtol: 1e-12, atol: 0)
        expectClose(first.estimate, try CKA.linear(x, y), rtol: 1e-12)
        #expect(first.lower < first.estimate && first.estimate < first.upper)
        #expect(first.upper - first.lower < 0.5)
    }

    @Test(arguments: [CKAKernel.linear, .rbf(threshold: 0.8)])
    func leaveOneOutEqualsCKAOnTheRemainingSamples(kernel: CKAKernel) throws {
        let fast = try CKAResampling.leaveOneOut(x, y, kernel: kernel)
        #expect(fast.count == x.rows)
        for i in [0, 7, x.rows - 1] {
            let rest = (0..<x.rows).filter { $0 != i }
            // For RBF the bandwidth is the full sample's, so the reference is the Gram
            // sub-matrix; for the linear kernel it is also CKA of the remaining rows.
            let (k, l) = kernel == .linear
                ? (x.selectingRows(rest).outerGram(), y.selectingRows(rest).outerGram())
                : (KernelMatrix.rbf(try HSICTable.centeredUnitNorm(x, name: "x"), threshold: 0.8).selectingRows(rest).selectingColumns(rest),
                   KernelMatrix.rbf(try HSICTable.centeredUnitNorm(y, name: "y"), threshold: 0.8).selectingRows(rest).selectingColumns(rest))
            expectClose(fast[i], try CKA.fromGrams(k, l), rtol: 1e-10)
        }
        if kernel == .linear {
            expectClose(fast[3], try CKA.linear(x.selectingRows((0..<x.rows).filter { $0 != 3 }), y.selectingRows((0..<x.rows).filter { $0 != 3 })), rtol: 1e-10)
        }
    }

    @Test func leaveOneOutFindsAPlantedOutlier() throws {
        // Unrelated representations, except one sample far out in both: CKA is high only
        // because of it, and leaving it out drops CKA the most.
        var a = gaussianMatrix(40, 6, seed: 11), b = gaussianMatrix(40, 6, seed: 12)
        for j in 0..<6 { a[17, j] = 30; b[17, j] = 30 }
        let full = try CKA.linear(a, b)
        let loo = try CKAResampling.leaveOneOut(a, b)
        let drops = loo.map { full - $0 }
        #expect(drops.firstIndex(of: drops.max()!) == 17)
        #expect(full > 0.8 && loo[17] < 0.5)
    }

    @Test func permutationTestSeparatesRelatedFromUnrelated() throws {
        let related = try CKAResampling.permutationTest(x, y, permutations: 199, seed: 1)
        #expect(related.pValue == 1.0 / 200)
        expectClose(related.observed, try CKA.linear(x, y), rtol: 1e-12)
        let unrelated = try CKAResampling.permutationTest(x, gaussianMatrix(50, 5, seed: 99), estimator: .unbiased, permutations: 199, seed: 1)
        #expect(unrelated.pValue > 0.05)
        expectClose(unrelated.observed, try CKA.linear(x, gaussianMatrix(50, 5, seed: 99), estimator: .unbiased), rtol: 1e-12)
    }
}

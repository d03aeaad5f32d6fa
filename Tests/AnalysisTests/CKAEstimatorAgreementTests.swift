@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// Every statistic reported beside a CKA value measures the same CKA: the bootstrap, the
/// leave-one-out values and the products' precision follow the options of the value itself.
@Suite struct CKAEstimatorAgreementTests {
    let x = gaussianMatrix(40, 6, seed: 21)
    var y: Matrix<Double> { x * gaussianMatrix(6, 4, seed: 22) + gaussianMatrix(40, 4, seed: 23) }

    /// The unbiased CKA of the Gram sub-matrices at `indices`, formed explicitly, with every
    /// entry that pairs a sample with itself set to zero.
    static func unbiasedCKA(_ k: Matrix<Double>, _ l: Matrix<Double>, indices: [Int]) throws -> Double {
        func sub(_ g: Matrix<Double>) -> Matrix<Double> {
            var m = Matrix<Double>(rows: indices.count, columns: indices.count)
            for (b, j) in indices.enumerated() {
                for (a, i) in indices.enumerated() where i != j { m[a, b] = g[i, j] }
            }
            return m
        }
        let (ks, ls) = (sub(k), sub(l))
        return try HSIC.unbiased(ks, ls) / (HSIC.unbiased(ks, ks) * HSIC.unbiased(ls, ls)).squareRoot()
    }

    @Test(arguments: CKAEstimator.allCases)
    func bootstrapEstimateIsTheValueOfTheSameEstimator(estimator: CKAEstimator) throws {
        let interval = try CKAResampling.bootstrap(x, y, estimator: estimator, resamples: 100, seed: 3)
        expectClose(interval.estimate, try CKA.linear(x, y, estimator: estimator), rtol: 1e-12)
        #expect(interval.lower <= interval.upper && interval.resamples == 100)
    }

    @Test func unbiasedBootstrapIntervalIsNotTheBiasedOne() throws {
        let biased = try CKAResampling.bootstrap(x, y, estimator: .biased, resamples: 200, seed: 3)
        let unbiased = try CKAResampling.bootstrap(x, y, estimator: .unbiased, resamples: 200, seed: 3)
        // The biased estimator is pulled up by each sample's own term: its interval sits higher.
        #expect(unbiased.estimate < biased.estimate)
        #expect(unbiased.upper < biased.upper && unbiased.lower < biased.lower)
    }

    /// The resample CKA of the Gram sub-matrices at `indices` (repeats allowed).
    static func alignment(_ k: Matrix<Double>, _ l: Matrix<Double>, indices: [Int], estimator: CKAEstimator) -> Double {
        var counts = Matrix<Double>(rows: k.rows, columns: 1)
        for i in indices { counts[i, 0] += 1 }
        return ResampledCKA(k, l, estimator: estimator).values(counts: counts)[0]
    }

    @Test func unbiasedReplicateLeavesOutPairsOfRepeatedSamples() throws {
        let k = x.outerGram(), l = y.outerGram()
        let repeated = [0, 0, 3, 5, 5, 5, 7, 9, 11, 2, 2, 30]
        expectClose(Self.alignment(k, l, indices: repeated, estimator: .unbiased),
                    try Self.unbiasedCKA(k, l, indices: repeated), rtol: 1e-10)
        // Without repeats it is the unbiased CKA of the sub-matrices.
        let distinct = [4, 1, 8, 13, 21, 34, 2, 3]
        let sub = { (g: Matrix<Double>) in g.selectingRows(distinct).selectingColumns(distinct) }
        expectClose(Self.alignment(k, l, indices: distinct, estimator: .unbiased),
                    try CKA.fromGrams(sub(k), sub(l), estimator: .unbiased), rtol: 1e-10)
        expectClose(Self.alignment(k, l, indices: distinct, estimator: .biased),
                    try CKA.fromGrams(sub(k), sub(l), estimator: .biased), rtol: 1e-10)
    }

    /// Many resamples in one call, over more samples than one panel of rows (64), each equal
    /// to the CKA of its Gram sub-matrices formed explicitly.
    @Test(arguments: CKAEstimator.allCases)
    func resamplesTakenTogetherAreEachTheirOwnCKA(estimator: CKAEstimator) throws {
        let a = gaussianMatrix(150, 5, seed: 24)
        let b = a * gaussianMatrix(5, 3, seed: 25) + gaussianMatrix(150, 3, seed: 26)
        let k = a.outerGram(), l = b.outerGram()
        var generator = SeededGenerator(seed: 9)
        let draws = (0..<7).map { r in generator.resample(150, count: 100 + 10 * r) }
        var counts = Matrix<Double>(rows: 150, columns: draws.count)
        for (r, indices) in draws.enumerated() { for i in indices { counts[i, r] += 1 } }
        let values = ResampledCKA(k, l, estimator: estimator).values(counts: counts)
        for (r, indices) in draws.enumerated() {
            let expected: Double
            switch estimator {
            case .unbiased: expected = try Self.unbiasedCKA(k, l, indices: indices)
            case .biased:
                let sub = { (g: Matrix<Double>) in g.selectingRows(indices).selectingColumns(indices) }
                expected = try CKA.fromGrams(sub(k), sub(l), estimator: .biased)
            }
            expectClose(values[r], expected, rtol: 1e-11)
        }
    }

    @Test(arguments: [CKAKernel.linear, .rbf(threshold: 0.8)])
    func unbiasedLeaveOneOutIsCKAOfTheRemainingSamples(kernel: CKAKernel) throws {
        let fast = try CKAResampling.leaveOneOut(x, y, kernel: kernel, estimator: .unbiased)
        #expect(fast.count == x.rows)
        let full = try CKAResampling.leaveOneOut(x, y, kernel: kernel, estimator: .biased)
        for i in [0, 9, x.rows - 1] {
            let rest = (0..<x.rows).filter { $0 != i }
            let (k, l): (Matrix<Double>, Matrix<Double>)
            switch kernel {
            case .linear:
                (k, l) = (x.selectingRows(rest).outerGram(), y.selectingRows(rest).outerGram())
            case let .rbf(threshold):
                // The bandwidth stays the full sample's.
                let kx = KernelMatrix.rbf(try HSICTable.centeredUnitNorm(x, name: "x"), threshold: threshold)
                let ky = KernelMatrix.rbf(try HSICTable.centeredUnitNorm(y, name: "y"), threshold: threshold)
                (k, l) = (kx.selectingRows(rest).selectingColumns(rest), ky.selectingRows(rest).selectingColumns(rest))
            }
            expectClose(fast[i], try CKA.fromGrams(k, l, estimator: .unbiased), rtol: 1e-10)
            #expect(abs(fast[i] - full[i]) > 1e-6)
        }
    }

    @Test func unbiasedLeaveOneOutNeedsFiveSamples() throws {
        let small = gaussianMatrix(4, 3, seed: 1)
        #expect(throws: AnalysisError.self) { try CKAResampling.leaveOneOut(small, small, estimator: .unbiased) }
        #expect(try CKAResampling.leaveOneOut(small, small, estimator: .biased).count == 4)
    }

    @Test(arguments: [CKAForm.feature, .gram])
    func precisionSetsTheTypeOfTheProducts(form: CKAForm) throws {
        let layers = [x, y, gaussianMatrix(40, 9, seed: 24)]
        let asFloat = try CKAMatrix.compute(layers.map { $0.converted(to: Float.self) }, options: CKAOptions(form: form))
        let float32 = try CKAMatrix.compute(layers, options: CKAOptions(form: form, precision: .float32))
        let float64 = try CKAMatrix.compute(layers, options: CKAOptions(form: form, precision: .float64))
        let automatic = try CKAMatrix.compute(layers, options: CKAOptions(form: form))
        #expect(float32.storage == asFloat.storage)
        #expect(float64.storage == automatic.storage)
        #expect(float32.storage != float64.storage)
        for (single, double) in zip(float32.storage, float64.storage) { #expect(abs(single - double) < 1e-5) }
        // Float inputs are raised to float64 when asked.
        let raised = try CKAMatrix.compute(layers.map { $0.converted(to: Float.self) }, options: CKAOptions(form: form, precision: .float64))
        let exact = try CKAMatrix.compute(layers.map { $0.converted(to: Float.self).converted(to: Double.self) }, options: CKAOptions(form: form))
        #expect(raised.storage == exact.storage)
    }

    @Test func rbfTakesFloatInputs() throws {
        let (xf, yf) = (x.converted(to: Float.self), y.converted(to: Float.self))
        let single = try CKA.rbf(xf, yf, threshold: 0.8)
        let double = try CKA.rbf(x, y, threshold: 0.8)
        #expect(abs(single - double) < 1e-5)
    }
}

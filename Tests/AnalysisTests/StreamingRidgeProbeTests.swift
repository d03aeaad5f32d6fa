@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// Ridge probes from per-fold streamed statistics score as the in-memory probes on the
/// same folds.
@Suite struct StreamingRidgeProbeTests {
    /// `n` samples of `d` features whose class (of `classes`) shifts a few directions, with
    /// a mean far from zero.
    static func data(_ n: Int, _ d: Int, classes: Int, seed: UInt64) -> (Matrix<Double>, [Int]) {
        var x = gaussianMatrix(n, d, seed: seed)
        var generator = SeededGenerator(seed: seed &+ 1)
        let labels = (0..<n).map { _ in Int.random(in: 0..<classes, using: &generator) * 3 + 1 }
        for i in 0..<n {
            for j in 0..<min(d, classes) where (labels[i] - 1) / 3 == j { x[i, j] += 1.2 }
            for j in 0..<d { x[i, j] += 50 }
        }
        return (x, labels)
    }

    /// The streamed evaluation with blocks of the sizes given (cycled).
    static func streamed(_ x: Matrix<Double>, _ labels: [Int], folds: [Int], alphas: [Double], blocks: [Int]) throws -> ProbeEvaluation {
        try StreamingRidgeProbe.evaluate(labels: labels, folds: folds, alphas: alphas, controlSeed: 3) { body in
            var start = 0, k = 0
            while start < x.rows {
                let end = min(x.rows, start + blocks[k % blocks.count])
                try body(x.selectingRows(Array(start..<end)), start..<end)
                start = end
                k += 1
            }
        }
    }

    @Test(arguments: [2, 4])
    func streamedProbesScoreAsInMemory(classes: Int) throws {
        let (x, labels) = Self.data(240, 12, classes: classes, seed: UInt64(classes))
        let alphas = [0.01, 1, 100, 1e4]
        let folds = try StratifiedKFold.assign(labels: labels, folds: 5)
        let expected = try LinearProbe.evaluate(x, labels: labels, model: .ridge(alphas: alphas), folds: folds, controlSeed: 3)
        for blocks in [[240], [1, 17, 64]] {
            let streamed = try Self.streamed(x, labels, folds: folds, alphas: alphas, blocks: blocks)
            #expect(streamed.scores == expected.scores, "\(blocks)")
            #expect(streamed.bestIndex == expected.bestIndex && streamed.control == expected.control)
            #expect(streamed.chance == expected.chance && streamed.folds == folds)
        }
        // The probe reads the classes: well above chance, and above the shuffled control.
        #expect(expected.best.mean > expected.chance + 0.2 && expected.best.mean > (expected.control?.mean ?? 1) + 0.2)
    }

    @Test func badInputIsRefused() throws {
        let (x, labels) = Self.data(40, 3, classes: 2, seed: 1)
        let folds = try StratifiedKFold.assign(labels: labels, folds: 4)
        #expect(throws: AnalysisError.self) { try Self.streamed(x, labels, folds: folds, alphas: [], blocks: [8]) }
        #expect(throws: AnalysisError.self) { try Self.streamed(x, labels, folds: folds, alphas: [-1], blocks: [8]) }
        #expect(throws: AnalysisError.self) { try Self.streamed(x, labels, folds: Array(folds.dropLast()), alphas: [1], blocks: [8]) }
        // A second pass that does not see every sample.
        var passes = 0
        #expect(throws: AnalysisError.self) {
            try StreamingRidgeProbe.evaluate(labels: labels, folds: folds, alphas: [1]) { body in
                passes += 1
                try body(x.selectingRows(Array(0..<(passes == 1 ? 40 : 20))), 0..<(passes == 1 ? 40 : 20))
            }
        }
    }
}

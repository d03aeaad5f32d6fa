@testable import Analysis
import Foundation
import LinearAlgebra
import Testing

/// Linear CKA from streamed sufficient statistics is the in-memory CKA matrix, whatever the
/// batches, the feature offsets and the order in which shards are merged.
@Suite struct StreamingCKATests {
    static let names = ["a", "b", "c"]
    static let n = 203

    /// Three related layers of 203 samples: widths 5, 7 and 3.
    static func layers(offset: Double = 0) -> [Matrix<Double>] {
        let x = gaussianMatrix(n, 5, seed: 1)
        let y = x * gaussianMatrix(5, 7, seed: 2) + gaussianMatrix(n, 7, seed: 3)
        let z = gaussianMatrix(n, 3, seed: 4)
        return [x, y, z].map { m in Matrix(rows: m.rows, columns: m.columns, columnMajor: m.storage.map { $0 + offset }) }
    }

    /// Feeds `layers` in batches of the sizes given (cycled) over `rows`.
    static func accumulate(_ layers: [Matrix<Double>], rows: Range<Int>, batches: [Int], rowLayers: Int? = nil) throws -> StreamingCKA {
        var accumulator = try StreamingCKA(layerNames: names, widths: layers.map(\.columns), rowLayers: rowLayers)
        var start = rows.lowerBound, k = 0
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + batches[k % batches.count])
            try accumulator.update(layers.map { $0.selectingRows(Array(start..<end)) })
            start = end
            k += 1
        }
        return accumulator
    }

    @Test func batchesOfAnySizeGiveTheInMemoryMatrix() throws {
        let layers = Self.layers()
        let expected = try CKAMatrix.compute(layers, options: CKAOptions(estimator: .biased, form: .feature))
        for batches in [[Self.n], [1], [17, 64, 3], [2, 100]] {
            let streamed = try Self.accumulate(layers, rows: 0..<Self.n, batches: batches).cka()
            #expect(streamed.isClose(to: expected, within: 1e-12), "batches \(batches)")
        }
        #expect(try Self.accumulate(layers, rows: 0..<Self.n, batches: [50]).samples == Self.n)
    }

    /// Features whose mean is a million times their spread: the pairwise update keeps the
    /// digits that a sum of squares minus the squared sum would lose.
    @Test func largeOffsetsLoseNoDigits() throws {
        let expected = try CKAMatrix.compute(Self.layers(), options: CKAOptions(estimator: .biased))
        let streamed = try Self.accumulate(Self.layers(offset: 1e6), rows: 0..<Self.n, batches: [7, 31]).cka()
        #expect(streamed.isClose(to: expected, within: 1e-9))
    }

    /// The first layers against the rest keep only the blocks that table reads, and give the
    /// same numbers as all pairs.
    @Test func rowsAgainstColumnsIsThatPartOfTheMatrix() throws {
        let layers = Self.layers(offset: 3)
        let expected = try CKAMatrix.compute(layers, options: CKAOptions(estimator: .biased, form: .feature))
        for rowLayers in [1, 2] {
            let parts = try [0..<90, 90..<Self.n].map { try Self.accumulate(layers, rows: $0, batches: [13, 40], rowLayers: rowLayers) }
            var merged = parts[0]
            try merged.merge(parts[1])
            let streamed = try merged.cka()
            #expect(streamed.rows == rowLayers && streamed.columns == 3 - rowLayers)
            let block = Matrix(rows: rowLayers, columns: 3 - rowLayers,
                               columnMajor: (rowLayers..<3).flatMap { j in (0..<rowLayers).map { i in expected[i, j] } })
            #expect(streamed.isClose(to: block, within: 1e-12), "\(rowLayers) row layers")
            // 5² + 7² + 3² own, and the cross block, instead of 15 × 15.
            let widths = [5, 7, 3], split = widths.prefix(rowLayers).reduce(0, +)
            #expect(StreamingCKA.bytes(widths: widths, rowLayers: rowLayers) == 8 * (83 + split * (15 - split)))
            #expect(StreamingCKA.bytes(widths: widths, rowLayers: nil) == 8 * 225)
            // Accumulators of another split do not join.
            var other = try StreamingCKA(layerNames: Self.names, widths: widths)
            #expect(throws: AnalysisError.self) { try other.merge(parts[0]) }
        }
        #expect(throws: AnalysisError.self) { try StreamingCKA(layerNames: Self.names, widths: [5, 7, 3], rowLayers: 3) }
        #expect(throws: AnalysisError.self) { try StreamingCKA(layerNames: Self.names, widths: [5, 7, 3], rowLayers: 0) }
    }

    @Test func shardsMergeInAnyOrderToTheWhole() throws {
        let layers = Self.layers()
        let whole = try Self.accumulate(layers, rows: 0..<Self.n, batches: [32]).cka()
        let shards = try [0..<60, 60..<61, 61..<150, 150..<203].map { try Self.accumulate(layers, rows: $0, batches: [32]) }
        for order in [[0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0]] {
            var merged = try StreamingCKA(layerNames: Self.names, widths: [5, 7, 3])
            for k in order { try merged.merge(shards[k]) }
            #expect(merged.samples == Self.n)
            #expect(try merged.cka().isClose(to: whole, within: 1e-12), "order \(order)")
        }
    }

    @Test func mismatchesAreRefusedByName() throws {
        var accumulator = try StreamingCKA(layerNames: ["a", "b"], widths: [2, 3])
        #expect(throws: AnalysisError.self) { try accumulator.update([gaussianMatrix(4, 2, seed: 1)]) }
        #expect(throws: AnalysisError.self) { try accumulator.update([gaussianMatrix(4, 2, seed: 1), gaussianMatrix(5, 3, seed: 2)]) }
        #expect(throws: AnalysisError.self) { try accumulator.update([gaussianMatrix(4, 2, seed: 1), gaussianMatrix(4, 4, seed: 2)]) }
        var broken = gaussianMatrix(4, 3, seed: 2)
        broken[1, 1] = .infinity
        #expect(throws: AnalysisError.nonFinite(context: "streaming CKA: layer 'b'")) {
            try accumulator.update([gaussianMatrix(4, 2, seed: 1), broken])
        }
        #expect(accumulator.samples == 0)
        #expect(throws: AnalysisError.self) { try accumulator.merge(try StreamingCKA(layerNames: ["a", "c"], widths: [2, 3])) }
        #expect(throws: AnalysisError.self) { try accumulator.merge(try StreamingCKA(layerNames: ["a", "b"], widths: [2, 4])) }
        #expect(throws: AnalysisError.self) { try accumulator.cka() }
    }

    @Test func aConstantLayerIsUndefinedNotFatal() throws {
        var accumulator = try StreamingCKA(layerNames: ["x", "flat"], widths: [3, 2])
        try accumulator.update([gaussianMatrix(10, 3, seed: 1), Matrix(rows: 10, columns: 2, repeating: 4)])
        let cka = try accumulator.cka()
        #expect(cka[0, 0] == 1 && cka[1, 1].isNaN && cka[0, 1].isNaN)
    }
}

extension Matrix where Scalar == Double {
    /// Same shape, and every element within `tolerance` of the other's.
    func isClose(to other: Matrix<Double>, within tolerance: Double) -> Bool {
        rows == other.rows && columns == other.columns && zip(storage, other.storage).allSatisfy { abs($0 - $1) <= tolerance }
    }
}

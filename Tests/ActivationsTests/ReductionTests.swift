import Activations
import Formats
import Foundation
import Testing

/// The one reduction: its spellings, its axis rules on every rank, the same numbers for
/// Float and Double values, and the same numbers from a file as from a capture.
@Suite struct ReductionTests {
    @Test(arguments: ["flatten", "mean", "max", "center", "subsample:3", "project:16"])
    func everySpellingParsesBackToItsName(text: String) throws {
        let reduction = try #require(Reduction(parsing: text, seed: 9))
        #expect(reduction.description.hasPrefix(text))
        if text.hasPrefix("project") { #expect(reduction == .project(dimensions: 16, seed: 9)) }
    }

    @Test(arguments: ["", "Mean", "mean:2", "subsample", "subsample:0", "subsample:x", "project:", "project:-1", "flatten:", "squash"])
    func otherSpellingsAreRefused(text: String) {
        #expect(Reduction(parsing: text) == nil)
    }

    @Test func onlyProjectionsTakeASeed() {
        #expect(Reduction.project(dimensions: 4, seed: 0).seeded(7) == .project(dimensions: 4, seed: 7))
        #expect(Reduction.mean.seeded(7) == .mean)
    }

    static func reduce(_ reduction: Reduction, _ shape: [Int]) throws -> (rows: [Double], features: Int) {
        try Reducer(reduction, layer: "x", source: "test").reduce((0..<shape.reduce(1, *)).map(Double.init), shape: shape)
    }

    @Test func rankFourReducesSpaceAndKeepsChannels() throws {
        // [2 samples, 2 channels, 2 × 3]: channel planes 0–5, 6–11, 12–17, 18–23.
        #expect(try Self.reduce(.mean, [2, 2, 2, 3]) == ([2.5, 8.5, 14.5, 20.5], 2))
        #expect(try Self.reduce(.max, [2, 2, 2, 3]) == ([5, 11, 17, 23], 2))
        // The centre of a 2 × 3 plane is row 0, column 1.
        #expect(try Self.reduce(.center, [2, 2, 2, 3]) == ([1, 7, 13, 19], 2))
        #expect(try Self.reduce(.subsample(stride: 2), [1, 2, 2, 3]) == ([0, 2, 6, 8], 4))
        #expect(try Self.reduce(.flatten, [2, 2, 2, 3]).features == 12)
    }

    @Test func rankThreeReducesTokensAndKeepsFeatures() throws {
        // [1 sample, 3 tokens, 2 features]: tokens (0, 1), (2, 3), (4, 5).
        #expect(try Self.reduce(.mean, [1, 3, 2]) == ([2, 3], 2))
        #expect(try Self.reduce(.max, [1, 3, 2]) == ([4, 5], 2))
        #expect(try Self.reduce(.center, [1, 3, 2]) == ([2, 3], 2))
        #expect(try Self.reduce(.subsample(stride: 2), [1, 3, 2]) == ([0, 1, 4, 5], 4))
    }

    @Test(arguments: [Reduction.mean, .max, .center, .subsample(stride: 2)])
    func matricesAndVectorsAreUsedAsTheyAre(reduction: Reduction) throws {
        #expect(try Self.reduce(reduction, [3, 4]) == ((0..<12).map(Double.init), 4))
        #expect(try Self.reduce(reduction, [3]) == ([0, 1, 2], 1))
    }

    /// A feature map of 224 × 224 positions (or a long run of tokens) averaged in Float
    /// stays within a few units in the last place of the exact mean: a sum running down the
    /// plane one value at a time would drift by ~1e-4 of it here. The maximum is exact.
    @Test(arguments: [[2, 3, 224, 224], [2, 50_000, 3]])
    func wideMeansStayAccurateInFloat(shape: [Int]) throws {
        let values = (0..<shape.reduce(1, *)).map { Float(0.1 + 0.05 * sin(Double($0) * 0.013)) }
        let mean = try Reducer(.mean, layer: "x", source: "t").reduce(values, shape: shape)
        let max = try Reducer(.max, layer: "x", source: "t").reduce(values, shape: shape)
        let kept = mean.features, count = values.count / (shape[0] * kept)
        for n in 0..<shape[0] {
            for k in 0..<kept {
                let members = (0..<count).map { i in
                    shape.count == 3 ? values[(n * count + i) * kept + k] : values[(n * kept + k) * count + i]
                }
                let exact = members.reduce(0.0) { $0 + Double($1) } / Double(count)
                #expect(abs(Double(mean.rows[n * kept + k]) - exact) < 1e-6 * exact)
                #expect(max.rows[n * kept + k] == members.max())
            }
        }
    }

    @Test func poolingAnEmptyAxisIsAnErrorNamingTheLayer() throws {
        let reducer = Reducer(.mean, layer: "conv", source: "acts.npz")
        #expect(throws: ActivationError.emptyReduction(file: "acts.npz", layer: "conv", shape: [2, 0, 3], reduction: .mean)) {
            try reducer.reduce([Double](), shape: [2, 0, 3])
        }
        #expect(try Reducer(.flatten, layer: "conv", source: "acts.npz").reduce([Double](), shape: [2, 3, 0]).features == 0)
    }

    @Test(arguments: [Reduction.flatten, .mean, .max, .center, .subsample(stride: 3), .project(dimensions: 8, seed: 2)])
    func floatAndDoubleValuesGiveTheSameRows(reduction: Reduction) throws {
        let shape = [3, 4, 5, 7]
        let values = (0..<shape.reduce(1, *)).map { Float(sin(Double($0) * 0.37)) }
        let single = try Reducer(reduction, layer: "x", source: "t").reduce(values, shape: shape)
        let double = try Reducer(reduction, layer: "x", source: "t").reduce(values.map(Double.init), shape: shape)
        #expect(single.features == double.features && single.rows.count == double.rows.count)
        for (a, b) in zip(single.rows, double.rows) { #expect(abs(Double(a) - b) < 1e-5) }
    }

    @Test func aProjectionIsFixedBySeedAndWidth() throws {
        let values = (0..<800).map { sin(Double($0)) }
        let a = try Reducer(.project(dimensions: 256, seed: 3), layer: "x", source: "t").reduce(values, shape: [2, 400])
        let b = try Reducer(.project(dimensions: 256, seed: 3), layer: "x", source: "t").reduce(values, shape: [2, 400])
        let c = try Reducer(.project(dimensions: 256, seed: 4), layer: "x", source: "t").reduce(values, shape: [2, 400])
        #expect(a.rows == b.rows && a.rows != c.rows && a.features == 256)
        // Johnson–Lindenstrauss: the squared norm survives within a few tens of percent.
        let before = values.prefix(400).map { $0 * $0 }.reduce(0, +)
        let after = a.rows.prefix(256).map { $0 * $0 }.reduce(0, +)
        #expect(abs(after / before - 1) < 0.3)
    }

    @Test func aProjectionTooLargeToBuildIsRefused() throws {
        let reducer = Reducer(.project(dimensions: 1 << 14, seed: 0), layer: "huge", source: "model.onnx")
        #expect(throws: ActivationError.self) { try reducer.reduce([Float](repeating: 0, count: 1 << 13), shape: [1, 1 << 13]) }
    }

    @Test func hostileStridesAndDimensionsAreNeitherOverflowsNorCrashes() throws {
        // A stride beyond every axis keeps the first position of each.
        #expect(try Self.reduce(.subsample(stride: .max), [1, 2, 3, 3]) == ([0, 9], 2))
        #expect(try Self.reduce(.subsample(stride: .max), [1, 3, 2]) == ([0, 1], 2))
        let parsed = try #require(Reduction(parsing: "subsample:\(Int.max)"))
        #expect(try Self.reduce(parsed, [2, 1, 4, 4]).features == 1)
        // width × k past Int.max, and k alone past the limit on a layer without features.
        let overflowing = Reducer(.project(dimensions: Int.max / 2 + 1, seed: 0), layer: "conv", source: "model.onnx")
        #expect(throws: ActivationError.self) { try overflowing.reduce([Float](repeating: 1, count: 6), shape: [2, 3]) }
        let empty = Reducer(.project(dimensions: Reducer.projectionLimit + 1, seed: 0), layer: "conv", source: "model.onnx")
        #expect(throws: ActivationError.self) { try empty.reduce([Float](), shape: [2, 0]) }
        #expect(Reduction(parsing: "project:99999999999999999999999") == nil)
    }

    @Test(arguments: [Reduction.center, .subsample(stride: 2), .project(dimensions: 5, seed: 1)])
    func filesTakeEveryReduction(reduction: Reduction) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-reduction-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("acts.npz")
        let shape = [4, 3, 5, 5]
        let values = (0..<shape.reduce(1, *)).map { Float(cos(Double($0))) }
        try ArrayFile.write([("conv", NumericArray(shape: shape, float32: values))], to: url, format: .npz)
        let loaded = try ActivationSet.load(url, reduction: reduction).layer(named: "conv")
        let direct = try Reducer(reduction, layer: "conv", source: url.path).reduce(values.map(Double.init), shape: shape)
        #expect(loaded.rows == 4 && loaded.columns == direct.features)
        #expect(loaded.rowMajorElements == direct.rows)
    }
}

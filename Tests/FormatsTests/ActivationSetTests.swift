import Activations
import Foundation
import Formats
import LinearAlgebra
import Testing

@Suite("ActivationSet")
struct ActivationSetTests {
    /// Writes `arrays` as an `.npz` called `name` in `folder`.
    static func npz(_ arrays: [(name: String, array: NumericArray)], _ name: String = "acts.npz", in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try NPZ.write(arrays, to: url)
        return url
    }

    static func ramp(_ shape: [Int]) -> NumericArray {
        NumericArray(shape: shape, float32: (0..<shape.reduce(1, *)).map(Float.init))
    }

    /// The error loading `url` throws, which must be an ``ActivationError``.
    static func loadError(_ url: URL, reduction: Reduction = .flatten, layers: [String]? = nil) -> ActivationError? {
        thrownError(ActivationError.self) { try ActivationSet.load(url, reduction: reduction, layers: layers) }
    }

    @Test("loads 2-D layers in file order as samples × features")
    func loadMatrices() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("fc2", Self.ramp([3, 2])), ("fc1", NumericArray(shape: [3, 1], float64: [7, 8, 9]))], in: folder)
            let set = try ActivationSet.load(url)
            #expect(set.layerNames == ["fc2", "fc1"])
            #expect(set.sampleCount == 3)
            #expect(set.source == url.path)
            #expect(try set.layer(named: "fc2") == Matrix([[0, 1], [2, 3], [4, 5]]))
            #expect(try set.layer(named: "fc1") == Matrix([[7], [8], [9]]))
        }
    }

    // MARK: Spatial reductions

    /// `[2, 2, 2, 3]` (NCHW) holding 0…23: each channel is a run of six consecutive values.
    @Test(
        "reduces NCHW arrays",
        arguments: [
            (Reduction.flatten, [(0..<12).map(Double.init), (12..<24).map(Double.init)]),
            (.mean, [[2.5, 8.5], [14.5, 20.5]]),
            (.max, [[5, 11], [17, 23]]),
        ] as [(Reduction, [[Double]])])
    func reduceNCHW(reduction: Reduction, expected: [[Double]]) throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("conv", Self.ramp([2, 2, 2, 3]))], in: folder)
            let set = try ActivationSet.load(url, reduction: reduction)
            #expect(try set.layer(named: "conv") == Matrix(expected))
        }
    }

    @Test("max of negative values is not clamped at zero")
    func maxOfNegatives() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("conv", NumericArray(shape: [1, 1, 2, 2], float64: [-4, -3, -2, -1.5]))], in: folder)
            #expect(try ActivationSet.load(url, reduction: .max).layer(named: "conv") == Matrix([[-1.5]]))
            #expect(try ActivationSet.load(url, reduction: .mean).layer(named: "conv") == Matrix([[-2.625]]))
        }
    }

    /// `[2, 3, 2]` as `[samples, tokens, features]` holding 0…11.
    @Test(
        "reduces rank-3 arrays over the position axis",
        arguments: [
            (Reduction.flatten, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]),
            (.mean, [[2, 3], [8, 9]]),
            (.max, [[4, 5], [10, 11]]),
        ] as [(Reduction, [[Double]])])
    func reduceTokens(reduction: Reduction, expected: [[Double]]) throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("block", Self.ramp([2, 3, 2]))], in: folder)
            #expect(try ActivationSet.load(url, reduction: reduction).layer(named: "block") == Matrix(expected))
        }
    }

    @Test("reduces every axis after the channel axis for rank 5")
    func reduceRank5() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("conv3d", Self.ramp([1, 2, 1, 1, 2]))], in: folder)
            #expect(try ActivationSet.load(url, reduction: .mean).layer(named: "conv3d") == Matrix([[0.5, 2.5]]))
        }
    }

    @Test("a vector is one feature per sample")
    func vectorLayer() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("logit", NumericArray(shape: [3], float64: [1, 2, 3]))], in: folder)
            #expect(try ActivationSet.load(url).layer(named: "logit") == Matrix([[1], [2], [3]]))
        }
    }

    @Test("loads float16 and float32 tensors from a safetensors file")
    func fromSafetensors() throws {
        let url = Fixtures.formats("tensors.safetensors")
        let weight = try ActivationSet.load(url, layers: ["weight"])
        #expect(try weight.layer(named: "weight") == Matrix([[-2.5, -1.5, -0.5], [0.5, 1.5, 2.5]]))
        let half = try ActivationSet.load(url, layers: ["half"])
        #expect(try half.layer(named: "half") == Matrix([[1], [-0.5], [65504]]))
    }

    // MARK: Errors

    @Test("refuses a mean over an empty axis")
    func emptyReduction() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("conv", NumericArray(shape: [2, 3, 0, 4], float32: []))], in: folder)
            let error = Self.loadError(url, reduction: .mean)
            #expect(error == .emptyReduction(file: url.path, layer: "conv", shape: [2, 3, 0, 4], reduction: .mean))
            #expect(error?.description.contains("acts.npz") == true)
            #expect(try ActivationSet.load(url, reduction: .flatten).layer(named: "conv").columns == 0)
        }
    }

    @Test("refuses a scalar")
    func scalarLayer() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("loss", NumericArray(shape: [], float64: [0.5]))], in: folder)
            let error = Self.loadError(url)
            #expect(error == .scalarArray(file: url.path, layer: "loss"))
            #expect(error?.description.contains("acts.npz") == true)
        }
    }

    @Test("refuses integer arrays as activations")
    func integerLayer() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("fc", Self.ramp([2, 2])), ("labels", NumericArray(shape: [2], int64: [0, 1]))], in: folder)
            let error = Self.loadError(url)
            #expect(error == .integerArray(file: url.path, layer: "labels", elementType: .int64))
            #expect(error?.description.contains("acts.npz") == true)
            #expect(error?.description.contains("labels") == true)
        }
    }

    @Test("reports NaN and infinities with file, layer and index", arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(value: Float) throws {
        try withTemporaryDirectory { folder in
            var values = [Float](repeating: 1, count: 12)
            values[7] = value
            let url = try Self.npz([("fc", Self.ramp([2, 2])), ("conv", NumericArray(shape: [2, 2, 3], float32: values))], in: folder)
            let error = Self.loadError(url)
            guard case let .nonFinite(file, layer, index, position, found)? = error else {
                Issue.record("expected nonFinite, got \(String(describing: error))")
                return
            }
            #expect(file == url.path && layer == "conv" && index == 7 && position == [1, 0, 1])
            #expect(found.isNaN == value.isNaN && (value.isNaN || found == Double(value)))
            #expect(error?.description.contains("acts.npz") == true)
            #expect(error?.description.contains("conv") == true)
        }
    }

    @Test("refuses layers with different sample counts, naming both")
    func sampleCountMismatch() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("a", Self.ramp([4, 2])), ("b", Self.ramp([4, 3])), ("c", Self.ramp([5, 2]))], in: folder)
            let error = Self.loadError(url)
            #expect(error == .sampleCountMismatch(file: url.path, layer: "c", count: 5, expected: 4, reference: "a"))
            #expect(error?.description == "\(url.path): layer 'c' has 5 samples but layer 'a' has 4")
        }
    }

    @Test("loads the requested layers in the requested order")
    func layerSelection() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("a", Self.ramp([2, 1])), ("b", Self.ramp([2, 2])), ("c", Self.ramp([2, 3]))], in: folder)
            let set = try ActivationSet.load(url, layers: ["c", "a", "c"])
            #expect(set.layerNames == ["c", "a"])
        }
    }

    @Test("an unknown layer name lists the available ones")
    func unknownLayer() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([("a", Self.ramp([2, 1])), ("b", Self.ramp([2, 2]))], in: folder)
            let error = Self.loadError(url, layers: ["a", "fc9"])
            #expect(error == .unknownName(file: url.path, name: "fc9", available: ["a", "b"]))
            #expect(error?.description == "\(url.path): no array named 'fc9'; available: a, b")
            let set = try ActivationSet.load(url)
            #expect(thrownError(ActivationError.self) { try set.layer(named: "c") }
                == .unknownName(file: url.path, name: "c", available: ["a", "b"]))
        }
    }

    @Test("refuses a file with no arrays")
    func noArrays() throws {
        try withTemporaryDirectory { folder in
            let url = try Self.npz([], "empty.npz", in: folder)
            let error = Self.loadError(url)
            #expect(error == .noArrays(file: url.path))
            #expect(error?.description.contains("empty.npz") == true)
        }
    }

    @Test("a format problem arrives as a FormatError naming the file")
    func formatProblem() throws {
        try withTemporaryDirectory { folder in
            let url = try writeFile(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (9,), }\n"), "cut.npy", in: folder)
            let error = formatError { try ActivationSet.load(url) }
            #expect(error == .truncated(file: url.path, expected: 36, actual: 0))
        }
    }

    @Test("building a set checks sample counts and names")
    func initChecks() {
        let a = ActivationSet.Layer(name: "a", matrix: Matrix(rows: 3, columns: 2))
        let b = ActivationSet.Layer(name: "b", matrix: Matrix(rows: 4, columns: 2))
        #expect(thrownError(ActivationError.self) { try ActivationSet(layers: [a, b], source: "run-1") }
            == .sampleCountMismatch(file: "run-1", layer: "b", count: 4, expected: 3, reference: "a"))
        #expect(thrownError(ActivationError.self) { try ActivationSet(layers: [a, a], source: "run-1") }
            == .duplicateName(file: "run-1", name: "a"))
    }

    // MARK: Writing

    @Test("writes and reloads exactly, keeping the layer order", arguments: [ArrayFile.WriteFormat.npz, .npzCompressed, .safetensors])
    func writeRoundTrip(format: ArrayFile.WriteFormat) throws {
        try withTemporaryDirectory { folder in
            let set = try ActivationSet(
                layers: [
                    .init(name: "z", matrix: Matrix([[0.1, 0.2, 0.3], [1e-300, -0.0, 1e300]])),
                    .init(name: "a", matrix: Matrix([[1], [2]])),
                    .init(name: "m", matrix: Matrix([[.pi, -.pi], [2, 3]])),
                ], source: "memory")
            let url = folder.appendingPathComponent("out.data")
            try set.write(to: url, format: format)
            let back = try ActivationSet.load(url)
            #expect(back.layers == set.layers)
            #expect(back.source == url.path)
        }
    }

    @Test("writes float32 when asked, rounding each value")
    func writeFloat32() throws {
        try withTemporaryDirectory { folder in
            let set = try ActivationSet(layers: [.init(name: "x", matrix: Matrix([[0.1], [1.0 / 3]]))], source: "memory")
            let url = folder.appendingPathComponent("x.safetensors")
            try set.write(to: url, format: .safetensors, elementType: .float32)
            let arrays = try ArrayFile.read(url)
            #expect(arrays[0].array == NumericArray(shape: [2, 1], float32: [0.1, 1.0 / 3]))
        }
    }

    @Test("refuses to write activations as integers")
    func writeIntegers() throws {
        try withTemporaryDirectory { folder in
            let set = try ActivationSet(layers: [.init(name: "x", matrix: Matrix([[1]]))], source: "memory")
            let url = folder.appendingPathComponent("x.npz")
            let error = thrownError(ActivationError.self) { try set.write(to: url, elementType: .int32) }
            #expect(error == .unsupportedWriteType(file: url.path, elementType: .int32))
            #expect(error?.description.contains("x.npz") == true)
        }
    }
}

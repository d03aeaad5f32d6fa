import Foundation
import Activations
import Formats
import Networks
import Probe
import Testing

/// A two-layer network built in code: `fc1` (Gemm 3→4) then `fc2` (Gemm 4→2), with module paths.
func twoLayerNetwork() throws -> Network {
    let w1 = Tensor(shape: [4, 3], elements: (0..<12).map { Float($0) / 10 - 0.5 })
    let b1 = Tensor(shape: [4], elements: [Float](repeating: 0.1, count: 4))
    let w2 = Tensor(shape: [2, 4], elements: (0..<8).map { Float($0 % 3) - 1 })
    let graph = Graph(
        inputs: [Graph.Input(name: "x", dataType: .float32, shape: [nil, 3])], outputs: ["y"],
        initializers: ["fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2], initializerOrder: ["fc1.weight", "fc1.bias", "fc2.weight"],
        nodes: [
            Node(name: "/fc1/Gemm", opType: "Gemm", inputs: ["x", "fc1.weight", "fc1.bias"], outputs: ["/fc1/Gemm_output_0"],
                 attributes: ["transB": .int(1)], modulePath: "fc1"),
            Node(name: "/fc2/Gemm", opType: "Gemm", inputs: ["/fc1/Gemm_output_0", "fc2.weight"], outputs: ["y"],
                 attributes: ["transB": .int(1)], modulePath: "fc2"),
        ],
        opsets: ["": 17])
    return try Network(graph: graph, file: "two-layer")
}

func sampleInputs(_ n: Int) -> Tensor { Tensor(shape: [n, 3], elements: (0..<(3 * n)).map { Float(($0 * 7) % 11) - 5 }) }

@Suite struct HookTests {
    @Test func cacheHoldsRequestedLayersByModulePathAndTensorName() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let (outputs, cache) = try model.runWithCache(["x": sampleInputs(5)], names: .names(["fc1", "/fc1/Gemm_output_0"]))
        #expect(cache.names == ["fc1", "/fc1/Gemm_output_0"])
        #expect(cache["fc1"]?.shape == [5, 4])
        #expect(cache["fc1"]?.floats == cache["/fc1/Gemm_output_0"]?.floats)
        #expect(outputs["y"]?.shape == [5, 2])
    }

    @Test func unknownLayerListsTheModulePaths() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        #expect {
            _ = try model.runWithCache(["x": sampleInputs(2)], names: .names(["fc3"]))
        } throws: { error in
            guard case let ProbeError.unknownLayer(name, _, available) = error else { return false }
            return name == "fc3" && available == ["fc1", "fc2"]
        }
    }

    @Test func prefixAndPredicateFilters() throws {
        let catalog = LayerCatalog(try twoLayerNetwork())
        #expect(try LayerFilter.prefix("fc2").resolve(in: catalog).map(\.name) == ["fc2"])
        #expect(try LayerFilter.predicate { $0.opType == "Gemm" }.resolve(in: catalog).map(\.tensor) == ["/fc1/Gemm_output_0", "y"])
        #expect(throws: ProbeError.self) { try LayerFilter.prefix("conv").resolve(in: catalog) }
    }

    @Test func scopedHookReplacesAnActivationAndIsGoneAfterwards() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let x = ["x": sampleInputs(3)]
        let plain = try model.run(x)["y"]?.floats
        let zeroed = try model.withHooks([Hook("fc1") { t in Tensor(shape: t.shape, elements: [Float](repeating: 0, count: t.count)) }]) {
            try model.run(x)["y"]?.floats
        }
        #expect(zeroed == [Float](repeating: 0, count: 6))
        #expect(try model.run(x)["y"]?.floats == plain)
    }

    @Test func observingHookSeesTheActivationAndChangesNothing() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let seen = Locked<[Int]>([])
        let x = ["x": sampleInputs(3)]
        let plain = try model.run(x)["y"]?.floats
        let observed = try model.withHooks([.observe("fc1") { t in seen.mutate { $0 = t.shape } }]) { try model.run(x)["y"]?.floats }
        #expect(seen.value == [3, 4])
        #expect(observed == plain)
    }

    @Test func permanentHooksStayUntilRemoved() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let x = ["x": sampleInputs(2)]
        let plain = try model.run(x)["y"]?.floats
        try model.addPermanentHook(Hook("fc2") { t in Tensor(shape: t.shape, elements: (t.floats ?? []).map { $0 * 2 }) })
        #expect(try model.run(x)["y"]?.floats == plain?.map { $0 * 2 })
        model.removeAllHooks()
        #expect(try model.run(x)["y"]?.floats == plain)
    }
}

/// A value shared with a `@Sendable` closure in a test.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}

@Suite struct CaptureTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-\(UUID().uuidString)-\(name)")
    }

    @Test func streamedFileEqualsInMemoryCaptureAndCarriesSampleIDs() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let inputs: [String: any InputSource] = ["x": TensorInputs(sampleInputs(23))]
        // Asked for in the reverse of the order the network computes them: the file and the
        // collector keep the order asked for.
        let settings = Capture.Settings(layers: .names(["fc2", "fc1"]), reduction: .flatten, batchSize: 5)
        let collector = ActivationCollector()
        try Capture.run(model, inputs: inputs, settings: settings, into: collector)
        let url = Self.temporary("acts.npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try Capture.run(model, inputs: inputs, settings: settings, into: try NPZActivationWriter(url))
        let loaded = try ActivationSet.load(url)
        #expect(loaded.layerNames == ["fc2", "fc1"])
        var memory = try collector.activationSet(source: "memory")
        #expect(memory.layerNames == ["fc2", "fc1"])
        #expect(loaded.layers.map(\.matrix) == memory.layers.map(\.matrix))
        memory = try ActivationSet(layers: memory.layers.reversed(), source: "memory")
        let ids = try ArrayFile.read(url, names: [ActivationSet.sampleIDsName])
        #expect(ids.first?.array.storage == .int64((0..<23).map(Int64.init)))
        // One batch run alone gives the same rows as the streamed capture.
        let (_, cache) = try model.runWithCache(["x": try TensorInputs(sampleInputs(23)).batch(10..<15)], names: .names(["fc1"]))
        let rows = (10..<15).flatMap { r in (0..<4).map { memory.layers[0].matrix[r, $0] } }
        #expect(cache["fc1"]?.floats?.map(Double.init) == rows)
    }

    @Test func failedCaptureLeavesNoFile() throws {
        let model = HookedNetwork(try twoLayerNetwork())
        let url = Self.temporary("broken.npz")
        let inputs: [String: any InputSource] = ["x": TensorInputs(Tensor(shape: [4, 5], elements: [Float](repeating: 1, count: 20)))]
        #expect(throws: (any Error).self) {
            try Capture.run(model, inputs: inputs, settings: Capture.Settings(layers: .names(["fc1"])), into: try NPZActivationWriter(url))
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func mismatchedSampleCountsAreRefused() throws {
        let network = try twoLayerNetwork()
        #expect(throws: ProbeError.self) {
            _ = try Capture.validate(["x": TensorInputs(sampleInputs(3)), "z": TensorInputs(sampleInputs(4))], for: network)
        }
    }
}

@Suite struct CaptureReductionTests {
    /// A [2, 2, 2, 3] activation (batch, channels, height, width) through a one-node Identity-free graph:
    /// reductions are checked on the reducer directly through a capture of the graph input.
    static func capture(_ tensor: Tensor, _ reduction: Reduction) throws -> (rows: [Float], features: Int) {
        let graph = Graph(inputs: [Graph.Input(name: "x", dataType: .float32, shape: nil)], outputs: ["x"], initializers: [:],
                          initializerOrder: [], nodes: [], opsets: ["": 17])
        let model = HookedNetwork(try Network(graph: graph, file: "input-only"))
        let collector = ActivationCollector()
        try Capture.run(model, inputs: ["x": TensorInputs(tensor)], settings: Capture.Settings(layers: .names(["x"]), reduction: reduction, batchSize: 1), into: collector)
        return collector.values(ofLayer: 0)
    }

    static let image = Tensor(shape: [2, 2, 2, 3], elements: (0..<24).map(Float.init))

    @Test func meanAndMaxOverSpace() throws {
        let mean = try Self.capture(Self.image, .mean)
        #expect(mean.features == 2)
        #expect(mean.rows == [2.5, 8.5, 14.5, 20.5])
        let max = try Self.capture(Self.image, .max)
        #expect(max.rows == [5, 11, 17, 23])
    }

    @Test func subsampleKeepsEveryStrideThPosition() throws {
        let sub = try Self.capture(Self.image, .subsample(stride: 2))
        // Per channel, rows 0 of 2 and columns 0, 2 of 3.
        #expect(sub.features == 4)
        #expect(Array(sub.rows.prefix(4)) == [0, 2, 6, 8])
    }

    @Test func tokensAreReducedOverAxisOne() throws {
        let tokens = Tensor(shape: [1, 3, 2], elements: [Float]([1, 10, 2, 20, 3, 30]))
        #expect(try Self.capture(tokens, .mean).rows == [2, 20])
        #expect(try Self.capture(tokens, .center).rows == [2, 20])
    }

    @Test func centerKeepsEachChannelAtTheMiddlePosition() throws {
        // 2 × 3 planes: the centre is row (2 − 1) / 2 = 0, column (3 − 1) / 2 = 1.
        let center = try Self.capture(Self.image, .center)
        #expect(center.features == 2)
        #expect(center.rows == [1, 7, 13, 19])
        // 5 × 4: row 2, column 1.
        let odd = Tensor(shape: [1, 1, 5, 4], elements: (0..<20).map(Float.init))
        #expect(try Self.capture(odd, .center).rows == [9])
        #expect(Reduction(parsing: "center") == .center && Reduction.center.description == "center")
    }

    @Test func projectionIsFixedAndPreservesInnerProductsRoughly() throws {
        let x = Tensor(shape: [2, 400], elements: (0..<800).map { Float(sin(Double($0))) })
        let a = try Self.capture(x, .project(dimensions: 256, seed: 3))
        let b = try Self.capture(x, .project(dimensions: 256, seed: 3))
        #expect(a.rows == b.rows && a.features == 256)
        let original = (0..<400).map { Double(x.floats![$0]) }
        let normOriginal = original.map { $0 * $0 }.reduce(0, +)
        let normProjected = a.rows.prefix(256).map { Double($0) * Double($0) }.reduce(0, +)
        #expect(abs(normProjected / normOriginal - 1) < 0.3)
    }
}

@Suite struct NativeCheckpointTests {
    @Test func roundTripGivesTheSameNetwork() throws {
        let network = try twoLayerNetwork()
        let url = CaptureTests.temporary("model.ckpt")
        defer { try? FileManager.default.removeItem(at: url) }
        try NativeCheckpoint.write(network.graph, to: url)
        let loaded = try ModelLoader.load(url)
        #expect(loaded.kind == .native)
        let x = ["x": sampleInputs(4)]
        #expect(try loaded.network.run(x)["y"]?.floats == network.run(x)["y"]?.floats)
        #expect(LayerCatalog(loaded.network).modules.map(\.path) == ["fc1", "fc2"])
        // Python's safetensors sees plain tensors named after the initializers.
        #expect(Set(try Safetensors.names(url)) == ["fc1.weight", "fc1.bias", "fc2.weight"])
    }

    @Test func stateDictWithoutGraphAsksForOne() throws {
        let url = CaptureTests.temporary("weights.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write([("fc1.weight", NumericArray(shape: [4, 3], elementType: .float32, storage: .float32([Float](repeating: 0, count: 12))))], to: url)
        #expect {
            _ = try ModelLoader.load(url)
        } throws: { error in
            (error as? NetworkError)?.errorDescription?.contains("--graph") == true
        }
    }
}

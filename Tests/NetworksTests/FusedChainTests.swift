import Foundation
import Testing
@testable import Networks

/// The exact GELU as exporters spell it, run by one kernel when nothing asks for a tensor
/// inside it: found in both exporters' orders, refused when the chain is not exactly that,
/// and computing what the five nodes compute.
struct FusedChainTests {
    private static let x: [Float] = (0..<257).map { Float($0 - 128) / 16 }

    private static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], elements: [value]) }

    /// `x → Div(√2) → Erf → Add(1) → two Muls` in the TorchScript exporter's order (`x`
    /// first, then ½) or the dynamo exporter's (½ first, then `x`), with √2 as a `Constant`
    /// node and 1 and ½ as initializers; `extraReader` adds a node that also reads the
    /// `Erf` output.
    private static func geluGraph(dynamoOrder: Bool, scale: (op: String, value: Float) = ("Div", Float(2).squareRoot()),
                                  extraReader: Bool = false) -> Graph {
        var nodes = [
            Node(name: "c", opType: "Constant", inputs: [], outputs: ["root2"], attributes: ["value": .tensor(scalar(scale.value))]),
            Node(name: "div", opType: scale.op, inputs: ["x", "root2"], outputs: ["scaled"]),
            Node(name: "erf", opType: "Erf", inputs: ["scaled"], outputs: ["erf"]),
            Node(name: "add", opType: "Add", inputs: ["one", "erf"], outputs: ["sum"]),
        ]
        if dynamoOrder {
            nodes += [Node(name: "half", opType: "Mul", inputs: ["half", "sum"], outputs: ["product"]),
                      Node(name: "last", opType: "Mul", inputs: ["x", "product"], outputs: ["y"])]
        } else {
            nodes += [Node(name: "byx", opType: "Mul", inputs: ["x", "sum"], outputs: ["product"]),
                      Node(name: "last", opType: "Mul", inputs: ["product", "half"], outputs: ["y"])]
        }
        var outputs = ["y"]
        if extraReader {
            nodes.append(Node(name: "neg", opType: "Neg", inputs: ["erf"], outputs: ["negated"]))
            outputs.append("negated")
        }
        return Graph(inputs: [Graph.Input(name: "x", dataType: .float32, shape: nil)], outputs: outputs,
                     initializers: ["one": scalar(1), "half": scalar(0.5)], initializerOrder: ["one", "half"],
                     nodes: nodes, opsets: ["": 17])
    }

    @Test(arguments: [false, true])
    func bothExporterOrdersAreFusedAndComputeTheGelu(dynamoOrder: Bool) throws {
        let network = try Network(graph: Self.geluGraph(dynamoOrder: dynamoOrder), file: "gelu.onnx")
        #expect(network.fusedChains.count == 1)
        #expect(network.fusedChains.first?.nodes == [1, 2, 3, 4, 5])
        let input = Tensor(shape: [Self.x.count], elements: Self.x)
        let fused = try #require(try network.run(["x": input])["y"]?.floats)
        // Asking for a tensor inside the chain makes it run node by node.
        let unfused = try network.run(["x": input], keeping: ["erf"])
        let stepwise = try #require(unfused["y"]?.floats)
        let erf = try #require(unfused["erf"]?.floats)
        for (i, value) in Self.x.enumerated() {
            let v = Double(value)
            let exact = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
            // 1 + erf cancels for negative x: its float32 rounding, ½|x|·ε, bounds the error there.
            let tolerance = 4 * Double(Float.ulpOfOne) * Swift.max(abs(exact), 0.5 * abs(v), 1e-3)
            #expect(abs(Double(fused[i]) - exact) <= tolerance, "GELU(\(value)) = \(fused[i]), exactly \(exact)")
            #expect(abs(Double(fused[i]) - Double(stepwise[i])) <= tolerance, "fused \(fused[i]), node by node \(stepwise[i])")
            #expect(abs(Double(erf[i]) - Foundation.erf(v / 2.0.squareRoot())) <= 4e-7, "erf inside the chain")
        }
    }

    @Test func multiplyingByTheReciprocalOfTheRootIsFusedToo() throws {
        let network = try Network(graph: Self.geluGraph(dynamoOrder: false, scale: ("Mul", Float(0.5).squareRoot())), file: "gelu.onnx")
        #expect(network.fusedChains.count == 1)
    }

    @Test func chainsThatAreNotTheGeluAreLeftAlone() throws {
        // A tensor inside the chain that another node reads.
        let shared = try Network(graph: Self.geluGraph(dynamoOrder: false, extraReader: true), file: "gelu.onnx")
        #expect(shared.fusedChains.isEmpty)
        // Another constant: x · ½ · (1 + erf(x / 2)) is not the GELU.
        let halved = try Network(graph: Self.geluGraph(dynamoOrder: true, scale: ("Div", 2)), file: "gelu.onnx")
        #expect(halved.fusedChains.isEmpty)
        let input = Tensor(shape: [3], elements: [Float(-1), 0, 2])
        let y = try #require(try halved.run(["x": input])["y"]?.floats)
        #expect(abs(Double(y[2]) - 0.5 * 2 * (1 + Foundation.erf(1))) < 1e-6)
    }

    @Test func interceptingTheChainsOutputKeepsItFused() throws {
        let network = try Network(graph: Self.geluGraph(dynamoOrder: true), file: "gelu.onnx")
        let input = Tensor(shape: [Self.x.count], elements: Self.x)
        var seen: [String] = []
        let results = try network.run(["x": input], intercepting: ["y"]) { name, tensor in
            seen.append(name)
            return Tensor(shape: tensor.shape, elements: [Float](repeating: 7, count: tensor.count))
        }
        #expect(seen == ["y"])
        #expect(results["y"]?.floats == [Float](repeating: 7, count: Self.x.count))
    }

    /// The small BERT and ViT exports (dynamo exporter) carry one GELU per block.
    @Test(arguments: ["bert", "vit"])
    func exportedTransformersHaveOneFusedGeluPerBlock(model: String) throws {
        let file = GeneratedData.packageRoot.appendingPathComponent("Tests/Fixtures/huggingface/onnx/\(model).onnx")
        let network = try Network(graph: ONNXImporter.load(file), file: file.path)
        let erfs = network.graph.nodes.filter { $0.opType == "Erf" }.count
        #expect(erfs > 0)
        // Each GELU with the linear layer before it.
        #expect(network.fusedChains.filter { $0.opType == "MatMul+Add+Gelu" }.count == erfs)
        // Every other linear layer's product and bias too: at least three more per block.
        #expect(network.fusedChains.filter { $0.opType == "MatMul+Add" }.count >= 3 * erfs)
    }

    /// A linear layer whose output only the GELU reads is one chain, with the bits of the
    /// linear layer's chain followed by the `Gelu` kernel; with the product hooked, the
    /// two run apart (and the GELU node by node, within its tolerance).
    /// Shapes on one thread, split by rows, and split by columns.
    @Test(arguments: [([2, 5, 6], 37), ([1, 300, 120], 37), ([1, 30, 300], 400)] as [([Int], Int)])
    func aLinearLayerAndItsGeluRunAsOneChain(shape: [Int], n: Int) throws {
        let k = shape.last!
        let weights = Tensor(shape: [k, n], elements: ParallelKernelTests.values(k * n, seed: 81))
        let bias = Tensor(shape: [n], elements: ParallelKernelTests.values(n, seed: 82))
        var gelu = Self.geluGraph(dynamoOrder: false)
        gelu.nodes = [Node(name: "mm", opType: "MatMul", inputs: ["input", "w"], outputs: ["linear"]),
                      Node(name: "add", opType: "Add", inputs: ["linear", "b"], outputs: ["x"])] + gelu.nodes
        gelu.inputs = [Graph.Input(name: "input", dataType: .float32, shape: nil)]
        gelu.initializers["w"] = weights
        gelu.initializers["b"] = bias
        gelu.initializerOrder += ["w", "b"]
        let network = try Network(graph: gelu, file: "mlp.onnx")
        #expect(network.fusedChains.map(\.opType) == ["MatMul+Add+Gelu"])
        let count = Tensor.count(shape)
        let input = Tensor(shape: shape, elements: ParallelKernelTests.values(count, seed: 83).map { $0 * 3 })
        let fused = try #require(try network.run(["input": input])["y"]?.floats)
        // The linear layer alone, as its own fused chain.
        var alone = gelu
        alone.nodes = Array(gelu.nodes.prefix(2))
        alone.outputs = ["x"]
        let linearNetwork = try Network(graph: alone, file: "linear.onnx")
        #expect(linearNetwork.fusedChains.map(\.opType) == ["MatMul+Add"])
        let linear = try #require(try linearNetwork.run(["input": input])["x"]?.floats)
        var expected = linear
        VectorMath.gelu(&expected, linear, linear.count)
        #expect(fused.map(\.bitPattern) == expected.map(\.bitPattern))
        let stepwise = try #require(try network.run(["input": input], keeping: ["x"])["y"]?.floats)
        for (a, b) in zip(fused, stepwise) { #expect(abs(a - b) <= 1e-5 * Swift.max(abs(a), 1)) }
    }

    // MARK: - MatMul and bias

    /// `y = x · W + b`, with `W` (`k × 3`) an initializer and `b` a `Constant` node (or an
    /// initializer of another shape when `biasShape` is given).
    private static func linearGraph(k: Int, biasShape: [Int] = [3], biasFirst: Bool = true) -> Graph {
        let weights = Tensor(shape: [k, 3], elements: (0..<(3 * k)).map { Float($0 % 7) / 7 - 0.4 })
        let bias = Tensor(shape: biasShape, elements: (0..<Tensor.count(biasShape)).map { Float($0) + 0.25 })
        let nodes = [
            Node(name: "b", opType: "Constant", inputs: [], outputs: ["bias"], attributes: ["value": .tensor(bias)]),
            Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["product"]),
            Node(name: "add", opType: "Add", inputs: biasFirst ? ["bias", "product"] : ["product", "bias"], outputs: ["y"]),
        ]
        return Graph(inputs: [Graph.Input(name: "x", dataType: nil, shape: nil)], outputs: ["y"], initializers: ["w": weights],
                     initializerOrder: ["w"], nodes: nodes, opsets: ["": 17])
    }

    @Test(arguments: [([2, 5, 4], true), ([4], false), ([3, 0], true)] as [([Int], Bool)])
    func productAndBiasRunAsOneProduct(shape: [Int], biasFirst: Bool) throws {
        let k = shape.last!
        let network = try Network(graph: Self.linearGraph(k: k, biasFirst: biasFirst), file: "linear.onnx")
        #expect(network.fusedChains.map(\.opType) == ["MatMul+Add"])
        let count = Tensor.count(shape)
        let x = Tensor(shape: shape, elements: (0..<count).map { Float(($0 * 5) % 11) / 3 - 1.5 })
        let fused = try #require(try network.run(["x": x])["y"])
        let stepwise = try #require(try network.run(["x": x], keeping: ["product"])["y"])
        #expect(fused.shape == Array(shape.dropLast()) + [3])
        #expect(stepwise.shape == fused.shape)
        let w = try #require(network.graph.initializers["w"]?.floats), xs = try #require(x.floats)
        let a = try #require(fused.floats), b = try #require(stepwise.floats)
        for row in 0..<(fused.count / 3) {
            for j in 0..<3 {
                var exact = Double(j) + 0.25
                for i in 0..<k { exact += Double(xs[row * k + i]) * Double(w[i * 3 + j]) }
                #expect(abs(Double(a[row * 3 + j]) - exact) <= 1e-5, "fused [\(row), \(j)] \(a[row * 3 + j]), exactly \(exact)")
                #expect(abs(Double(a[row * 3 + j]) - Double(b[row * 3 + j])) <= 1e-5)
            }
        }
    }

    /// `y = s + (x · W + b)` with `s` an input (a residual connection): one chain, with the
    /// bits of the product and the Add run apart, for shapes on one thread, split by rows
    /// and by columns; a residual that broadcasts goes through the Add's operator.
    @Test(arguments: [([2, 5, 6], 37, false), ([1, 300, 120], 37, false), ([1, 30, 300], 400, false), ([2, 5, 6], 37, true)]
          as [([Int], Int, Bool)])
    func aResidualAddRunsInTheProduct(shape: [Int], n: Int, broadcast: Bool) throws {
        let k = shape.last!
        let weights = Tensor(shape: [k, n], elements: ParallelKernelTests.values(k * n, seed: 91))
        let bias = Tensor(shape: [n], elements: ParallelKernelTests.values(n, seed: 92))
        let nodes = [Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["product"]),
                     Node(name: "add", opType: "Add", inputs: ["product", "b"], outputs: ["linear"]),
                     Node(name: "residual", opType: "Add", inputs: ["s", "linear"], outputs: ["y"])]
        let graph = Graph(inputs: [Graph.Input(name: "x", dataType: .float32, shape: nil), Graph.Input(name: "s", dataType: .float32, shape: nil)],
                          outputs: ["y"], initializers: ["w": weights, "b": bias], initializerOrder: ["w", "b"], nodes: nodes,
                          opsets: ["": 17])
        let network = try Network(graph: graph, file: "residual.onnx")
        #expect(network.fusedChains.map(\.opType) == ["MatMul+Add+Add"])
        let outShape = Array(shape.dropLast()) + [n]
        let sShape = broadcast ? [n] : outShape
        let x = Tensor(shape: shape, elements: ParallelKernelTests.values(Tensor.count(shape), seed: 93))
        let s = Tensor(shape: sShape, elements: ParallelKernelTests.values(Tensor.count(sShape), seed: 94).map { $0 * 100 })
        let fused = try #require(try network.run(["x": x, "s": s])["y"])
        #expect(fused.shape == outShape)
        let kept = try network.run(["x": x, "s": s], keeping: ["linear"])
        // The linear layer's own chain gives "linear"; the Add after it, node by node.
        let linear = try #require(kept["linear"]?.floats), residual = try #require(s.floats)
        let expected = linear.indices.map { linear[$0] + residual[broadcast ? $0 % n : $0] }
        #expect(try #require(fused.floats).map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(kept["y"]?.floats.map { $0.map(\.bitPattern) } == expected.map(\.bitPattern))
    }

    @Test func aBiasThatIsNotOneRowIsLeftAlone() throws {
        let network = try Network(graph: Self.linearGraph(k: 4, biasShape: [2, 3]), file: "linear.onnx")
        #expect(network.fusedChains.isEmpty)
        let y = try #require(try network.run(["x": Tensor(shape: [2, 4], elements: [Float](repeating: 0, count: 8))])["y"])
        #expect(y.floats == [0.25, 1.25, 2.25, 3.25, 4.25, 5.25])
    }

    @Test func aFloat64InputGetsTheMatMulsError() throws {
        let network = try Network(graph: Self.linearGraph(k: 2), file: "linear.onnx")
        #expect(throws: NetworkError.self) { try network.run(["x": Tensor(shape: [1, 2], elements: [1.0, 2.0])]) }
    }

    /// `Conv → Relu` with constant weights and bias: fused when the `Relu` alone reads the
    /// convolution, giving the bits of the two nodes run one by one (NaN and −0 included),
    /// for every path a convolution may take (depthwise, Winograd, phase planes, unrolled);
    /// not fused when another node reads the convolution or the weights are an input.
    @Test func rectifiedConvolutionsAreFusedAndExact() throws {
        func graph(channels: Int, filters: Int, group: Int = 1, stride: Int, weightInput: Bool = false,
                   extraReader: Bool = false) -> Graph {
            let w = ParallelKernelTests.values(filters * channels / group * 9, seed: 60)
            let b = ParallelKernelTests.values(filters, seed: 61)
            var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                              attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]),
                                           "strides": .ints([stride, stride]), "group": .int(group)]),
                         Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["y"])]
            var outputs = ["y"]
            if extraReader {
                nodes.append(Node(name: "neg", opType: "Neg", inputs: ["c"], outputs: ["negated"]))
                outputs.append("negated")
            }
            var inputs = [Graph.Input(name: "x", dataType: .float32, shape: nil)]
            var initializers = ["w": Tensor(shape: [filters, channels / group, 3, 3], elements: w),
                                "b": Tensor(shape: [filters], elements: b)]
            if weightInput {
                inputs.append(Graph.Input(name: "w", dataType: .float32, shape: nil))
                initializers["w"] = nil
            }
            return Graph(inputs: inputs, outputs: outputs, initializers: initializers,
                         initializerOrder: initializers.keys.sorted(), nodes: nodes, opsets: ["": 17])
        }
        for (channels, filters, group, stride) in [(16, 16, 16, 1), (32, 32, 1, 1), (8, 24, 1, 2), (3, 5, 1, 1)] {
            let network = try Network(graph: graph(channels: channels, filters: filters, group: group, stride: stride),
                                      file: "conv.onnx")
            #expect(network.fusedChains.map(\.opType) == ["Conv+Relu"])
            var x = ParallelKernelTests.values(2 * channels * 20 * 20, seed: 62)
            x[5] = .nan
            let input = Tensor(shape: [2, channels, 20, 20], elements: x)
            let fused = try #require(try network.run(["x": input])["y"]?.floats)
            let stepwise = try #require(try network.run(["x": input], keeping: ["c"])["y"]?.floats)
            #expect(fused.map(\.bitPattern) == stepwise.map(\.bitPattern), "\(channels) → \(filters), group \(group)")
            #expect(fused.contains { $0.isNaN } && fused.contains { $0 == 0 })
        }
        #expect(try Network(graph: graph(channels: 8, filters: 8, stride: 1, extraReader: true), file: "conv.onnx")
            .fusedChains.isEmpty)
        #expect(try Network(graph: graph(channels: 8, filters: 8, stride: 1, weightInput: true), file: "conv.onnx")
            .fusedChains.isEmpty)
    }

    /// `Conv → Add → Relu` at a residual block's end: fused when the Add's other operand is
    /// computed before the convolution, giving the three nodes' bits; an operand that
    /// broadcasts runs through the Add and Relu operators inside the chain, with their bits
    /// too; an operand computed after the convolution, or a constant, leaves the nodes alone.
    @Test func residualBlockEndsAreFusedAndExact() throws {
        let (channels, size) = (16, 12)
        func graph(residual: String, extraInput: [Int]? = nil, residualAfter: Bool = false) -> Graph {
            var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                              attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
                         Node(name: "add", opType: "Add", inputs: [residual, "c"], outputs: ["sum"]),
                         Node(name: "relu", opType: "Relu", inputs: ["sum"], outputs: ["y"])]
            if residualAfter { nodes.insert(Node(name: "neg", opType: "Neg", inputs: ["x"], outputs: ["late"]), at: 1) }
            var inputs = [Graph.Input(name: "x", dataType: .float32, shape: nil)]
            if extraInput != nil { inputs.append(Graph.Input(name: "s", dataType: .float32, shape: nil)) }
            let initializers = ["w": Tensor(shape: [channels, channels, 3, 3],
                                            elements: ParallelKernelTests.values(channels * channels * 9, seed: 63)),
                                "b": Tensor(shape: [channels], elements: ParallelKernelTests.values(channels, seed: 64)),
                                "k": Tensor(shape: [1, channels, 1, 1], elements: ParallelKernelTests.values(channels, seed: 65))]
            return Graph(inputs: inputs, outputs: ["y"], initializers: initializers,
                         initializerOrder: initializers.keys.sorted(), nodes: nodes, opsets: ["": 17])
        }
        let x = Tensor(shape: [2, channels, size, size], elements: ParallelKernelTests.values(2 * channels * size * size, seed: 66))
        let s = Tensor(shape: [1, channels, 1, 1], elements: ParallelKernelTests.values(channels, seed: 67))
        for (residual, extra) in [("x", nil), ("s", [1, channels, 1, 1])] as [(String, [Int]?)] {
            let network = try Network(graph: graph(residual: residual, extraInput: extra), file: "block.onnx")
            #expect(network.fusedChains.map(\.opType) == ["Conv+Add+Relu"])
            let inputs = extra == nil ? ["x": x] : ["x": x, "s": s]
            let fused = try #require(try network.run(inputs)["y"]?.floats)
            let stepwise = try #require(try network.run(inputs, keeping: ["c", "sum"])["y"]?.floats)
            #expect(fused.map(\.bitPattern) == stepwise.map(\.bitPattern), "residual \(residual)")
            #expect(fused.contains { $0 == 0 } && fused.contains { $0 > 0 })
        }
        #expect(try Network(graph: graph(residual: "late", residualAfter: true), file: "block.onnx").fusedChains.isEmpty)
        #expect(try Network(graph: graph(residual: "k"), file: "block.onnx").fusedChains.isEmpty)
    }

    // MARK: - Attention

    /// Attention as timm-style ViT exports write it, from a query-key-value product `qkv`
    /// of `[B, N, 3·H·D]`; `roles` are the Gather indices of the queries, keys and values.
    private static func attentionGraph(_ dims: [Int], roles: [Int] = [0, 1, 2], factorFirst: Bool = false,
                                       softmaxAxis: Int = -1, scoresOut: Bool = false) -> Graph {
        func int64(_ values: [Int], shape: [Int]) -> Tensor { Tensor(shape: shape, elements: values.map(Int64.init)) }
        let names = ["q", "k", "v"]
        var nodes = [Node(name: "reshape", opType: "Reshape", inputs: ["qkv", "shape"], outputs: ["r"]),
                     Node(name: "split", opType: "Transpose", inputs: ["r"], outputs: ["t"], attributes: ["perm": .ints([2, 0, 3, 1, 4])])]
        for (role, name) in zip(roles, names).sorted(by: { $0.0 < $1.0 }) {
            nodes.append(Node(name: "gather_\(name)", opType: "Gather", inputs: ["t", "i\(role)"], outputs: [name], attributes: ["axis": .int(0)]))
        }
        nodes += [Node(name: "kt", opType: "Transpose", inputs: ["k"], outputs: ["kt"], attributes: ["perm": .ints([0, 1, 3, 2])]),
                  Node(name: "scores", opType: "MatMul", inputs: ["q", "kt"], outputs: ["s"]),
                  Node(name: "scale", opType: "Mul", inputs: factorFirst ? ["factor", "s"] : ["s", "factor"], outputs: ["ss"]),
                  Node(name: "softmax", opType: "Softmax", inputs: ["ss"], outputs: ["p"], attributes: ["axis": .int(softmaxAxis)]),
                  Node(name: "mix", opType: "MatMul", inputs: ["p", "v"], outputs: ["o"]),
                  Node(name: "merge", opType: "Transpose", inputs: ["o"], outputs: ["y"], attributes: ["perm": .ints([0, 2, 1, 3])])]
        let initializers = ["shape": int64(dims, shape: [5]), "i0": int64([0], shape: []), "i1": int64([1], shape: []),
                            "i2": int64([2], shape: []), "factor": Tensor(shape: [], elements: [Float(1 / Double(dims[4]).squareRoot())])]
        return Graph(inputs: [Graph.Input(name: "qkv", dataType: nil, shape: nil)], outputs: scoresOut ? ["y", "s"] : ["y"],
                     initializers: initializers, initializerOrder: initializers.keys.sorted(), nodes: nodes, opsets: ["": 17])
    }

    /// Fused, the chain has the bits of its nodes run one by one (the queries, keys and values
    /// in any order of the product's thirds), and agrees with softmax(QKᵀ/√D)V in double
    /// precision; small heads run on one thread, ViT-Tiny's (3 heads of 64 over 197 tokens)
    /// in bands of query rows on every thread.
    @Test(arguments: [([2, 13, 3, 2, 8], [0, 1, 2], false), ([1, 197, 3, 3, 64], [2, 0, 1], true),
                      ([3, 30, 3, 4, 16], [1, 2, 0], false)] as [([Int], [Int], Bool)])
    func attentionIsFusedWithTheBitsOfItsNodes(dims: [Int], roles: [Int], factorFirst: Bool) throws {
        let network = try Network(graph: Self.attentionGraph(dims, roles: roles, factorFirst: factorFirst), file: "attention.onnx")
        #expect(network.fusedChains.map(\.opType) == ["Attention"])
        let (batch, n, heads, d) = (dims[0], dims[1], dims[3], dims[4])
        let width = heads * d
        let values = ParallelKernelTests.values(batch * n * 3 * width, seed: 71)
        let qkv = Tensor(shape: [batch, n, 3 * width], elements: values)
        let fused = try #require(try network.run(["qkv": qkv])["y"])
        let stepwise = try #require(try network.run(["qkv": qkv], keeping: ["s"])["y"])
        #expect(fused.shape == [batch, n, heads, d])
        let a = try #require(fused.floats), b = try #require(stepwise.floats)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        func at(_ b: Int, _ token: Int, _ third: Int, _ h: Int, _ i: Int) -> Double {
            Double(values[(b * n + token) * 3 * width + third * width + h * d + i])
        }
        var worst = 0.0
        for image in 0..<batch {
            for h in 0..<heads {
                for row in 0..<n {
                    var scores = (0..<n).map { column in
                        (0..<d).reduce(0.0) { $0 + at(image, row, roles[0], h, $1) * at(image, column, roles[1], h, $1) } / Double(d).squareRoot()
                    }
                    let largest = scores.max()!
                    scores = scores.map { Foundation.exp($0 - largest) }
                    let sum = scores.reduce(0, +)
                    for i in 0..<d {
                        let exact = (0..<n).reduce(0.0) { $0 + scores[$1] / sum * at(image, $1, roles[2], h, i) }
                        worst = max(worst, abs(Double(a[((image * n + row) * heads + h) * d + i]) - exact))
                    }
                }
            }
        }
        #expect(worst < 1e-5, "largest difference from double precision: \(worst)")
    }

    /// Not the chain: another softmax axis, or a tensor inside it that the graph returns.
    @Test func attentionThatIsNotTheChainIsLeftAlone() throws {
        let dims = [1, 5, 3, 2, 4]
        #expect(try Network(graph: Self.attentionGraph(dims, softmaxAxis: 2), file: "attention.onnx").fusedChains.isEmpty)
        #expect(try Network(graph: Self.attentionGraph(dims, scoresOut: true), file: "attention.onnx").fusedChains.isEmpty)
    }

    /// A float64 product runs the nodes' own operators inside the chain.
    @Test func float64AttentionRunsTheNodes() throws {
        let dims = [2, 7, 3, 2, 4]
        var graph = Self.attentionGraph(dims)
        graph.initializers["factor"] = Tensor(shape: [], elements: [0.5])
        let network = try Network(graph: graph, file: "attention.onnx")
        #expect(network.fusedChains.map(\.opType) == ["Attention"])
        let qkv = Tensor(shape: [2, 7, 24], elements: ParallelKernelTests.values(336, seed: 72).map(Double.init))
        let fused = try #require(try network.run(["qkv": qkv])["y"]?.elements(as: Double.self))
        let stepwise = try #require(try network.run(["qkv": qkv], keeping: ["s"])["y"]?.elements(as: Double.self))
        #expect(fused == stepwise)
    }
}

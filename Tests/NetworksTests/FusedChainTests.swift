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
        #expect(network.fusedChains.count == erfs)
    }
}

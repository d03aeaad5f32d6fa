import Testing
@testable import Networks

/// Nodes that read constants alone run once, when the network is compiled; a run that asks
/// for one of their outputs runs them again, so that hooks see and replace them.
struct ConstantFoldingTests {
    /// `y = x + (c · 2)`, `c` a `Constant` node and 2 an initializer, plus an `Identity` of
    /// the initializer; `extra` nodes come after.
    private static func graph(_ extra: [Node] = [], outputs: [String] = ["y"]) -> Graph {
        let nodes = [
            Node(name: "c", opType: "Constant", inputs: [], outputs: ["c"],
                 attributes: ["value": .tensor(Tensor(shape: [3], elements: [Float(1), 2, 3]))]),
            Node(name: "double", opType: "Mul", inputs: ["c", "two"], outputs: ["c2"]),
            Node(name: "alias", opType: "Identity", inputs: ["two"], outputs: ["twoAgain"]),
            Node(name: "add", opType: "Add", inputs: ["x", "c2"], outputs: ["y"]),
        ] + extra
        return Graph(inputs: [Graph.Input(name: "x", dataType: .float32, shape: nil)], outputs: outputs,
                     initializers: ["two": Tensor(shape: [], elements: [Float(2)])], initializerOrder: ["two"],
                     nodes: nodes, opsets: ["": 17])
    }

    private static let x = Tensor(shape: [3], elements: [Float(10), 20, 30])

    @Test func constantNodesAreComputedOnce() throws {
        let network = try Network(graph: Self.graph(), file: "fold.onnx")
        #expect(Set(network.foldedTensors) == ["c", "c2", "twoAgain"])
        #expect(network.foldedNodes == [0, 1, 2])
        #expect(try network.run(["x": Self.x])["y"]?.floats == [12, 24, 36])
        // Kept, a folded tensor is what its node computes.
        let kept = try network.run(["x": Self.x], keeping: ["c2", "twoAgain"])
        #expect(kept["c2"]?.floats == [2, 4, 6])
        #expect(kept["twoAgain"]?.floats == [2])
    }

    @Test func aHookOnAFoldedTensorSeesAndReplacesIt() throws {
        let network = try Network(graph: Self.graph(), file: "fold.onnx")
        var seen: [String] = []
        let y = try network.run(["x": Self.x], intercepting: ["c"]) { name, tensor in
            seen.append(name)
            #expect(tensor.floats == [1, 2, 3])
            return Tensor(shape: [3], elements: [Float(100), 200, 300])
        }["y"]
        #expect(seen == ["c"])
        // The replacement reaches the nodes after it, folded or not.
        #expect(y?.floats == [210, 420, 630])
        // And the next plain run is folded again.
        #expect(try network.run(["x": Self.x])["y"]?.floats == [12, 24, 36])
    }

    /// An input with an initializer's name is an input with a default value: what reads it
    /// is not folded.
    @Test func nodesOfAnInputWithADefaultAreNotFolded() throws {
        var graph = Self.graph()
        graph.inputs.append(Graph.Input(name: "two", dataType: .float32, shape: nil))
        let network = try Network(graph: graph, file: "fold.onnx")
        #expect(Set(network.foldedTensors) == ["c"])
        let three = Tensor(shape: [], elements: [Float(3)])
        #expect(try network.run(["x": Self.x, "two": three])["y"]?.floats == [13, 26, 39])
    }

    /// A node that fails on its constants is left to fail at run time with its error.
    @Test func aFailingConstantNodeFailsAtRunTime() throws {
        let shape = Node(name: "shape", opType: "Constant", inputs: [], outputs: ["shape"],
                         attributes: ["value": .tensor(Tensor(shape: [1], elements: [Int64(4)]))])
        let reshape = Node(name: "bad", opType: "Reshape", inputs: ["c", "shape"], outputs: ["r"])
        let network = try Network(graph: Self.graph([shape, reshape], outputs: ["y", "r"]), file: "fold.onnx")
        #expect(!network.foldedTensors.contains("r"))
        #expect(throws: NetworkError.self) { try network.run(["x": Self.x]) }
    }
}

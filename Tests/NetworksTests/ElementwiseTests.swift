import Foundation
import Testing
@testable import Networks

@Suite struct ElementwiseTests {
    /// Runs one node of `opType` on `inputs` through a ``Network`` built in code.
    private func runNode(
        _ opType: String, _ inputs: [Tensor], attributes: [String: Attribute] = [:],
        opset: Int = 17, outputs: Int = 1, name: String = "node"
    ) throws -> [Tensor] {
        let inputNames = inputs.indices.map { "x\($0)" }
        let outputNames = (0..<outputs).map { "y\($0)" }
        let graph = Graph(
            inputs: inputNames.map { Graph.Input(name: $0, dataType: nil, shape: nil) },
            outputs: outputNames, initializers: [:], initializerOrder: [],
            nodes: [Node(name: name, opType: opType, inputs: inputNames, outputs: outputNames, attributes: attributes)],
            opsets: ["": opset])
        let network = try Network(graph: graph, file: "test.onnx")
        let results = try network.run(Dictionary(uniqueKeysWithValues: zip(inputNames, inputs)))
        return try outputNames.map { name in try #require(results[name]) }
    }

    @Test func handCheckedValues() throws {
        let x = Tensor(shape: [4], elements: [Float(-2), -0.5, 0, 1])
        #expect(try runNode("Relu", [x])[0].floats == [0, 0, 0, 1])
        #expect(try runNode("LeakyRelu", [x], attributes: ["alpha": .float(0.5)])[0].floats == [-1, -0.25, 0, 1])
        let sigmoid = try #require(try runNode("Sigmoid", [x])[0].floats)
        #expect(sigmoid[2] == 0.5)
        #expect(abs(sigmoid[3] - 0.7310586) < 1e-6)
        // Φ(1) = 0.8413447460685429.
        let gelu = try #require(try runNode("Gelu", [x], opset: 20)[0].floats)
        #expect(abs(gelu[3] - 0.8413447) < 1e-6)
        let halves = Tensor(shape: [5], elements: [Float(0.5), 1.5, 2.5, -0.5, -2.5])
        #expect(try runNode("Round", [halves])[0].floats == [0, 2, 2, -0, -2])
        let sum = try runNode("Add", [Tensor(shape: [3], elements: [Int64(1), 2, 3]), Tensor(shape: [3], elements: [Int64(10), 20, 30])])
        #expect(sum[0].elements(as: Int64.self) == [11, 22, 33])
    }

    @Test func broadcastingThreeByFourAgainstColumn() throws {
        let a = Tensor(shape: [2, 3, 4], elements: (0..<24).map(Float.init))
        let b = Tensor(shape: [3, 1], elements: [Float(100), 200, 300])
        let y = try runNode("Add", [a, b])[0]
        #expect(y.shape == [2, 3, 4])
        let values = try #require(y.floats)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            #expect(values[(i * 3 + j) * 4 + k] == Float((i * 3 + j) * 4 + k) + Float(100 * (j + 1)))
        } } }
    }

    /// The run-based broadcasting loop against the index maps, on shapes with every mix of
    /// stretched, kept and size-1 dimensions.
    @Test func broadcastRunsAgreeWithIndexMaps() throws {
        let shapes: [([Int], [Int])] = [
            ([2, 3, 4], [4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [1, 3, 1]), ([5], [2, 1]), ([1], [2, 3]),
            ([2, 3, 1, 5], [3, 4, 1]), ([4, 1, 1, 3], [1, 2, 2, 1]), ([], [3]), ([1, 1], [1, 1, 1]),
            ([2, 0, 3], [1, 3]), ([3, 1, 2, 1, 4], [1, 5, 1, 3, 4]),
        ]
        for (aShape, bShape) in shapes {
            let a = (0..<Tensor.count(aShape)).map { Int($0) }
            let b = (0..<Tensor.count(bShape)).map { 1000 * Int($0) }
            let (result, shape) = try ElementLoops.binary(a, aShape, b, bShape) { $0 + $1 }
            let expectedShape = try Broadcast.shape([aShape, bShape])
            let aMap = Broadcast.indexMap(of: aShape, in: expectedShape)
            let bMap = Broadcast.indexMap(of: bShape, in: expectedShape)
            #expect(shape == expectedShape)
            #expect(result == aMap.indices.map { a[aMap[$0]] + b[bMap[$0]] }, "\(aShape) + \(bShape)")
        }
    }

    @Test func integerDivisionTruncatesTowardZero() throws {
        let a = Tensor(shape: [5], elements: [Int32(7), -7, 7, -7, 5])
        let b = Tensor(shape: [5], elements: [Int32(2), 2, -2, -2, 0])
        // Division by zero is undefined in ONNX; the runtime gives 0 rather than trapping.
        #expect(try runNode("Div", [a, b])[0].elements(as: Int32.self) == [3, -3, -3, 3, 0])
        // Mod takes the divisor's sign; with fmod = 1 the dividend's, as C's `%`.
        #expect(try runNode("Mod", [a, b])[0].elements(as: Int32.self) == [1, 1, -1, -1, 0])
        #expect(try runNode("Mod", [a, b], attributes: ["fmod": .int(1)])[0].elements(as: Int32.self) == [1, -1, 1, -1, 0])
        let minimum = Tensor(shape: [1], elements: [Int8.min])
        #expect(try runNode("Div", [minimum, Tensor(shape: [1], elements: [Int8(-1)])])[0].elements(as: Int8.self) == [Int8.min])
    }

    @Test func castTruncatesAndSaturates() throws {
        let x = Tensor(shape: [6], elements: [Float(-1.7), 2.9, 300, -300, .nan, 0])
        let toInt8 = try runNode("Cast", [x], attributes: ["to": .int(3)])[0]
        #expect(toInt8.elements(as: Int8.self) == [-1, 2, 127, -128, 0, 0])
        let toBool = try runNode("Cast", [x], attributes: ["to": .int(9)])[0]
        #expect(toBool.elements(as: Bool.self) == [true, true, true, true, true, false])
        let wide = Tensor(shape: [2], elements: [Int64(300), -1])
        #expect(try runNode("Cast", [wide], attributes: ["to": .int(2)])[0].elements(as: UInt8.self) == [44, 255])
    }

    @Test func softmaxOfHugeLogitsSumsToOne() throws {
        let x = Tensor(shape: [2, 3], elements: [Float(1000), 1001, 1002, -1e30, 0, 1e30])
        let y = try #require(try runNode("Softmax", [x], opset: 13)[0].floats)
        #expect(y.allSatisfy { $0.isFinite })
        #expect(abs(y[0..<3].reduce(0, +) - 1) < 1e-6)
        #expect(abs(y[3..<6].reduce(0, +) - 1) < 1e-6)
        #expect(abs(y[2] - 0.66524096) < 1e-6)
        let logY = try #require(try runNode("LogSoftmax", [x], opset: 13)[0].floats)
        #expect(abs(logY[2] - log(0.66524096)) < 1e-5)
    }

    @Test func softmaxBeforeOpset13NormalisesTrailingAxesTogether() throws {
        let x = Tensor(shape: [2, 2, 2], elements: (0..<8).map(Float.init))
        let legacy = try #require(try runNode("Softmax", [x], attributes: ["axis": .int(1)], opset: 11)[0].floats)
        #expect(abs(legacy[0..<4].reduce(0, +) - 1) < 1e-6)
        let alongAxis = try #require(try runNode("Softmax", [x], attributes: ["axis": .int(1)], opset: 13)[0].floats)
        #expect(abs(alongAxis[0] + alongAxis[2] - 1) < 1e-6)
    }

    @Test func reductionShapesWithAndWithoutKeepdims() throws {
        let x = Tensor(shape: [2, 3, 4], elements: (0..<24).map(Float.init))
        let axes = Tensor(shape: [2], elements: [Int64(0), -1])
        let kept = try runNode("ReduceSum", [x, axes])[0]
        #expect(kept.shape == [1, 3, 1])
        // Row j sums i·12 + j·4 + k over i < 2 and k < 4.
        #expect(kept.floats == [60, 92, 124])
        let dropped = try runNode("ReduceSum", [x, axes], attributes: ["keepdims": .int(0)])[0]
        #expect(dropped.shape == [3])
        // Axes are an attribute before opset 18 for ReduceMean, an input from 18.
        let meanOld = try runNode("ReduceMean", [x], attributes: ["axes": .ints([1])], opset: 13)[0]
        let meanNew = try runNode("ReduceMean", [x, Tensor(shape: [1], elements: [Int64(1)])], opset: 18)[0]
        #expect(meanOld.shape == [2, 1, 4] && meanNew.shape == [2, 1, 4])
        #expect(meanOld.floats == meanNew.floats)
        #expect(meanOld.floats?.first == 4)
        let all = try runNode("ReduceMax", [x], attributes: ["keepdims": .int(0)], opset: 18)[0]
        #expect(all.shape == [] && all.floats == [23])
        let argmax = try runNode("ArgMax", [x], attributes: ["axis": .int(1), "keepdims": .int(0)])[0]
        #expect(argmax.shape == [2, 4] && argmax.elements(as: Int64.self) == Array(repeating: 2, count: 8))
    }

    @Test func mismatchedBroadcastNamesTheNode() throws {
        let a = Tensor(shape: [2, 3], elements: [Float](repeating: 1, count: 6))
        let b = Tensor(shape: [4], elements: [Float](repeating: 1, count: 4))
        #expect {
            _ = try runNode("Add", [a, b], name: "residual_add")
        } throws: { error in
            guard case let NetworkError.nodeFailed(file, node, opType, problem) = error else { return false }
            return file == "test.onnx" && node == "residual_add" && opType == "Add" && problem.contains("[2, 3]")
        }
    }

    @Test func dropoutAtInferenceIsIdentityWithATrueMask() throws {
        let x = Tensor(shape: [2, 2], elements: [Float(1), -2, 3, -4])
        let outputs = try runNode("Dropout", [x, Tensor(scalar: Float(0.3))], opset: 13, outputs: 2)
        #expect(outputs[0].floats == x.floats)
        #expect(outputs[1].elements(as: Bool.self) == [true, true, true, true])
        // Training mode would drop at random: refused rather than silently skipped.
        #expect(throws: NetworkError.self) {
            _ = try runNode("Dropout", [x, Tensor(scalar: Float(0.3)), Tensor(scalar: true)], opset: 13)
        }
    }

    @Test func castToFloat16IsRefusedAtLoad() throws {
        let x = Tensor(shape: [1], elements: [Float(1)])
        #expect {
            _ = try runNode("Cast", [x], attributes: ["to": .int(10)], name: "to_half")
        } throws: { error in
            guard case let NetworkError.unsupportedOperator(_, node, _, problem) = error else { return false }
            return node == "to_half" && problem.contains("float16")
        }
    }
}

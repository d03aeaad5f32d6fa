import Foundation
import Testing
@testable import Networks

/// Data-movement operators run as one-node graphs through ``Network``. Expected values are
/// worked by hand or taken from the examples in ONNX's operator documentation.
@Suite struct ShapeOperatorTests {
    /// Runs `opType` on `inputs` (named `x0`, `x1`, …) and returns its outputs.
    static func run(_ opType: String, _ inputs: [Tensor], attributes: [String: Attribute] = [:],
                    opset: Int = 17, outputs: Int = 1, name: String = "node") throws -> [Tensor] {
        let inputNames = inputs.indices.map { "x\($0)" }
        let outputNames = (0..<outputs).map { "y\($0)" }
        let graph = Graph(
            inputs: inputNames.map { Graph.Input(name: $0, dataType: nil, shape: nil) }, outputs: outputNames,
            initializers: [:], initializerOrder: [],
            nodes: [Node(name: name, opType: opType, inputs: inputNames, outputs: outputNames, attributes: attributes)],
            opsets: ["": opset])
        let network = try Network(graph: graph, file: "test.onnx")
        let results = try network.run(Dictionary(uniqueKeysWithValues: zip(inputNames, inputs)))
        return try outputNames.map { name in try #require(results[name]) }
    }

    static func int64(_ values: [Int], shape: [Int]? = nil) -> Tensor {
        Tensor(shape: shape ?? [values.count], elements: values.map(Int64.init))
    }

    static func floats(_ values: [Float], shape: [Int]) -> Tensor { Tensor(shape: shape, elements: values) }

    /// Same shape, and every element within `tolerance`.
    static func expectClose(_ actual: Tensor, _ expected: [Float], shape: [Int], tolerance: Float = 1e-6,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == shape, sourceLocation: sourceLocation)
        guard actual.shape == shape, let values = actual.floats else { return }
        for (index, (a, e)) in zip(values, expected).enumerated() where abs(a - e) > tolerance {
            Issue.record("element \(index) is \(a), expected \(e)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Reshape

    @Test func reshapeCopiesZeroAndInfersMinusOne() throws {
        let data = Self.floats((0..<24).map(Float.init), shape: [2, 3, 4])
        let flat = try Self.run("Reshape", [data, Self.int64([0, -1])])[0]
        #expect(flat.shape == [2, 12])
        #expect(flat.floats == data.floats)
        let swapped = try Self.run("Reshape", [data, Self.int64([4, 0, -1])])[0]
        #expect(swapped.shape == [4, 3, 2])
    }

    @Test func reshapeWithAllowZeroKeepsZeroDimensions() throws {
        let empty = Self.floats([], shape: [0, 3])
        let result = try Self.run("Reshape", [empty, Self.int64([3, 0])], attributes: ["allowzero": .int(1)])[0]
        #expect(result.shape == [3, 0])
    }

    @Test func reshapeToAnIncompatibleShapeFailsNamingTheNodeAndBothShapes() {
        let data = Self.floats([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect {
            _ = try Self.run("Reshape", [data, Self.int64([4, 2])], name: "head/reshape")
        } throws: { error in
            guard case let NetworkError.nodeFailed(file, node, opType, problem) = error else { return false }
            return file == "test.onnx" && node == "head/reshape" && opType == "Reshape"
                && problem.contains("[2, 3]") && problem.contains("[4, 2]")
        }
    }

    // MARK: - Slice, Gather, Pad

    @Test func sliceWithNegativeStepsRunsBackwards() throws {
        // [[1, 2, 3, 4], [5, 6, 7, 8]]: rows from the last going back, every second column
        // from column 3 down to the start (an end of −2⁶³ clamps to "before index 0").
        let data = Self.floats([1, 2, 3, 4, 5, 6, 7, 8], shape: [2, 4])
        let result = try Self.run("Slice", [
            data, Self.int64([-1, 3]), Self.int64([-3, Int(Int64.min)]), Self.int64([0, 1]), Self.int64([-1, -2]),
        ])[0]
        Self.expectClose(result, [8, 6, 4, 2], shape: [2, 2])
    }

    @Test func gatherCountsNegativeIndicesFromTheEnd() throws {
        let data = Self.floats((0..<10).map(Float.init), shape: [10])
        let result = try Self.run("Gather", [data, Self.int64([0, -9, -10])])[0]
        Self.expectClose(result, [0, 1, 0], shape: [3])
    }

    @Test func gatherAlongAnInnerAxisInsertsTheIndexShape() throws {
        // The axis = 1 example of the ONNX Gather documentation, with index 2 written as −1.
        let data = Self.floats([1.0, 1.2, 1.9, 2.3, 3.4, 3.9, 4.5, 5.7, 5.9], shape: [3, 3])
        let result = try Self.run("Gather", [data, Self.int64([0, -1], shape: [1, 2])], attributes: ["axis": .int(1)])[0]
        Self.expectClose(result, [1.0, 1.9, 2.3, 3.9, 4.5, 5.9], shape: [3, 1, 2])
    }

    @Test func gatherOutOfRangeFails() {
        let data = Self.floats([1, 2, 3], shape: [3])
        #expect(throws: NetworkError.self) { _ = try Self.run("Gather", [data, Self.int64([3])]) }
    }

    @Test func padReflectMirrorsWithoutRepeatingTheEdge() throws {
        // The reflect example of the ONNX Pad documentation.
        let data = Self.floats([1.0, 1.2, 2.3, 3.4, 4.5, 5.7], shape: [3, 2])
        let result = try Self.run("Pad", [data, Self.int64([0, 2, 0, 0])], attributes: ["mode": .string("reflect")])[0]
        Self.expectClose(result, [1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7], shape: [3, 4])
        let line = try Self.run("Pad", [Self.floats([1, 2, 3], shape: [3]), Self.int64([2, 2])],
                                attributes: ["mode": .string("reflect")])[0]
        Self.expectClose(line, [3, 2, 1, 2, 3, 2, 1], shape: [7])
    }

    @Test func negativePadsCrop() throws {
        let data = Self.floats([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let result = try Self.run("Pad", [data, Self.int64([0, -1, 0, 1])])[0]
        Self.expectClose(result, [2, 3, 0, 5, 6, 0], shape: [2, 3])
    }

    // MARK: - Element types

    @Test func transposeMovesEveryElementType() throws {
        let bools = Tensor(shape: [2, 3], elements: [true, false, false, true, true, false])
        #expect(try Self.run("Transpose", [bools])[0].elements(as: Bool.self) == [true, true, false, true, false, false])
        let bytes = Tensor(shape: [2, 3], elements: [Int8(1), -2, 3, -4, 5, -6])
        #expect(try Self.run("Transpose", [bytes])[0].elements(as: Int8.self) == [1, -4, -2, 5, 3, -6])
    }

    @Test func splitIntoUnevenPartsLeavesTheLastOneShort() throws {
        let data = Self.int64([1, 2, 3, 4, 5])
        let parts = try Self.run("Split", [data], attributes: ["num_outputs": .int(3)], opset: 18, outputs: 3)
        #expect(parts.map { $0.elements(as: Int64.self) ?? [] } == [[1, 2], [3, 4], [5]])
    }

    // MARK: - Resize

    /// [[1, 2], [3, 4]] is 1 + column + 2·row, so bilinear values are that plane at the
    /// source coordinates (edge-clamped): with half_pixel, output 0…3 along an axis doubled
    /// map to −0.25, 0.25, 0.75, 1.25, read as 0, 0.25, 0.75, 1.
    @Test func bilinearHalfPixelUpsampleOfATwoByTwoImage() throws {
        let image = Self.floats([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let scales = Tensor(shape: [4], elements: [Float(1), 1, 2, 2])
        let empty = Tensor(shape: [0], elements: [Float]())
        let result = try Self.run("Resize", [image, empty, scales], attributes: ["mode": .string("linear")])[0]
        Self.expectClose(result, [
            1.0, 1.25, 1.75, 2.0,
            1.5, 1.75, 2.25, 2.5,
            2.5, 2.75, 3.25, 3.5,
            3.0, 3.25, 3.75, 4.0,
        ], shape: [1, 1, 4, 4])
    }

    @Test func bilinearAlignCornersKeepsTheCorners() throws {
        let image = Self.floats([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let empty = Tensor(shape: [0], elements: [Float]())
        let result = try Self.run("Resize", [image, empty, empty, Self.int64([1, 1, 3, 3])], attributes: [
            "mode": .string("linear"), "coordinate_transformation_mode": .string("align_corners"),
        ])[0]
        Self.expectClose(result, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], shape: [1, 1, 3, 3])
    }

    @Test func nearestUpsampleRepeatsIntegers() throws {
        let image = Tensor(shape: [1, 2], elements: [UInt8(7), 9])
        let empty = Tensor(shape: [0], elements: [Float]())
        let result = try Self.run("Resize", [image, empty, Tensor(shape: [2], elements: [Float(2), 2])])[0]
        #expect(result.shape == [2, 4])
        #expect(result.elements(as: UInt8.self) == [7, 7, 9, 9, 7, 7, 9, 9])
    }

    @Test func unknownResizeModesAreRefusedAtLoadTime() {
        let graph = Graph(
            inputs: [Graph.Input(name: "x", dataType: .float32, shape: nil)], outputs: ["y"],
            initializers: [:], initializerOrder: [],
            nodes: [Node(name: "up", opType: "Resize", inputs: ["x"], outputs: ["y"],
                         attributes: ["mode": .string("lanczos")])],
            opsets: ["": 19])
        #expect {
            _ = try Network(graph: graph, file: "test.onnx")
        } throws: { error in
            guard case let NetworkError.unsupportedOperator(_, node, _, problem) = error else { return false }
            return node == "up" && problem.contains("lanczos")
        }
    }
}

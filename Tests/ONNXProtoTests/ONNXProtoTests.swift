import Foundation
import ONNXProto
import Testing

/// The generated ONNX schema decodes models written by the `onnx` package
/// (Tests/Fixtures/onnx/make_onnx_fixtures.py).
@Suite struct ONNXProtoTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/onnx")

    @Test func decodesGraphNodesAndInitializers() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("tiny_mlp.onnx"))
        let model = try Onnx_ModelProto(serializedBytes: data)
        #expect(model.producerName == "repprobe-fixtures")
        #expect(model.opsetImport.first?.version == 17)
        let graph = model.graph
        #expect(graph.node.map(\.opType) == ["Gemm", "Relu"])
        #expect(graph.node[0].name == "/fc/Gemm")
        #expect(graph.node[0].attribute.first { $0.name == "transB" }?.i == 1)
        #expect(graph.input.map(\.name) == ["x"])
        #expect(graph.output.first?.type.tensorType.shape.dim.map(\.dimValue) == [1, 4])

        // Initializer bytes are little-endian float32 in raw_data; they match NumPy's values.
        let expected = try String(contentsOf: Self.folder.appendingPathComponent("tiny_mlp.expected.txt"), encoding: .utf8)
            .split(separator: "\n").reduce(into: [String: [Float]]()) { table, line in
                let parts = line.split(separator: " ")
                table[String(parts[0])] = parts.dropFirst().compactMap { Float(String($0)) }
            }
        for initializer in graph.initializer {
            #expect(initializer.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue))
            let values = initializer.rawData.withUnsafeBytes { raw in
                (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
            }
            #expect(values == expected[initializer.name], "\(initializer.name)")
        }
        #expect(graph.initializer.map(\.dims) == [[4, 3], [4]])
    }

    @Test func truncatedOrGarbageBytesThrow() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("tiny_mlp.onnx"))
        #expect(throws: (any Error).self) { try Onnx_ModelProto(serializedBytes: data.prefix(data.count / 2)) }
        #expect(throws: (any Error).self) { try Onnx_ModelProto(serializedBytes: Data(repeating: 0xFF, count: 64)) }
    }
}

import Foundation
import Testing
@testable import Networks
import ONNXProto

@Suite struct ONNXImporterTests {
    @Test func modulePathsFromTorchScriptNodeNames() {
        #expect(ONNXImporter.modulePath(fromScopedName: "/layer1/layer1.0/conv1/Conv") == "layer1.0.conv1")
        #expect(ONNXImporter.modulePath(fromScopedName: "/features/features.0/Conv") == "features.0")
        #expect(ONNXImporter.modulePath(fromScopedName: "/fc/Gemm") == "fc")
        #expect(ONNXImporter.modulePath(fromScopedName: "/layer2/layer2.0/downsample/downsample.0/Conv") == "layer2.0.downsample.0")
        #expect(ONNXImporter.modulePath(fromScopedName: "/blocks.0/mlp/mlp.0/Gemm") == "blocks.0.mlp.0")
        #expect(ONNXImporter.modulePath(fromScopedName: "/Flatten") == nil)
        #expect(ONNXImporter.modulePath(fromScopedName: "Conv_3") == nil)
    }

    @Test func pythonListLiterals() {
        #expect(ONNXImporter.pythonStringList("['', 'layer1', 'layer1.0']") == ["", "layer1", "layer1.0"])
        #expect(ONNXImporter.pythonStringList("not a list").isEmpty)
    }

    @Test func garbageIsAnInvalidModelNamingTheFile() {
        #expect {
            _ = try ONNXImporter.decode(Data([0x08, 0x07, 0xFF, 0xFF, 0xFF]), file: "broken.onnx")
        } throws: { error in
            guard case let NetworkError.invalidModel(file, _) = error else { return false }
            return file == "broken.onnx"
        }
    }
}

/// Models that lie about their tensors, built with the generated schema.
@Suite struct HostileModelTests {
    static func model(_ configure: (inout Onnx_GraphProto) -> Void) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        var graph = Onnx_GraphProto()
        var input = Onnx_ValueInfoProto()
        input.name = "x"
        graph.input = [input]
        var output = Onnx_ValueInfoProto()
        output.name = "y"
        graph.output = [output]
        configure(&graph)
        model.graph = graph
        return try model.serializedData()
    }

    static func node(_ op: String, inputs: [String], outputs: [String]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = "/\(op)"
        node.input = inputs
        node.output = outputs
        return node
    }

    @Test func tensorDataShorterThanItsShapeNamesTheTensor() throws {
        let data = try Self.model { graph in
            var weight = Onnx_TensorProto()
            weight.name = "w"
            weight.dims = [4, 4]
            weight.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            weight.rawData = Data(count: 12)
            graph.initializer = [weight]
            graph.node = [Self.node("MatMul", inputs: ["x", "w"], outputs: ["y"])]
        }
        #expect {
            _ = try ONNXImporter.decode(data, file: "short.onnx")
        } throws: { error in
            guard case let NetworkError.invalidModel(file, problem) = error else { return false }
            return file == "short.onnx" && problem.contains("'w'") && problem.contains("[4, 4]")
        }
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocating() throws {
        let data = try Self.model { graph in
            var weight = Onnx_TensorProto()
            weight.name = "huge"
            weight.dims = [1 << 30, 1 << 30]
            weight.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            graph.initializer = [weight]
        }
        #expect(throws: NetworkError.self) { _ = try ONNXImporter.decode(data, file: "huge.onnx") }
    }

    @Test func unsupportedOperatorNamesNodeOperatorAndFile() throws {
        let data = try Self.model { graph in
            graph.node = [Self.node("NonMaxSuppression", inputs: ["x"], outputs: ["y"])]
        }
        let graph = try ONNXImporter.decode(data, file: "nms.onnx")
        #expect {
            _ = try Network(graph: graph, file: "nms.onnx")
        } throws: { error in
            guard case let NetworkError.unsupportedOperator(file, node, opType, _) = error else { return false }
            return file == "nms.onnx" && node == "/NonMaxSuppression" && opType == "NonMaxSuppression"
        }
    }

    @Test func aNodeReadingAnUndefinedTensorIsRefused() throws {
        let data = try Self.model { graph in
            graph.node = [Self.node("Relu", inputs: ["nowhere"], outputs: ["y"])]
        }
        #expect(throws: NetworkError.self) { _ = try Network(graph: try ONNXImporter.decode(data, file: "dangling.onnx"), file: "dangling.onnx") }
    }

    /// Expects compiling `data` to fail with an invalid-model error whose problem holds `words`.
    static func expectInvalid(_ data: Data, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            _ = try Network(graph: try ONNXImporter.decode(data, file: "bad.onnx"), file: "bad.onnx")
        } throws: { error in
            guard case let NetworkError.invalidModel(file, problem) = error else { return false }
            let fits = file == "bad.onnx" && words.allSatisfy(problem.contains)
            if !fits { Issue.record("unexpected message: \(problem)", sourceLocation: sourceLocation) }
            return fits
        }
    }

    @Test func twoNodesWritingOneTensorAreRefusedNamingTheSecond() throws {
        let data = try Self.model { graph in
            var second = Self.node("Sigmoid", inputs: ["x"], outputs: ["y"])
            second.name = "/late"
            graph.node = [Self.node("Relu", inputs: ["x"], outputs: ["y"]), second]
        }
        Self.expectInvalid(data, mentioning: ["node '/late' (Sigmoid) writes 'y'", "node '/Relu' (Relu) already defines", "single static assignment"])
    }

    @Test func aNodeOverwritingAnInputOrAnInitializerIsRefused() throws {
        Self.expectInvalid(try Self.model { graph in
            graph.node = [Self.node("Relu", inputs: ["x"], outputs: ["x"])]
        }, mentioning: ["writes 'x', which a graph input already defines"])
        Self.expectInvalid(try Self.model { graph in
            var weight = Onnx_TensorProto()
            weight.name = "w"
            weight.dims = [1]
            weight.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            weight.floatData = [1]
            graph.initializer = [weight]
            graph.node = [Self.node("Relu", inputs: ["x"], outputs: ["w"]), Self.node("Relu", inputs: ["w"], outputs: ["y"])]
        }, mentioning: ["writes 'w', which an initializer already defines"])
    }

    @Test func duplicateGraphInputsAreRefused() throws {
        Self.expectInvalid(try Self.model { graph in
            graph.input.append(graph.input[0])
            graph.node = [Self.node("Relu", inputs: ["x"], outputs: ["y"])]
        }, mentioning: ["two graph inputs are named 'x'"])
    }

    @Test func anOperatorSetBeyondTheKnownOnesIsRefused() throws {
        var model = try Onnx_ModelProto(serializedBytes: try Self.model { graph in
            graph.node = [Self.node("Relu", inputs: ["x"], outputs: ["y"])]
        })
        model.opsetImport[0].version = 999
        Self.expectInvalid(try model.serializedData(), mentioning: ["operator set 999", "sets 1 to \(Network.newestOperatorSet)"])
        model.opsetImport[0].version = Int64(Network.newestOperatorSet)
        #expect(throws: Never.self) { _ = try Network(graph: try ONNXImporter.decode(try model.serializedData(), file: "ok.onnx"), file: "ok.onnx") }
    }

    @Test func everyTruncationOfARealModelThrowsOrLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/networks/mlp.onnx")
        let data = try Data(contentsOf: url)
        for length in stride(from: 0, to: data.count, by: max(1, data.count / 300)) {
            if let graph = try? ONNXImporter.decode(data.prefix(length), file: "cut.onnx") {
                _ = try? Network(graph: graph, file: "cut.onnx")
            }
        }
    }
}

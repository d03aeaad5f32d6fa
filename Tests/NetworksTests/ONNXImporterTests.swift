import Foundation
import Testing
@testable import Networks

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

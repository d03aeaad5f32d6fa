import Foundation
import Formats
import Testing
@testable import Networks

/// 224×224 vision models at full size, with random weights (ResNet-50, ConvNeXt-T,
/// EfficientNet-B0 and MobileNetV3-Large from torchvision, ViT-B/16 from timm), exported by
/// torch.onnx.export, against onnxruntime on every float node output. The models and
/// references (about 1 GB) are made by Tests/Fixtures/vision/make_vision_models.py, which
/// needs torch, torchvision and timm; so the suite runs only when REPPROBE_VISION_MODELS
/// names the folder to make them in (or that holds them):
///
///     REPPROBE_VISION_MODELS=.build/vision-models swift test --filter VisionModelTests
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["REPPROBE_VISION_MODELS"] != nil))
struct VisionModelTests {
    static let models = ["resnet50", "convnext_tiny", "efficientnet_b0", "mobilenet_v3_large", "vit_base_patch16_224"]

    static func ensureModels() throws -> URL {
        let folder = GeneratedData.folder(environment: "REPPROBE_VISION_MODELS", default: "vision-models")
        if !models.allSatisfy({ FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)_ort.npz").path) }) {
            try GeneratedData.run(["/usr/bin/env", "python3",
                                   GeneratedData.packageRoot.appendingPathComponent("Tests/Fixtures/vision/make_vision_models.py").path, folder.path])
        }
        return folder
    }

    @Test(arguments: models)
    func everyNodeOutputMatchesOnnxruntime(model: String) throws {
        let folder = try Self.ensureModels()
        let file = folder.appendingPathComponent("\(model).onnx")
        let network = try Network(graph: ONNXImporter.load(file), file: file.path)
        let input = Tensor(try NPY.read(folder.appendingPathComponent("\(model)_input.npy")))
        let references = try ArrayFile.read(folder.appendingPathComponent("\(model)_ort.npz"))
        #expect(references.count > 100, "\(model): \(references.count) references")
        let results = try network.run(["input": input], keeping: Set(references.map(\.name)))
        var worst = (name: "", error: 0.0)
        for (name, array) in references {
            let reference = Tensor(array)
            let actual = try #require(results[name], "\(model): tensor '\(name)' not computed")
            #expect(actual.shape == reference.shape, "\(model) '\(name)': shape \(actual.shape), expected \(reference.shape)")
            let a = actual.floats ?? [], b = reference.floats ?? []
            let scale = b.map { abs(Double($0)) }.max() ?? 0
            let error = (zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0) / max(scale, 1e-30)
            if error > worst.error { worst = (name, error) }
            #expect(error <= 1e-4 || scale < 1e-6, "\(model) '\(name)': max error \(error) of the scale \(scale)")
        }
        print("\(model): \(references.count) node outputs, worst relative error \(worst.error) at \(worst.name)")
    }
}

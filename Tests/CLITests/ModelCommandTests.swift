import Foundation
import RepProbeKit
import Testing

/// The model commands (layers, run, capture, compare, convert) on the fixture networks.
@Suite struct ModelCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/networks")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
    let cli = CLITests()

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func layersListsModulePathsWithShapes() throws {
        let result = try cli.run(["layers", Self.fixture("resnet.onnx"), "--input-shape", "2,3,16,16"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let conv = try #require(lines.first { $0.hasPrefix("layer1.0.conv1 ") })
        #expect(conv.contains("Conv") && conv.contains("[2, 4, 8, 8]") && conv.contains("/layer1/layer1.0/conv1/Conv_output_0"))
        #expect(lines.contains { $0.hasPrefix("layer2.0 ") })
    }

    @Test func layersOfAModelWithoutModulePathsListsEveryNodeOutput() throws {
        // Node names without scopes, as Paddle2ONNX and tf2onnx write them.
        let graph = Graph(
            inputs: [Graph.Input(name: "x", dataType: .float32, shape: [nil, 3])], outputs: ["y"],
            initializers: ["w": Tensor(shape: [3, 2], elements: [Float](repeating: 0.5, count: 6))], initializerOrder: ["w"],
            nodes: [Node(name: "matmul_0", opType: "MatMul", inputs: ["x", "w"], outputs: ["matmul_0.tmp"]),
                    Node(name: "relu_0", opType: "Relu", inputs: ["matmul_0.tmp"], outputs: ["y"])],
            opsets: ["": 17])
        let url = try Self.temporaryFolder().appendingPathComponent("plain.ckpt")
        try NativeCheckpoint.write(graph, to: url)
        let result = try cli.run(["layers", url.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("matmul_0.tmp") && result.stdout.contains("[1, 2]"), "\(result.stdout)")
    }

    @Test func runWritesOutputsAndChosenTensorsMatchingOnnxruntime() throws {
        let folder = try Self.temporaryFolder()
        let out = folder.appendingPathComponent("out.npz")
        let result = try cli.run(["run", Self.fixture("cnn.onnx"), "--input", Self.fixture("cnn_input.npy"),
                                  "--layers", "bn1,/pool/MaxPool_output_0", "--batch-size", "2", "-o", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let written = Dictionary(uniqueKeysWithValues: try ArrayFile.read(out).map { ($0.name, $0.array) })
        let reference = Dictionary(uniqueKeysWithValues: try ArrayFile.read(Self.fixtures.appendingPathComponent("cnn_ort.npz")).map { ($0.name, $0.array) })
        for name in ["output", "/bn1/BatchNormalization_output_0", "/pool/MaxPool_output_0"] {
            let a = try #require(written[name]?.doubles(), "\(name) missing")
            let b = try #require(reference[name]?.doubles())
            #expect(written[name]?.shape == reference[name]?.shape)
            let scale = b.map(abs).max() ?? 1
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * scale + 1e-6 }, "\(name)")
        }
    }

    @Test func captureWritesAnActivationFileTheAnalysisCommandsRead() throws {
        let folder = try Self.temporaryFolder()
        let acts = folder.appendingPathComponent("acts.npz")
        let result = try cli.run(["capture", Self.fixture("resnet.onnx"), "--input", Self.fixture("resnet_input.npy"),
                                  "--layers", "layer1.0,layer2.0,fc", "--reduce", "mean", "-o", acts.path])
        #expect(result.status == 0, "\(result.stderr)")
        let set = try ActivationSet.load(acts)
        #expect(set.layerNames == ["layer1.0", "layer2.0", "fc"])
        #expect(set.layers.map(\.matrix.columns) == [4, 8, 10])
        let cka = try cli.run(["cka", acts.path, "--json"])
        #expect(cka.status == 0, "\(cka.stderr)")
    }

    @Test func compareTwoExportsOfOneModelGivesAUnitDiagonal() throws {
        let result = try cli.run(["compare", Self.fixture("resnet.onnx"), Self.fixture("resnet_dynamo.onnx"),
                                  "--input", Self.fixture("resnet_input.npy"), "--layers", "layer1.0,layer2.0,fc", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let matrix = try JSONDecoder().decode(CLITests.MatrixOutput.self, from: Data(result.stdout.utf8))
        #expect(matrix.layers_a == ["layer1.0", "layer2.0", "fc"])
        for i in 0..<3 { #expect(abs(matrix.matrix[i][i] - 1) < 1e-5) }
    }

    @Test func convertWritesACheckpointThatRunsLikeTheOriginal() throws {
        let folder = try Self.temporaryFolder()
        let checkpoint = folder.appendingPathComponent("transformer.ckpt")
        #expect(try cli.run(["convert", Self.fixture("transformer.onnx"), checkpoint.path]).status == 0)
        let a = folder.appendingPathComponent("a.npz"), b = folder.appendingPathComponent("b.npz")
        #expect(try cli.run(["run", Self.fixture("transformer.onnx"), "--input", Self.fixture("transformer_input.npy"), "-o", a.path]).status == 0)
        #expect(try cli.run(["run", checkpoint.path, "--input", Self.fixture("transformer_input.npy"), "-o", b.path]).status == 0)
        #expect(try ArrayFile.read(a).map(\.array) == ArrayFile.read(b).map(\.array))
    }

    @Test func badModelsAndInputsAreClearErrors() throws {
        let folder = try Self.temporaryFolder()
        // A truncated protobuf.
        let model = try Data(contentsOf: Self.fixtures.appendingPathComponent("cnn.onnx"))
        let truncated = folder.appendingPathComponent("truncated.onnx")
        try model.prefix(model.count / 2).write(to: truncated)
        var result = try cli.run(["layers", truncated.path])
        #expect(result.status != 0 && result.stderr.contains("truncated.onnx"))
        // Inputs of the wrong shape name the input and both shapes.
        result = try cli.run(["run", Self.fixture("cnn.onnx"), "--input", Self.fixture("mlp_input.npy"), "-o", folder.appendingPathComponent("x.npz").path])
        #expect(result.status != 0 && result.stderr.contains("input"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.npz").path))
        // An unknown layer lists the module paths.
        result = try cli.run(["capture", Self.fixture("cnn.onnx"), "--input", Self.fixture("cnn_input.npy"), "--layers", "conv9", "-o", folder.appendingPathComponent("y.npz").path])
        #expect(result.status != 0 && result.stderr.contains("conv9") && result.stderr.contains("conv1"))
        // A state dict without a graph asks for one.
        result = try cli.run(["layers", Self.fixture("cnn.pt")])
        #expect(result.status != 0 && result.stderr.contains("--graph"))
        // Outputs that cannot be written are refused before the model is even read: a
        // folder that does not exist, a file in the way of a folder, a folder in the way of
        // the file. The model here does not exist either, and is not what the error names.
        let inTheWay = folder.appendingPathComponent("plain-file")
        try Data("mine".utf8).write(to: inTheWay)
        for (output, reason) in [(folder.appendingPathComponent("missing/y.npz").path, "does not exist"),
                                 (inTheWay.appendingPathComponent("y.npz").path, "is a file, not a folder"),
                                 (folder.path, "it is a folder, not a file")] {
            result = try cli.run(["run", folder.appendingPathComponent("no-model.onnx").path, "--input", Self.fixture("cnn_input.npy"), "-o", output])
            #expect(result.status != 0 && result.stderr.contains(output) && result.stderr.contains(reason), "\(result.stderr)")
        }
        #expect(try Data(contentsOf: inTheWay) == Data("mine".utf8))
    }
}

/// `repprobe train`: a recipe with no epochs still writes its model, log and report, and the
/// model it writes is one the other commands read.
@Suite struct TrainCommandTests {
    let cli = CLITests()

    @Test func writesModelLogAndReport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("train-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try cli.run(["train", "residual-cnn", "--epochs", "0", "--seed", "3", "--learning-rate", "0.001",
                                  "--layers", "stem", "fc", "-o", folder.path])
        #expect(result.status == 0, "\(result.stderr)")
        // The report repeats the whole command line.
        let report = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("`repprobe train residual-cnn --seed 3 --epochs 0 --learning-rate 0.001 --every 45 --layers stem fc`"))
        for name in ["report.md", "log.json", "model.ckpt", "cka_to_reference.svg", "probe_accuracy.svg"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
        }
        let layers = try cli.run(["layers", folder.appendingPathComponent("model.ckpt").path])
        #expect(layers.status == 0 && layers.stdout.contains("layer2.1.conv2"), "\(layers.stderr)")
    }

    @Test func unknownRecipeListsTheRecipes() throws {
        let result = try cli.run(["train", "imagenet-resnet"])
        #expect(result.status != 0)
        #expect(try cli.run(["train", "--learning-rate", "-1"]).stderr.contains("--learning-rate"))
        #expect(result.stderr.contains("plain-cnn") && result.stderr.contains("deep-residual-cnn"))
    }
}

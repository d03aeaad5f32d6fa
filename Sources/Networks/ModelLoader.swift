import Foundation
import Formats
import Tokenization

/// Loads a network from any file repprobe understands, recognised by content.
///
/// - ONNX models carry architecture and weights.
/// - repprobe's native checkpoints (safetensors with the architecture in the metadata).
/// - Hugging Face model folders (`config.json` and the weights) of the architectures
///   ``HuggingFaceModel`` builds.
/// - PyTorch `torch.save` files and Lightning checkpoints, and plain safetensors state
///   dicts, carry weights only: they need `graph`, an ONNX export of the same
///   architecture, whose initializers they replace by name (see ``WeightSwap``).
public enum ModelLoader {
    /// The kinds of model file.
    public enum Kind: String, Sendable {
        case onnx, native, pytorch, safetensorsStateDict = "safetensors state dict"
        case huggingFace = "Hugging Face folder"
    }

    /// A loaded model.
    public struct Loaded: Sendable {
        public var graph: Graph
        public var kind: Kind
        /// How the weights matched the graph, for weight-only files.
        public var weightReport: WeightSwap.Report?
        /// The network, compiled.
        public var network: Network
        /// The files the model was read from: the model file, or a Hugging Face folder's
        /// `config.json`, weight files and tokenizer files.
        public var files: [URL]

        public init(graph: Graph, kind: Kind, weightReport: WeightSwap.Report?, network: Network, files: [URL]) {
            self.graph = graph
            self.kind = kind
            self.weightReport = weightReport
            self.network = network
            self.files = files
        }
    }

    /// Reads `url` (and `graph` for weight-only files) and compiles the network.
    public static func load(_ url: URL, graph graphURL: URL? = nil) throws -> Loaded {
        let file = url.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory), isDirectory.boolValue {
            if graphURL != nil {
                throw NetworkError.invalidModel(file: file, problem: "is a Hugging Face model folder with its own architecture; --graph is for weight-only files (state dicts)")
            }
            let (graph, files) = try HuggingFaceModel.load(folder: url)
            let tokenizer = Tokenizer.exists(in: url) ? try Tokenizer(folder: url) : nil
            let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt"]
                .map { url.appendingPathComponent($0) }.filter { tokenizer != nil && FileManager.default.fileExists(atPath: $0.path) }
            return Loaded(graph: graph, kind: .huggingFace, weightReport: nil,
                          network: try Network(graph: graph, file: file, tokenizer: tokenizer), files: files + tokenizerFiles)
        }
        let format = try FileFormat.detect(url)
        switch format {
        case .onnx:
            if graphURL != nil {
                throw NetworkError.invalidModel(file: file, problem: "is an ONNX model with its own weights; --graph is for weight-only files (state dicts)")
            }
            let graph = try ONNXImporter.load(url)
            return Loaded(graph: graph, kind: .onnx, weightReport: nil, network: try Network(graph: graph, file: file), files: [url])
        case .safetensors:
            let contents = try Safetensors.read(url)
            if NativeCheckpoint.isNative(contents.metadata) {
                let graph = try NativeCheckpoint.graph(from: contents, file: file)
                return Loaded(graph: graph, kind: .native, weightReport: nil, network: try Network(graph: graph, file: file), files: [url])
            }
            return try swapped(contents.tensors, into: graphURL, file: file, kind: .safetensorsStateDict)
        case .pytorch, .legacyPyTorch:
            let weights = try PyTorchCheckpoint.read(url)
            return try swapped(weights, into: graphURL, file: file, kind: .pytorch)
        case .zip:
            throw NetworkError.invalidModel(file: file, problem: "is a zip archive that is neither a PyTorch checkpoint nor an .npz")
        case .npy, .npz:
            throw NetworkError.invalidModel(file: file, problem: "is \(format.summary), not a model (activations or inputs?)")
        case .unknown:
            // ONNX recognition is heuristic; let the decoder have the last word.
            let graph = try ONNXImporter.load(url)
            return Loaded(graph: graph, kind: .onnx, weightReport: nil, network: try Network(graph: graph, file: file), files: [url])
        }
    }

    static func swapped(_ weights: [(name: String, array: NumericArray)], into graphURL: URL?, file: String, kind: Kind) throws -> Loaded {
        guard let graphURL else {
            throw NetworkError.invalidModel(
                file: file, problem: "is a \(kind.rawValue): weights without an architecture; give an ONNX export of the same model with --graph MODEL.onnx")
        }
        let base = try ONNXImporter.load(graphURL)
        let (graph, report) = try WeightSwap.apply(weights, to: base, file: file)
        return Loaded(graph: graph, kind: kind, weightReport: report, network: try Network(graph: graph, file: file), files: [URL(fileURLWithPath: file)])
    }
}

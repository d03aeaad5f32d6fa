import Foundation
import Networks
import Probe

/// A network taking part in a comparison, with the files it came from (for provenance).
public struct ComparedModel: Sendable {
    /// The name reports use: the model file's name.
    public var name: String
    public var loaded: ModelLoader.Loaded
    /// The model's files (``ModelLoader/Loaded/files``), then the graph file when the
    /// weights came from a state dict.
    public var files: [URL]

    public init(name: String, loaded: ModelLoader.Loaded, files: [URL]) {
        self.name = name
        self.loaded = loaded
        self.files = files
    }

    /// Loads a model file, with `graph` (an ONNX export of the same architecture) for
    /// weight-only files; ``ModelLoader/Loaded/weightReport`` says how a state dict matched.
    public static func load(_ url: URL, graph: URL? = nil) throws -> ComparedModel {
        let loaded = try ModelLoader.load(url, graph: graph)
        return ComparedModel(name: url.lastPathComponent, loaded: loaded, files: loaded.files + (graph.map { [$0] } ?? []))
    }

    public var network: Network { loaded.network }
}

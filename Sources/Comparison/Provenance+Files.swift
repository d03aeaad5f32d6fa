import Formats
import Foundation
import Probe
import Results

extension ComparisonResults.Provenance.File {
    /// The records of a model's files: the model as `role`, its separate graph (if any) as
    /// `role_graph`; a Hugging Face folder's `config.json` as `role`, then `role_weights` and
    /// `role_tokenizer` files; each with its SHA-256.
    static func records(of model: ComparedModel, role: String) throws -> [Self] {
        try model.files.enumerated().map { k, url in
            let (fileRole, format): (String, String)
            if model.loaded.kind == .huggingFace {
                let name = url.lastPathComponent
                let isWeights = name.hasSuffix(".safetensors") || name.hasPrefix("pytorch_model") || name.hasPrefix("model.safetensors")
                fileRole = k == 0 ? role : isWeights ? "\(role)_weights" : "\(role)_tokenizer"
                format = k == 0 ? model.loaded.kind.rawValue : url.pathExtension
            } else {
                (fileRole, format) = k == 0 ? (role, model.loaded.kind.rawValue) : ("\(role)_graph", "onnx")
            }
            return Self(role: fileRole, name: url.lastPathComponent, format: format, sha256: try SHA256.hexDigest(ofFile: url))
        }
    }

    /// The records of a probe set's files: its YAML (or the input array it was made of) and
    /// the data it reads (an image folder as one digest of all its files).
    static func records(of probeSet: ProbeSet) throws -> [Self] {
        try probeSet.files.enumerated().map { k, url in
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
                // An image folder: one digest of every file's name and digest.
                return Self(role: "probe_data", name: url.lastPathComponent + "/", format: "folder",
                            sha256: try SHA256.hexDigest(ofFolder: url))
            }
            let suffix = url.pathExtension.lowercased()
            return Self(role: k == 0 ? "probe_set" : "probe_data", name: url.lastPathComponent,
                        format: suffix == "yml" ? "yaml" : suffix, sha256: try SHA256.hexDigest(ofFile: url))
        }
    }
}

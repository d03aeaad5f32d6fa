import Formats
import Foundation
import Probe
import Results

extension ComparisonResults.Provenance.File {
    /// The records of a model's files: the model as `role`, its separate graph (if any) as
    /// `role_graph`, each with its SHA-256.
    static func records(of model: ComparedModel, role: String) throws -> [Self] {
        try model.files.enumerated().map { k, url in
            Self(role: k == 0 ? role : "\(role)_graph", name: url.lastPathComponent,
                 format: k == 0 ? model.loaded.kind.rawValue : "onnx", sha256: try SHA256.hexDigest(ofFile: url))
        }
    }

    /// The records of a probe set's files: its YAML (or the input array it was made of) and
    /// the data it reads.
    static func records(of probeSet: ProbeSet) throws -> [Self] {
        try probeSet.files.enumerated().map { k, url in
            let suffix = url.pathExtension.lowercased()
            return Self(role: k == 0 ? "probe_set" : "probe_data", name: url.lastPathComponent,
                        format: suffix == "yml" ? "yaml" : suffix, sha256: try SHA256.hexDigest(ofFile: url))
        }
    }
}

import Foundation
import Formats

/// Problems with hook names, capture settings and inputs, each naming what *is* available.
public enum ProbeError: Error, Equatable, LocalizedError {
    /// A layer name that is neither a tensor name nor a module path of the model.
    case unknownLayer(name: String, model: String, available: [String])
    /// A filter that matched no layer.
    case noLayersMatched(filter: String, model: String)
    /// Inputs that do not fit the model or each other.
    case invalidInput(file: String, problem: String)
    /// A reduction that cannot apply to a layer's activation.
    case invalidReduction(layer: String, problem: String)
    /// A capture kept in memory that would need more than the memory there is: `layers`
    /// layers of `samples` samples, the widest of them (name and features), the bytes
    /// needed (`nil`: more than any machine has) and the bytes available.
    case captureTooLarge(layers: Int, samples: Int, widest: [String], needed: Int?, available: Int)
    /// Streamed linear CKA whose co-moments (`features²` doubles) would need more than the
    /// memory there is.
    case streamTooWide(layers: Int, features: Int, widest: [String], needed: Int?, available: Int)
    /// A probe-set file that cannot be read or does not describe a usable probe set.
    case invalidProbeSet(file: String, problem: String)
    /// A probe-set name with no file of that name in the folders searched.
    case unknownProbeSet(name: String, searched: [String], available: [String])

    /// Bytes as people read them: GB from a gigabyte, MB below.
    public static func readable(bytes: Int) -> String { ByteSize.readable(bytes) }

    private func size(_ bytes: Int) -> String { Self.readable(bytes: bytes) }

    public var errorDescription: String? {
        switch self {
        case let .unknownLayer(name, model, available):
            let shown = available.prefix(60).joined(separator: ", ")
            let more = available.count > 60 ? ", … (\(available.count - 60) more; `repprobe layers` lists all)" : ""
            return "\(model): no layer named '\(name)'; available: \(shown)\(more)"
        case let .noLayersMatched(filter, model):
            return "\(model): no layer matches \(filter)"
        case let .invalidInput(file, problem):
            return "\(file): \(problem)"
        case let .invalidReduction(layer, problem):
            return "layer '\(layer)': \(problem)"
        case let .invalidProbeSet(file, problem):
            return "\(file): \(problem)"
        case let .captureTooLarge(layers, samples, widest, needed, available):
            return "keeping \(layers) layer\(layers == 1 ? "" : "s") of \(samples) samples as wide as these (widest: "
                + "\(widest.joined(separator: ", "))) needs \(needed.map { "at least " + size($0) } ?? "more memory than any machine has"), "
                + "more than the \(size(available)) available; choose a reduction that keeps fewer features "
                + "(mean, subsample:S, project:K) or fewer layers"
        case let .streamTooWide(layers, features, widest, needed, available):
            return "streaming linear CKA over \(layers) layers of \(features) features in all (widest: \(widest.joined(separator: ", "))) "
                + "keeps the co-moments of those features its table reads, which need \(needed.map { "at least " + size($0) } ?? "more memory than any machine has"), "
                + "more than the \(size(available)) available; choose a reduction that keeps fewer features (mean, project:K) or fewer layers, "
                + "or stream minibatch CKA (--estimator unbiased), whose memory does not depend on the widths"
        case let .unknownProbeSet(name, searched, available):
            let list = available.isEmpty ? "none found" : available.joined(separator: ", ")
            return "no probe set named '\(name)' in \(searched.joined(separator: ", ")); available: \(list)"
        }
    }
}

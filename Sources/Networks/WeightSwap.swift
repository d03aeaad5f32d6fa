import Formats

/// Puts the weights of a state dict into a graph of the same architecture, matching
/// state-dict keys to initializer names.
///
/// Keys are matched exactly after removing one common prefix, chosen as the prefix (of up
/// to two dotted components, e.g. Lightning's `model.`, DataParallel's `module.`,
/// `torch.compile`'s `_orig_mod.`) under which the most keys name an initializer. Shapes
/// must agree exactly; values are converted to the initializer's element type.
public enum WeightSwap {
    /// What matched and what did not.
    public struct Report: Sendable, Equatable {
        /// The prefix removed from the state-dict keys (`""` for none).
        public var strippedPrefix: String
        /// Initializers that received a weight.
        public var replaced: [String]
        /// Floating-point initializers of the graph that no key matched (they keep the
        /// graph's values).
        public var unmatchedInitializers: [String]
        /// State-dict keys that name no initializer (e.g. `num_batches_tracked`, or weights
        /// the exporter folded into others).
        public var unusedKeys: [String]

        /// A few lines for a terminal.
        public var summary: String {
            var lines = ["replaced \(replaced.count) initializers" + (strippedPrefix.isEmpty ? "" : " (key prefix '\(strippedPrefix)' removed)")]
            if !unmatchedInitializers.isEmpty {
                lines.append("\(unmatchedInitializers.count) graph initializers kept their values (no key): \(NetworkError.list(unmatchedInitializers))")
            }
            if !unusedKeys.isEmpty {
                lines.append("\(unusedKeys.count) state-dict entries unused: \(NetworkError.list(unusedKeys))")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// `graph` with its initializers replaced by the matching `weights`.
    ///
    /// - Throws: ``NetworkError/weightMismatch(file:problem:)`` if no key matches any
    ///   initializer, or a matched pair differs in shape (naming both).
    public static func apply(_ weights: [(name: String, array: NumericArray)], to graph: Graph, file: String) throws
        -> (graph: Graph, report: Report)
    {
        let initializerNames = Set(graph.initializers.keys)
        var candidates: [String: Int] = ["": 0]
        for (key, _) in weights {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            for length in 1...2 where parts.count > length {
                candidates[parts.prefix(length).joined(separator: ".") + ".", default: 0] += 0
            }
        }
        for prefix in candidates.keys {
            candidates[prefix] = weights.filter { $0.name.hasPrefix(prefix) && initializerNames.contains(String($0.name.dropFirst(prefix.count))) }.count
        }
        let best = candidates.max { a, b in a.value != b.value ? a.value < b.value : a.key.count > b.key.count }
        guard let (prefix, matches) = best, matches > 0 else {
            let sampleKeys = weights.prefix(5).map(\.name).joined(separator: ", ")
            let sampleInitializers = graph.initializerOrder.prefix(5).joined(separator: ", ")
            throw NetworkError.weightMismatch(
                file: file,
                problem: "no state-dict key matches an initializer of the graph (keys like \(sampleKeys); initializers like \(sampleInitializers)); was the graph exported from the same architecture, with parameter names kept (torch.onnx.export(..., do_constant_folding=False))?")
        }
        var result = graph
        var replaced: [String] = []
        var unused: [String] = []
        for (key, array) in weights {
            let name = key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : key
            guard let current = graph.initializers[name] else { unused.append(key); continue }
            guard current.shape == array.shape else {
                throw NetworkError.weightMismatch(
                    file: file, problem: "'\(key)' has shape \(array.shape) but the graph's '\(name)' has shape \(current.shape)")
            }
            let tensor = Tensor(array)
            guard let converted = tensor.converted(to: current.dataType) else {
                throw NetworkError.weightMismatch(
                    file: file, problem: "'\(key)' holds \(tensor.dataType) values, the graph's '\(name)' is \(current.dataType)")
            }
            result.initializers[name] = converted
            replaced.append(name)
        }
        let replacedSet = Set(replaced)
        let unmatched = graph.initializerOrder.filter {
            !replacedSet.contains($0) && (graph.initializers[$0]?.dataType.isFloatingPoint ?? false) && (graph.initializers[$0]?.count ?? 0) > 1
        }
        return (result, Report(strippedPrefix: prefix, replaced: replaced, unmatchedInitializers: unmatched, unusedKeys: unused))
    }
}

import Foundation
import Formats

/// The weights of a Hugging Face model folder, by checkpoint name: `model.safetensors`, the
/// shards a `model.safetensors.index.json` lists, `pytorch_model.bin` (read by the restricted
/// unpickler, which never runs code) or the shards of `pytorch_model.bin.index.json`.
///
/// Names may carry the prefix of a task head's wrapper (`bert.` in
/// `BertForSequenceClassification`, `transformer.` in `GPT2LMHeadModel`, `vit.`); it is
/// found once, from an anchor weight every checkpoint of the architecture has.
final class HuggingFaceWeights {
    let folder: String
    /// The files the weights came from, for messages and provenance.
    let files: [URL]
    private var arrays: [String: NumericArray] = [:]
    private var prefix = ""
    /// The weights handed over by ``tensor(_:shape:)``, which the checkpoint no longer holds.
    private var used = Set<String>()

    init(folder url: URL) throws {
        folder = url.path
        let manager = FileManager.default
        let candidates: [(String, Bool)] = [
            ("model.safetensors", false), ("model.safetensors.index.json", true),
            ("pytorch_model.bin", false), ("pytorch_model.bin.index.json", true),
        ]
        guard let (name, sharded) = candidates.first(where: { manager.fileExists(atPath: url.appendingPathComponent($0.0).path) }) else {
            throw NetworkError.invalidModel(
                file: folder, problem: "has no weights: none of model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json")
        }
        let first = url.appendingPathComponent(name)
        files = sharded ? try Self.shards(of: first, in: url) : [first]
        for file in files {
            let tensors = file.pathExtension == "safetensors"
                ? try Safetensors.read(file).tensors : try PyTorchCheckpoint.read(file)
            for (name, array) in tensors {
                guard arrays[name] == nil else {
                    throw NetworkError.invalidModel(file: file.path, problem: "weight '\(name)' is also in another shard")
                }
                arrays[name] = array
            }
        }
    }

    /// The shard files an index names, each a plain file name inside the folder.
    static func shards(of index: URL, in folder: URL) throws -> [URL] {
        let json = try SmallFile.json(index, within: .shardIndex)
        guard let map = json["weight_map"]?.objectEntries else {
            throw NetworkError.invalidModel(file: index.path, problem: "has no 'weight_map' object")
        }
        var names: [String] = []
        for (weight, value) in map {
            guard let shard = value.stringValue else {
                throw NetworkError.invalidModel(file: index.path, problem: "weight '\(weight)' maps to \(value.serialized), not a file name")
            }
            guard !shard.isEmpty, !shard.contains("/"), !shard.contains("\\"), shard != ".", shard != ".." else {
                throw NetworkError.invalidModel(file: index.path, problem: "shard '\(shard)' is not a file name inside the folder")
            }
            if !names.contains(shard) { names.append(shard) }
        }
        guard !names.isEmpty else { throw NetworkError.invalidModel(file: index.path, problem: "names no shard") }
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    /// Chooses the prefix under which `anchor` exists (`""` first, then each of `prefixes`).
    func choosePrefix(anchor: String, among prefixes: [String]) throws {
        for candidate in [""] + prefixes.map({ $0 + "." }) where arrays[candidate + anchor] != nil {
            prefix = candidate
            return
        }
        throw NetworkError.invalidModel(
            file: folder, problem: "has no weight '\(anchor)' (nor under \(prefixes.map { "'\($0).'" }.joined(separator: ", "))): not the architecture its config names?")
    }

    /// Whether the checkpoint has `name`.
    func has(_ name: String) -> Bool { arrays[prefix + name] != nil || used.contains(prefix + name) }

    /// The float32 weight `name`, which must have `shape`. Each weight is handed over once and
    /// the checkpoint lets go of it, so that a weight the graph stores transposed (every
    /// `nn.Linear`) is not held twice: BERT-base's 340 MB of them would otherwise be.
    func tensor(_ name: String, shape: [Int]) throws -> Tensor {
        let key = prefix + name
        precondition(!used.contains(key), "weight '\(key)' asked for twice")
        guard let array = arrays.removeValue(forKey: key) else {
            throw NetworkError.invalidModel(file: folder, problem: "weight '\(key)' is missing")
        }
        guard array.shape == shape else {
            throw NetworkError.invalidModel(file: folder, problem: "weight '\(key)' has shape \(array.shape); the config makes it \(shape)")
        }
        guard array.elementType.isFloatingPoint else {
            throw NetworkError.invalidModel(file: folder, problem: "weight '\(key)' holds \(array.elementType) values, not floating-point ones")
        }
        used.insert(key)
        let tensor = Tensor(array)
        if tensor.dataType == .float32 { return tensor }
        return Tensor(shape: shape, elements: (tensor.elements(as: Double.self) ?? []).map(Float.init))
    }

    /// The first present of several spellings of one weight (checkpoints of different
    /// `transformers` versions name some modules differently).
    func tensor(_ names: [String], shape: [Int]) throws -> Tensor {
        try tensor(names.first(where: has) ?? names[0], shape: shape)
    }

    /// The weights nothing used, apart from the ones the architecture may carry unused.
    func unused(ignoring suffixes: [String] = []) -> [String] {
        arrays.keys.filter { !suffixes.contains(where: $0.hasSuffix) }.sorted()
    }
}

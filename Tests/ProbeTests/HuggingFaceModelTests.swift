import Foundation
import Formats
import Testing
@testable import Networks
@testable import Probe

/// Hugging Face folders built natively against `transformers` (Tests/Fixtures/huggingface/
/// make_huggingface_fixtures.py): tiny randomly initialised BERT (bfloat16 safetensors), GPT-2
/// (two float16 safetensors shards) and ViT (pytorch_model.bin), every hidden state, every
/// attention pattern and the outputs of named modules.
@Suite struct HuggingFaceModelTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/huggingface")

    static func load(_ name: String) throws -> (network: Network, reference: [String: Tensor]) {
        let folder = fixtures.appendingPathComponent(name)
        let loaded = try ModelLoader.load(folder)
        #expect(loaded.kind == .huggingFace)
        let arrays = try ArrayFile.read(folder.appendingPathComponent("reference.npz"))
        return (loaded.network, Dictionary(uniqueKeysWithValues: arrays.map { ($0.name, Tensor($0.array)) }))
    }

    /// max |a − b| ≤ 1e-5 · max |b| (+ a floor for all-zero references): ten times tighter
    /// than 1e-4, tight enough to tell exact GELU from its tanh approximation (4e-5 here).
    static func expectClose(_ actual: Tensor?, _ reference: Tensor, _ what: String) {
        guard let actual else { Issue.record("\(what): not computed"); return }
        #expect(actual.shape == reference.shape, "\(what): shape \(actual.shape), expected \(reference.shape)")
        let a = actual.floats ?? [], b = reference.floats ?? []
        let scale = b.map { abs(Double($0)) }.max() ?? 0
        let error = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
        #expect(a.count == b.count && error <= 1e-5 * scale + 1e-7, "\(what): max error \(error) at scale \(scale)")
    }

    @Test(arguments: ["bert", "roberta", "gpt2", "vit"])
    func agreesWithTransformers(model: String) throws {
        let (network, reference) = try Self.load(model)
        let catalog = LayerCatalog(network)
        let inputs = reference.filter { $0.key.hasPrefix("input.") }
        let feed = Dictionary(uniqueKeysWithValues: inputs.map { (String($0.key.dropFirst("input.".count)), $0.value) })
        var wanted: [String: String] = [:]  // reference key → tensor
        for key in reference.keys {
            if key.hasPrefix("hidden.") {
                wanted[key] = try catalog.tensor(for: "hidden_states.\(key.dropFirst("hidden.".count))")
            } else if key.hasPrefix("attention.") {
                wanted[key] = try catalog.tensor(for: "blocks.\(key.dropFirst("attention.".count)).attn.hook_pattern")
            } else if key.hasPrefix("module.") {
                wanted[key] = try catalog.tensor(for: String(key.dropFirst("module.".count)))
            }
        }
        #expect(wanted.keys.filter { $0.hasPrefix("hidden.") }.count == 3)
        #expect(wanted.keys.filter { $0.hasPrefix("attention.") }.count == 2)
        let last = try catalog.tensor(for: try #require(network.graph.defaultLayers?.last))
        let results = try network.run(feed, keeping: Set(wanted.values).union([last]))
        for (key, tensor) in wanted.sorted(by: { $0.key < $1.key }) {
            Self.expectClose(results[tensor], reference[key]!, "\(model) \(key)")
        }
        // The outputs carry transformers' names; the first is the last default layer. (The
        // RoBERTa folder is saved from a masked-LM model, which has no pooler.)
        #expect(network.graph.outputs == (["gpt2", "roberta"].contains(model) ? ["last_hidden_state"] : ["last_hidden_state", "pooler_output"]))
        #expect(results["last_hidden_state"]?.floats == results[last]?.floats)
    }

    /// Padding changes nothing for the real tokens: BERT masks padded keys (and RoBERTa also
    /// counts positions over real tokens only) and GPT-2 never looks ahead, so the first
    /// sentence alone equals its padded row in the batch.
    @Test(arguments: ["bert", "roberta", "gpt2"])
    func paddingLeavesRealTokensAlone(model: String) throws {
        let (network, reference) = try Self.load(model)
        let mask = try #require(reference["input.attention_mask"]?.elements(as: Int64.self))
        let length = try #require(reference["input.attention_mask"]?.shape.last)
        let real = mask.prefix(length).filter { $0 == 1 }.count
        #expect(real < length, "the fixture's first sentence should be padded")
        var alone: [String: Tensor] = [:]
        for name in network.graph.inputs.map(\.name) {
            let values = try #require(reference["input.\(name)"]?.elements(as: Int64.self))
            alone[name] = Tensor(shape: [1, real], elements: Array(values.prefix(real)))
        }
        let output = try #require(network.graph.outputs.first)
        let single = try #require(try network.run(alone)[output]?.floats)
        let batched = try #require(reference["hidden.2"]?.floats)
        let hidden = single.count / real
        let padded = Array(batched.prefix(real * hidden))
        let error = zip(single, padded).map { abs($0 - $1) }.max() ?? .infinity
        #expect(error < 1e-4, "\(model): \(error)")
    }

    @Test func transformerLensHookPointsNameTheBlockTensors() throws {
        let (network, _) = try Self.load("gpt2")
        let catalog = LayerCatalog(network)
        #expect(try catalog.tensor(for: "blocks.1.hook_resid_post") == catalog.tensor(for: "h.1"))
        #expect(try catalog.tensor(for: "blocks.0.hook_mlp_out") == catalog.tensor(for: "h.0.mlp"))
        #expect(try catalog.tensor(for: "blocks.0.hook_attn_out") == catalog.tensor(for: "h.0.attn"))
        #expect(try catalog.tensor(for: "blocks.0.mlp.hook_post") == catalog.tensor(for: "h.0.mlp.act"))
        #expect(try catalog.tensor(for: "blocks.1.hook_resid_pre") == catalog.tensor(for: "h.0"))
        #expect(try catalog.tensor(for: "ln_final.hook_normalized") == catalog.tensor(for: "ln_f"))
    }

    // MARK: ONNX exports of the same models

    /// torch.onnx.export of each folder (onnx/NAME.onnx) runs and gives the hidden states
    /// of `transformers`, hooked by module path, as the native graph does.
    @Test(arguments: [("bert", ["encoder.layer.0", "encoder.layer.1"]), ("gpt2", ["h.0"]), ("vit", ["layers.0", "layers.1"])])
    func onnxExportsGiveTheSameHiddenStates(model: String, blocks: [String]) throws {
        let (native, reference) = try Self.load(model)
        let export = try ModelLoader.load(Self.fixtures.appendingPathComponent("onnx/\(model).onnx")).network
        let feed = Dictionary(uniqueKeysWithValues: reference.filter { $0.key.hasPrefix("input.") }
            .map { (String($0.key.dropFirst("input.".count)), $0.value) })
        let catalog = LayerCatalog(export)
        let tensors = try blocks.map { try catalog.tensor(for: $0) }
        let exported = try export.run(feed, keeping: Set(tensors))
        let nativeCatalog = LayerCatalog(native)
        let nativeTensors = try blocks.indices.map { try nativeCatalog.tensor(for: "hidden_states.\($0 + 1)") }
        let built = try native.run(feed, keeping: Set(nativeTensors))
        for (k, tensor) in tensors.enumerated() {
            Self.expectClose(exported[tensor], reference["hidden.\(k + 1)"]!, "\(model) export \(blocks[k])")
            Self.expectClose(exported[tensor], built[nativeTensors[k]]!, "\(model) export against native \(blocks[k])")
        }
        let last = model == "vit" ? "module.layernorm" : "hidden.2"
        Self.expectClose(exported[export.graph.outputs[0]], reference[last]!, "\(model) export output")
    }

    /// A Hugging Face checkpoint swapped into an export by parameter name (`--graph`):
    /// weights scaled by 0.9 so that a swap that matched nothing would show.
    @Test(arguments: [("bert", "bert-unfolded"), ("gpt2", "gpt2")])
    func checkpointsSwapIntoExportsByTheirNames(model: String, export: String) throws {
        let folder = try Self.copy(model) { folder in
            var weights: [(name: String, array: NumericArray)] = []
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".safetensors") {
                weights += try Safetensors.read(folder.appendingPathComponent(file)).tensors
                try FileManager.default.removeItem(at: folder.appendingPathComponent(file))
            }
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors.index.json"))
            let scaled = weights.map { ($0.name, NumericArray(shape: $0.array.shape, float32: $0.array.floats().map { $0 * 0.9 })) }
            try Safetensors.write(scaled, to: folder.appendingPathComponent("model.safetensors"))
        }
        defer { try? FileManager.default.removeItem(at: folder) }
        let native = try ModelLoader.load(folder).network
        let swapped = try ModelLoader.load(folder.appendingPathComponent("model.safetensors"),
                                           graph: Self.fixtures.appendingPathComponent("onnx/\(export).onnx"))
        let report = try #require(swapped.weightReport)
        #expect(report.unmatchedInitializers.isEmpty, "\(report.summary)")
        #expect(report.replaced.contains(model == "bert" ? "encoder.layer.1.output.dense.weight" : "h.1.mlp.c_fc.weight"), "\(report.summary)")
        let (_, reference) = try Self.load(model)
        let feed = Dictionary(uniqueKeysWithValues: reference.filter { $0.key.hasPrefix("input.") }
            .map { (String($0.key.dropFirst("input.".count)), $0.value) })
        let a = try native.run(feed)[native.graph.outputs[0]]!, b = try swapped.network.run(feed)[swapped.network.graph.outputs[0]]!
        Self.expectClose(b, a, "\(model) swapped export against the native graph of the same weights")
        let unscaled = reference["hidden.2"]!.floats ?? []
        #expect(zip(a.floats ?? [], unscaled).map { abs($0 - $1) }.max() ?? 0 > 1e-3, "the scaled weights should change the output")
    }

    // MARK: Bad folders

    /// A copy of a fixture folder whose files `edit` may change.
    static func copy(_ name: String, edit: (URL) throws -> Void) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("hf-\(name)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: target)
        try edit(target)
        return target
    }

    static func message(loading folder: URL) -> String {
        do {
            _ = try ModelLoader.load(folder)
            return "loaded"
        } catch {
            return (error as? LocalizedError)?.errorDescription ?? "\(error)"
        }
    }

    static func editConfig(_ folder: URL, _ edit: (inout String) -> Void) throws {
        let url = folder.appendingPathComponent("config.json")
        var text = try String(contentsOf: url, encoding: .utf8)
        edit(&text)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test func unknownModelTypeListsTheSupportedOnes() throws {
        let folder = try Self.copy("bert") { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"model_type\": \"bert\"", with: "\"model_type\": \"llama\"") } }
        defer { try? FileManager.default.removeItem(at: folder) }
        let message = Self.message(loading: folder)
        #expect(message.contains("config.json") && message.contains("'llama' is not supported") && message.contains("bert, roberta, gpt2, vit"), "\(message)")
    }

    @Test func brokenFoldersAreRefusedByName() throws {
        let cases: [(String, String, (URL) throws -> Void)] = [
            ("bert", "not valid JSON", { try Data("{\"model_type\": \"bert\",".utf8).write(to: $0.appendingPathComponent("config.json")) }),
            ("bert", "'hidden_size' should be an integer", { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"hidden_size\": 32", with: "\"hidden_size\": -3") } }),
            ("bert", "is not a multiple of the", { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": 5") } }),
            ("bert", "has shape [40, 32]; the config makes it [512, 32]", { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"max_position_embeddings\": 40", with: "\"max_position_embeddings\": 512") } }),
            ("bert", "has no weights", { try FileManager.default.removeItem(at: $0.appendingPathComponent("model.safetensors")) }),
            ("bert", "position_embedding_type 'relative_key' is not supported", { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "{", with: "{\"position_embedding_type\": \"relative_key\",") } }),
            ("bert", "is_decoder", { try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"is_decoder\": false", with: "\"is_decoder\": true") } }),
            ("gpt2", "is not a file name inside the folder", {
                let index = $0.appendingPathComponent("model.safetensors.index.json")
                let text = try String(contentsOf: index, encoding: .utf8).replacingOccurrences(of: "model-00002-of-00002.safetensors", with: "../../etc/passwd")
                try text.write(to: index, atomically: true, encoding: .utf8)
            }),
            ("gpt2", "model-00002-of-00002.safetensors", { try FileManager.default.removeItem(at: $0.appendingPathComponent("model-00002-of-00002.safetensors")) }),
            ("bert", "nesting deeper than", {
                try Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
                    .write(to: $0.appendingPathComponent("config.json"))
            }),
            ("bert", "more than a Hugging Face config.json may be", {
                // A sparse file: its size lies far beyond what it holds on disk.
                let handle = try FileHandle(forWritingTo: $0.appendingPathComponent("config.json"))
                try handle.truncate(atOffset: 1 << 30)
                try handle.close()
            }),
            ("gpt2", "is also in another shard", {
                try FileManager.default.copyItem(at: $0.appendingPathComponent("model-00001-of-00002.safetensors"),
                                                 to: $0.appendingPathComponent("model-00003-of-00002.safetensors"))
                let index = $0.appendingPathComponent("model.safetensors.index.json")
                let text = try String(contentsOf: index, encoding: .utf8)
                    .replacingOccurrences(of: "\"weight_map\": {", with: "\"weight_map\": {\"extra\": \"model-00003-of-00002.safetensors\",")
                try text.write(to: index, atomically: true, encoding: .utf8)
            }),
            ("gpt2", "maps to 7, not a file name", {
                let index = $0.appendingPathComponent("model.safetensors.index.json")
                let text = try String(contentsOf: index, encoding: .utf8)
                    .replacingOccurrences(of: "\"weight_map\": {", with: "\"weight_map\": {\"extra\": 7,")
                try text.write(to: index, atomically: true, encoding: .utf8)
            }),
            ("bert", "holds int32 values, not floating-point ones", {
                let url = $0.appendingPathComponent("model.safetensors")
                let weights = try Safetensors.read(url).tensors.map { entry -> (name: String, array: NumericArray) in
                    guard entry.name == "pooler.dense.bias" else { return entry }
                    return (entry.name, NumericArray(shape: entry.array.shape, int32: [Int32](repeating: 1, count: entry.array.count)))
                }
                try Safetensors.write(weights, to: url)
            }),
            ("roberta", "'pad_token_id' should be an integer from 1 to 41, not 4000000000", {
                // A padding index past the position table would make every position an index beyond it.
                try Self.editConfig($0) { $0 = $0.replacingOccurrences(of: "\"pad_token_id\": 1", with: "\"pad_token_id\": 4000000000") }
            }),
            ("roberta", "has no weight 'embeddings.word_embeddings.weight' (nor under 'roberta.', 'model.')", {
                // Weights under another model's prefix: not the architecture the config names.
                let url = $0.appendingPathComponent("model.safetensors")
                let weights = try Safetensors.read(url).tensors.map { (name: "bert." + $0.name.replacingOccurrences(of: "roberta.", with: ""), array: $0.array) }
                try Safetensors.write(weights, to: url)
            }),
            ("vit", "weight 'encoder.layer.1.output.dense.bias' is missing", {
                // A state dict without one weight, written by the test's own safetensors writer.
                let weights = try PyTorchCheckpoint.read($0.appendingPathComponent("pytorch_model.bin")).filter { $0.name != "encoder.layer.1.output.dense.bias" }
                try FileManager.default.removeItem(at: $0.appendingPathComponent("pytorch_model.bin"))
                try Safetensors.write(weights, to: $0.appendingPathComponent("model.safetensors"))
            }),
        ]
        for (model, expected, edit) in cases {
            let folder = try Self.copy(model, edit: edit)
            defer { try? FileManager.default.removeItem(at: folder) }
            let message = Self.message(loading: folder)
            #expect(message.contains(expected) && message.contains(folder.lastPathComponent), "\(expected): \(message)")
        }
    }

    @Test func aFolderWithoutConfigIsNotAModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(Self.message(loading: folder).contains("without a config.json"))
    }
}

import Foundation
import Formats

/// Hugging Face model folders (`config.json` beside the weights), built natively: each
/// supported architecture is made from its configuration as a ``Graph`` of the runtime's
/// operators, with the Python model's module paths as layer names.
///
/// - `bert` (BERT and what shares its layout, such as MiniLM): `embeddings`,
///   `encoder.layer.N` with `attention.self`, `attention.output`, `intermediate`, `output`,
///   and `pooler` when the checkpoint has one. Inputs `input_ids`, `attention_mask` and
///   `token_type_ids`.
/// - `gpt2`: `wte`, `wpe`, `h.N` with `ln_1`, `attn` (`c_attn`, `c_proj`), `ln_2`, `mlp`
///   (`c_fc`, `act`, `c_proj`), and `ln_f`. Inputs `input_ids` and `attention_mask`.
/// - `vit`: `embeddings`, `encoder.layer.N` with `layernorm_before`, `attention`,
///   `layernorm_after`, `intermediate`, `output`, then `layernorm` and `pooler`. Input
///   `pixel_values` at the configuration's image size.
///
/// Further names (``Graph/aliases``): `hidden_states.K` is what `transformers` returns as
/// `hidden_states[K]` (`output_hidden_states=True`); TransformerLens-style hook points
/// `blocks.N.hook_resid_pre`, `hook_resid_mid`, `hook_resid_post`, `hook_attn_out`,
/// `hook_mlp_out`, `attn.hook_pattern` (the attention probabilities `[B, heads, S, S]`),
/// `mlp.hook_pre` and `mlp.hook_post`. Attention matches `transformers`' eager
/// implementation: masked keys get the most negative float before the softmax.
public enum HuggingFaceModel {
    /// The `model_type` values that can be built.
    public static let supportedTypes = ["bert", "roberta", "gpt2", "vit"]

    /// Whether `url` is a folder holding a `config.json`.
    public static func isModelFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path)
    }

    /// The graph of the model in `folder`, and the files it was read from (`config.json`,
    /// then the weight files).
    ///
    /// - Throws: ``NetworkError/invalidModel(file:problem:)`` naming the folder or file: no
    ///   `config.json`, an unsupported `model_type` (the message lists the supported ones),
    ///   a setting outside what is built, a missing weight or one of the wrong shape.
    public static func load(folder: URL) throws -> (graph: Graph, files: [URL]) {
        let configURL = folder.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw NetworkError.invalidModel(file: folder.path, problem: "is a folder without a config.json, so not a Hugging Face model folder")
        }
        let config = try HuggingFaceConfig(configURL)
        guard let type = config.string("model_type") else {
            throw config.invalid("has no 'model_type' (supported: \(supportedTypes.joined(separator: ", ")))")
        }
        guard supportedTypes.contains(type) else {
            throw config.invalid("model_type '\(type)' is not supported (supported: \(supportedTypes.joined(separator: ", ")); an ONNX export of the model works with every command)")
        }
        let weights = try HuggingFaceWeights(folder: folder)
        let graph: Graph
        switch type {
        case "bert": graph = try BERTGraph(config: config, weights: weights).build()
        case "roberta": graph = try BERTGraph(config: config, weights: weights, layout: .roberta).build()
        case "gpt2": graph = try GPT2Graph(config: config, weights: weights).build()
        default: graph = try ViTGraph(config: config, weights: weights).build()
        }
        return (graph, [configURL] + weights.files)
    }
}

/// The TransformerLens-style names of one block's tensors.
struct BlockHooks {
    var residPre: String
    var attentionOut: String
    var residMid: String
    var pattern: String
    var mlpPre: String
    var mlpPost: String
    var mlpOut: String
    var residPost: String

    func register(block: Int, in builder: GraphBuilder) {
        let p = "blocks.\(block)."
        for (name, tensor) in [
            ("hook_resid_pre", residPre), ("hook_attn_out", attentionOut), ("hook_resid_mid", residMid),
            ("attn.hook_pattern", pattern), ("mlp.hook_pre", mlpPre), ("mlp.hook_post", mlpPost),
            ("hook_mlp_out", mlpOut), ("hook_resid_post", residPost),
        ] {
            builder.alias(p + name, tensor)
        }
    }
}

/// BERT (`model_type` `bert`) as `transformers`' `BertModel` computes it: post-LayerNorm
/// blocks, absolute position embeddings, exact (erf) GELU unless the config says otherwise.
///
/// RoBERTa (`roberta`) is the same network with two differences in the embeddings, as
/// `RobertaModel` computes them: positions count real tokens only, from `pad_token_id + 1`
/// (`padding_idx + cumsum(ids ≠ pad) · (ids ≠ pad)`; padding sits at `pad_token_id`), and
/// there are no token types (the one row of its table is added to every token).
struct BERTGraph {
    enum Layout { case bert, roberta }

    let config: HuggingFaceConfig
    let weights: HuggingFaceWeights
    var layout = Layout.bert

    func build() throws -> Graph {
        let hidden = try config.int("hidden_size")
        let layers = try config.int("num_hidden_layers", limit: 4096)
        let heads = try config.int("num_attention_heads", limit: hidden)
        let headSize = try config.headSize(hidden: hidden, heads: heads)
        let inner = try config.int("intermediate_size")
        let vocabulary = try config.int("vocab_size", limit: 1 << 26)
        let maxPositions = try config.int("max_position_embeddings", default: 512)
        let typeVocabulary = try config.int("type_vocab_size", default: 2)
        let epsilon = Float(try config.double("layer_norm_eps", default: 1e-12))
        let gelu = try config.gelu("hidden_act", default: "gelu")
        let positionType = try config.string("position_embedding_type", default: "absolute")
        guard positionType == "absolute" else {
            throw config.invalid("position_embedding_type '\(positionType)' is not supported (absolute is)")
        }
        guard try !config.bool("is_decoder", default: false) else {
            throw config.invalid("is_decoder is true: a BERT decoder (causal, with cross-attention) is not supported; encoders are")
        }
        try weights.choosePrefix(anchor: "embeddings.word_embeddings.weight", among: layout == .roberta ? ["roberta", "model"] : ["bert", "model"])
        let padding = layout == .roberta ? try config.int("pad_token_id", default: 1, limit: maxPositions - 1) : 0

        let b = GraphBuilder()
        let ids = b.input("input_ids", .int64, shape: [nil, nil])
        let mask = b.input("attention_mask", .int64, shape: [nil, nil])
        let types = layout == .roberta ? b.node("Mul", [ids, b.integers([0])]) : b.input("token_type_ids", .int64, shape: [nil, nil])

        let layer = CheckpointLayers(builder: b, weights: weights, hidden: hidden, epsilon: epsilon)

        var x = try b.module("embeddings") { () throws -> String in
            let words = try layer.embedding(ids, "embeddings.word_embeddings", rows: vocabulary)
            let tokenTypes = try layer.embedding(types, "embeddings.token_type_embeddings", rows: typeVocabulary)
            let positionIDs: String
            switch layout {
            case .bert:
                positionIDs = b.positions(of: ids)
            case .roberta:
                let real = b.node("Cast", [b.node("Not", [b.node("Equal", [ids, b.integers([padding])])])], ["to": .int(7)])
                let counted = b.node("Mul", [b.node("CumSum", [real, b.integer(1)]), real])
                positionIDs = b.node("Add", [counted, b.integers([padding])])
            }
            let positions = try layer.embedding(positionIDs, "embeddings.position_embeddings", rows: maxPositions)
            b.alias("hook_embed", words)
            b.alias("hook_pos_embed", positions)
            b.alias("hook_token_type_embed", tokenTypes)
            return try layer.layerNorm(b.node("Add", [b.node("Add", [words, tokenTypes]), positions]), "embeddings.LayerNorm")
        }
        b.alias("hidden_states.0", x)
        let additiveMask = b.paddingMask(mask)
        let scale = 1 / Float(headSize).squareRoot()

        for block in 0..<layers {
            let p = "encoder.layer.\(block)"
            let input = x
            var hooks = BlockHooks(residPre: input, attentionOut: "", residMid: "", pattern: "", mlpPre: "", mlpPost: "", mlpOut: "", residPost: "")
            x = try b.module(p) { () throws -> String in
                let attended = try b.module("\(p).attention") { () throws -> String in
                    let context = try b.module("\(p).attention.self") { () throws -> String in
                        let q = try layer.linear(input, "\(p).attention.self.query", inputs: hidden, outputs: hidden)
                        let k = try layer.linear(input, "\(p).attention.self.key", inputs: hidden, outputs: hidden)
                        let v = try layer.linear(input, "\(p).attention.self.value", inputs: hidden, outputs: hidden)
                        let result = b.attention(query: q, key: k, value: v, mask: additiveMask, heads: heads, headSize: headSize, scale: scale)
                        hooks.pattern = result.pattern
                        return result.context
                    }
                    return try b.module("\(p).attention.output") { () throws -> String in
                        hooks.attentionOut = try layer.linear(context, "\(p).attention.output.dense", inputs: hidden, outputs: hidden)
                        hooks.residMid = b.node("Add", [hooks.attentionOut, input])
                        return try layer.layerNorm(hooks.residMid, "\(p).attention.output.LayerNorm")
                    }
                }
                let intermediate = try b.module("\(p).intermediate") { () throws -> String in
                    hooks.mlpPre = try layer.linear(attended, "\(p).intermediate.dense", inputs: hidden, outputs: inner)
                    hooks.mlpPost = b.module("\(p).intermediate.intermediate_act_fn") {
                        b.node("Gelu", [hooks.mlpPre], ["approximate": .string(gelu)])
                    }
                    return hooks.mlpPost
                }
                return try b.module("\(p).output") { () throws -> String in
                    hooks.mlpOut = try layer.linear(intermediate, "\(p).output.dense", inputs: inner, outputs: hidden)
                    hooks.residPost = b.node("Add", [hooks.mlpOut, attended])
                    return try layer.layerNorm(hooks.residPost, "\(p).output.LayerNorm")
                }
            }
            hooks.register(block: block, in: b)
            b.alias("blocks.\(block).hook_normalized_resid_post", x)
            b.alias("hidden_states.\(block + 1)", x)
        }
        let outputs = [x] + (try layer.pooler(x).map { [$0] } ?? [])
        var graph = b.graph(outputs: outputs, defaultLayers: ["embeddings"] + (0..<layers).map { "encoder.layer.\($0)" })
        // RoBERTa's positions start after the padding row.
        graph.maxSequenceLength = maxPositions - (layout == .roberta ? padding + 1 : 0)
        return graph
    }
}

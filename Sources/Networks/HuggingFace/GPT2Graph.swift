/// GPT-2 (`model_type` `gpt2`) as `transformers`' `GPT2Model` computes it: pre-LayerNorm
/// blocks, causal attention, `Conv1D` weights stored `[in, out]`, tanh GELU (`gelu_new`).
struct GPT2Graph {
    let config: HuggingFaceConfig
    let weights: HuggingFaceWeights

    func build() throws -> Graph {
        let hidden = try config.int("n_embd")
        let layers = try config.int("n_layer", limit: 4096)
        let heads = try config.int("n_head", limit: hidden)
        let headSize = try config.headSize(hidden: hidden, heads: heads)
        let inner = try config.int("n_inner", default: 4 * hidden)
        let vocabulary = try config.int("vocab_size", limit: 1 << 26)
        let maxPositions = try config.int("n_positions", default: 1024)
        let epsilon = Float(try config.double("layer_norm_epsilon", default: 1e-5))
        let gelu = try config.gelu("activation_function", default: "gelu_new")
        let scaleWeights = try config.bool("scale_attn_weights", default: true)
        let scaleByLayer = try config.bool("scale_attn_by_inverse_layer_idx", default: false)
        try weights.choosePrefix(anchor: "wte.weight", among: ["transformer", "model"])

        let b = GraphBuilder()
        let ids = b.input("input_ids", .int64, shape: [nil, nil])
        let mask = b.input("attention_mask", .int64, shape: [nil, nil])

        let layer = CheckpointLayers(builder: b, weights: weights, hidden: hidden, epsilon: epsilon)

        let words = try layer.embedding(ids, "wte", rows: vocabulary)
        let positionIDs = b.positions(of: ids)
        let positions = try layer.embedding(positionIDs, "wpe", rows: maxPositions)
        b.alias("hook_embed", words)
        b.alias("hook_pos_embed", positions)
        // transformers adds the embeddings, then runs its dropout module `drop`, whose output
        // is hidden_states[0].
        var x = b.module("drop") { b.node("Add", [words, positions]) }
        b.alias("hidden_states.0", x)

        // Causal and padding mask, [B, 1, S, S]: a key is hidden when it comes after the
        // query or is padding.
        let future = b.node("Greater", [b.node("Unsqueeze", [positionIDs, b.integers([0])]),
                                        b.node("Unsqueeze", [positionIDs, b.integers([1])])])
        let padding = b.node("Unsqueeze", [b.node("Equal", [mask, b.integer(0)]), b.integers([1, 2])])
        let additiveMask = b.node("Where", [b.node("Or", [future, padding]), b.scalar(-Float.greatestFiniteMagnitude), b.scalar(0)])

        for block in 0..<layers {
            let p = "h.\(block)"
            let input = x
            var hooks = BlockHooks(residPre: input, attentionOut: "", residMid: "", pattern: "", mlpPre: "", mlpPost: "", mlpOut: "", residPost: "")
            var scale: Float = scaleWeights ? 1 / Float(headSize).squareRoot() : 1
            if scaleByLayer { scale /= Float(block + 1) }
            x = try b.module(p) { () throws -> String in
                let normalized = try layer.layerNorm(input, "\(p).ln_1")
                hooks.attentionOut = try b.module("\(p).attn") { () throws -> String in
                    let qkv = try layer.conv1D(normalized, "\(p).attn.c_attn", inputs: hidden, outputs: 3 * hidden)
                    let parts = b.node("Split", [qkv, b.integers([hidden, hidden, hidden])], ["axis": .int(2)], outputs: 3)
                    let result = b.attention(query: parts[0], key: parts[1], value: parts[2], mask: additiveMask,
                                             heads: heads, headSize: headSize, scale: scale)
                    hooks.pattern = result.pattern
                    return try layer.conv1D(result.context, "\(p).attn.c_proj", inputs: hidden, outputs: hidden)
                }
                hooks.residMid = b.node("Add", [input, hooks.attentionOut])
                let normalized2 = try layer.layerNorm(hooks.residMid, "\(p).ln_2")
                hooks.mlpOut = try b.module("\(p).mlp") { () throws -> String in
                    hooks.mlpPre = try layer.conv1D(normalized2, "\(p).mlp.c_fc", inputs: hidden, outputs: inner)
                    hooks.mlpPost = b.module("\(p).mlp.act") { b.node("Gelu", [hooks.mlpPre], ["approximate": .string(gelu)]) }
                    return try layer.conv1D(hooks.mlpPost, "\(p).mlp.c_proj", inputs: inner, outputs: hidden)
                }
                hooks.residPost = b.node("Add", [hooks.residMid, hooks.mlpOut])
                return hooks.residPost
            }
            hooks.register(block: block, in: b)
            if block + 1 < layers { b.alias("hidden_states.\(block + 1)", x) }
        }
        x = try layer.layerNorm(x, "ln_f")
        b.alias("ln_final.hook_normalized", x)
        b.alias("hidden_states.\(layers)", x)
        var graph = b.graph(outputs: [x], defaultLayers: ["drop"] + (0..<layers).map { "h.\($0)" } + ["ln_f"])
        graph.maxSequenceLength = maxPositions
        return graph
    }
}

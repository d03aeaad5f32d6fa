/// ViT (`model_type` `vit`) as `transformers`' `ViTModel` computes it: patch embedding by a
/// strided convolution, a class token, pre-LayerNorm blocks, a final LayerNorm and (when
/// the checkpoint has one) the pooler. Images must have the configured size (position
/// embeddings are not interpolated).
struct ViTGraph {
    let config: HuggingFaceConfig
    let weights: HuggingFaceWeights

    func build() throws -> Graph {
        let hidden = try config.int("hidden_size")
        let layers = try config.int("num_hidden_layers", limit: 4096)
        let heads = try config.int("num_attention_heads", limit: hidden)
        let headSize = try config.headSize(hidden: hidden, heads: heads)
        let inner = try config.int("intermediate_size")
        let imageSize = try config.int("image_size", default: 224, limit: 1 << 14)
        let patch = try config.int("patch_size", default: 16, limit: imageSize)
        let channels = try config.int("num_channels", default: 3, limit: 4096)
        let epsilon = Float(try config.double("layer_norm_eps", default: 1e-12))
        let gelu = try config.gelu("hidden_act", default: "gelu")
        let qkvBias = try config.bool("qkv_bias", default: true)
        guard imageSize % patch == 0 else {
            throw config.invalid("image_size \(imageSize) is not a multiple of patch_size \(patch)")
        }
        let patches = (imageSize / patch) * (imageSize / patch)
        try weights.choosePrefix(anchor: "embeddings.cls_token", among: ["vit", "model"])

        let b = GraphBuilder()
        let pixels = b.input("pixel_values", .float32, shape: [nil, channels, imageSize, imageSize])

        // transformers 5 names some ViT modules differently (`layers.N.attention.q_proj`,
        // `mlp.fc1`); checkpoints on the Hub use the names of transformers 4, which are the
        // layer names here, and either spelling loads.
        let layer = CheckpointLayers(builder: b, weights: weights, hidden: hidden, epsilon: epsilon)

        var x = try b.module("embeddings") { () throws -> String in
            let embedded = try b.module("embeddings.patch_embeddings") { () throws -> String in
                let projected = try b.module("embeddings.patch_embeddings.projection") { () throws -> String in
                    let name = "embeddings.patch_embeddings.projection"
                    let w = b.constant("\(name).weight", try weights.tensor("\(name).weight", shape: [hidden, channels, patch, patch]))
                    let bias = b.constant("\(name).bias", try weights.tensor("\(name).bias", shape: [hidden]))
                    return b.node("Conv", [pixels, w, bias], ["kernel_shape": .ints([patch, patch]), "strides": .ints([patch, patch])])
                }
                return b.node("Transpose", [b.node("Reshape", [projected, b.integers([0, 0, -1])])], ["perm": .ints([0, 2, 1])])
            }
            let cls = b.constant("embeddings.cls_token", try weights.tensor("embeddings.cls_token", shape: [1, 1, hidden]))
            let batch = b.node("Slice", [b.node("Shape", [pixels]), b.integers([0]), b.integers([1])])
            let clsShape = b.node("Concat", [batch, b.integers([1, hidden])], ["axis": .int(0)])
            let tokens = b.node("Concat", [b.node("Expand", [cls, clsShape]), embedded], ["axis": .int(1)])
            let positions = b.constant("embeddings.position_embeddings",
                                       try weights.tensor("embeddings.position_embeddings", shape: [1, patches + 1, hidden]))
            return b.node("Add", [tokens, positions])
        }
        b.alias("hidden_states.0", x)
        let scale = 1 / Float(headSize).squareRoot()

        for block in 0..<layers {
            let p = "encoder.layer.\(block)"
            let v5 = "layers.\(block)"
            let input = x
            var hooks = BlockHooks(residPre: input, attentionOut: "", residMid: "", pattern: "", mlpPre: "", mlpPost: "", mlpOut: "", residPost: "")
            x = try b.module(p) { () throws -> String in
                let normalized = try layer.layerNorm(input, "\(p).layernorm_before", alternative: "\(v5).layernorm_before")
                hooks.attentionOut = try b.module("\(p).attention") { () throws -> String in
                    let context = try b.module("\(p).attention.attention") { () throws -> String in
                        let s = "\(p).attention.attention"
                        let q = try layer.linear(normalized, "\(s).query", alternative: "\(v5).attention.q_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let k = try layer.linear(normalized, "\(s).key", alternative: "\(v5).attention.k_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let v = try layer.linear(normalized, "\(s).value", alternative: "\(v5).attention.v_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let result = b.attention(query: q, key: k, value: v, mask: nil, heads: heads, headSize: headSize, scale: scale)
                        hooks.pattern = result.pattern
                        return result.context
                    }
                    return try b.module("\(p).attention.output") {
                        try layer.linear(context, "\(p).attention.output.dense", alternative: "\(v5).attention.o_proj", inputs: hidden, outputs: hidden)
                    }
                }
                hooks.residMid = b.node("Add", [hooks.attentionOut, input])
                let normalized2 = try layer.layerNorm(hooks.residMid, "\(p).layernorm_after", alternative: "\(v5).layernorm_after")
                let intermediate = try b.module("\(p).intermediate") { () throws -> String in
                    hooks.mlpPre = try layer.linear(normalized2, "\(p).intermediate.dense", alternative: "\(v5).mlp.fc1", inputs: hidden, outputs: inner)
                    hooks.mlpPost = b.module("\(p).intermediate.intermediate_act_fn") {
                        b.node("Gelu", [hooks.mlpPre], ["approximate": .string(gelu)])
                    }
                    return hooks.mlpPost
                }
                return try b.module("\(p).output") { () throws -> String in
                    hooks.mlpOut = try layer.linear(intermediate, "\(p).output.dense", alternative: "\(v5).mlp.fc2", inputs: inner, outputs: hidden)
                    hooks.residPost = b.node("Add", [hooks.mlpOut, hooks.residMid])
                    return hooks.residPost
                }
            }
            hooks.register(block: block, in: b)
            b.alias("hidden_states.\(block + 1)", x)
        }
        x = try layer.layerNorm(x, "layernorm")
        let outputs = [x] + (try layer.pooler(x).map { [$0] } ?? [])
        return b.graph(outputs: outputs, defaultLayers: ["embeddings"] + (0..<layers).map { "encoder.layer.\($0)" } + ["layernorm"])
    }
}

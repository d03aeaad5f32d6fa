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

        /// transformers 5 names some ViT modules differently; checkpoints on the Hub use the
        /// names of transformers 4, which are the layer names here.
        func weight(_ name: String, _ alternative: String?, shape: [Int]) throws -> Tensor {
            try weights.tensor([name] + (alternative.map { [$0] } ?? []), shape: shape)
        }
        func linear(_ x: String, _ name: String, _ alternative: String? = nil, inputs: Int, outputs: Int, bias: Bool = true) throws -> String {
            try b.module(name) {
                b.linear(x, weight: try weight("\(name).weight", alternative.map { "\($0).weight" }, shape: [outputs, inputs]),
                         bias: bias ? try weight("\(name).bias", alternative.map { "\($0).bias" }, shape: [outputs]) : nil,
                         name: name)
            }
        }
        func layerNorm(_ x: String, _ name: String, _ alternative: String? = nil) throws -> String {
            try b.module(name) {
                b.layerNorm(x, weight: try weight("\(name).weight", alternative.map { "\($0).weight" }, shape: [hidden]),
                            bias: try weight("\(name).bias", alternative.map { "\($0).bias" }, shape: [hidden]),
                            epsilon: epsilon, name: name)
            }
        }

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

        for layer in 0..<layers {
            let p = "encoder.layer.\(layer)"
            let v5 = "layers.\(layer)"
            let input = x
            var hooks = BlockHooks(residPre: input, attentionOut: "", residMid: "", pattern: "", mlpPre: "", mlpPost: "", mlpOut: "", residPost: "")
            x = try b.module(p) { () throws -> String in
                let normalized = try layerNorm(input, "\(p).layernorm_before", "\(v5).layernorm_before")
                hooks.attentionOut = try b.module("\(p).attention") { () throws -> String in
                    let context = try b.module("\(p).attention.attention") { () throws -> String in
                        let s = "\(p).attention.attention"
                        let q = try linear(normalized, "\(s).query", "\(v5).attention.q_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let k = try linear(normalized, "\(s).key", "\(v5).attention.k_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let v = try linear(normalized, "\(s).value", "\(v5).attention.v_proj", inputs: hidden, outputs: hidden, bias: qkvBias)
                        let result = b.attention(query: q, key: k, value: v, mask: nil, heads: heads, headSize: headSize, scale: scale)
                        hooks.pattern = result.pattern
                        return result.context
                    }
                    return try b.module("\(p).attention.output") {
                        try linear(context, "\(p).attention.output.dense", "\(v5).attention.o_proj", inputs: hidden, outputs: hidden)
                    }
                }
                hooks.residMid = b.node("Add", [hooks.attentionOut, input])
                let normalized2 = try layerNorm(hooks.residMid, "\(p).layernorm_after", "\(v5).layernorm_after")
                let intermediate = try b.module("\(p).intermediate") { () throws -> String in
                    hooks.mlpPre = try linear(normalized2, "\(p).intermediate.dense", "\(v5).mlp.fc1", inputs: hidden, outputs: inner)
                    hooks.mlpPost = b.module("\(p).intermediate.intermediate_act_fn") {
                        b.node("Gelu", [hooks.mlpPre], ["approximate": .string(gelu)])
                    }
                    return hooks.mlpPost
                }
                return try b.module("\(p).output") { () throws -> String in
                    hooks.mlpOut = try linear(intermediate, "\(p).output.dense", "\(v5).mlp.fc2", inputs: inner, outputs: hidden)
                    hooks.residPost = b.node("Add", [hooks.mlpOut, hooks.residMid])
                    return hooks.residPost
                }
            }
            hooks.register(block: layer, in: b)
            b.alias("hidden_states.\(layer + 1)", x)
        }
        x = try layerNorm(x, "layernorm")
        var outputs = [x]
        if weights.has("pooler.dense.weight") {
            let last = x
            outputs.append(try b.module("pooler") { () throws -> String in
                let first = b.node("Gather", [last, b.integer(0)], ["axis": .int(1)])
                let dense = try linear(first, "pooler.dense", inputs: hidden, outputs: hidden)
                return b.module("pooler.activation") { b.node("Tanh", [dense]) }
            })
        }
        return b.graph(outputs: outputs, defaultLayers: ["embeddings"] + (0..<layers).map { "encoder.layer.\($0)" } + ["layernorm"])
    }
}

import Analysis
import Foundation
import Networks

/// A network to train: its layers, the shape of one input, and the way out to a graph and a
/// checkpoint that the Probe module (and Python's `safetensors`) can read.
public final class Model {
    /// The architecture's name, recorded in checkpoints' provenance.
    public let architecture: String
    public let body: any Layer
    /// One input's shape, `[C, H, W]`.
    public let inputShape: [Int]

    /// The graph input's and output's names.
    public static let inputName = "input"
    public static let outputName = "logits"

    public init(architecture: String, body: any Layer, inputShape: [Int]) {
        self.architecture = architecture
        self.body = body
        self.inputShape = inputShape
    }

    public var parameters: [Parameter] { body.parameters }
    /// The number of trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// The logits of a batch of inputs, `[N, C, H, W]` values row-major, recorded on `tape`.
    public func logits(_ inputs: [Float], batch: Int, on tape: Tape) -> Variable {
        body(tape.constant(inputs, shape: [batch] + inputShape))
    }

    /// The logits of a batch of images, a float32 tensor `[N, C, H, W]` with the model's
    /// `[C, H, W]`, recorded on `tape`.
    ///
    /// - Throws: ``TrainingError`` for a tensor of another shape or element type.
    public func logits(_ images: Tensor, on tape: Tape) throws -> Variable {
        guard images.shape.count == inputShape.count + 1, Array(images.shape.dropFirst()) == inputShape, let values = images.floats else {
            throw TrainingError("\(architecture) takes float32 images [N, \(inputShape.map(String.init).joined(separator: ", "))], got \(images.dataType) \(images.shape)")
        }
        return logits(values, batch: images.shape[0], on: tape)
    }

    /// The network as an ONNX-style graph with the current weights and statistics as
    /// initializers: what ``Networks/Network`` runs, `repprobe layers` lists and checkpoints
    /// store.
    public func graph() -> Graph {
        var builder = GraphBuilder()
        let output = body.export(Self.inputName, into: &builder)
        var nodes = builder.nodes
        // The last node writes the graph output under its public name.
        if let last = nodes.indices.last, nodes[last].outputs == [output] { nodes[last].outputs = [Self.outputName] }
        return Graph(inputs: [Graph.Input(name: Self.inputName, dataType: .float32, shape: [nil] + inputShape.map { $0 }) ],
                     outputs: [Self.outputName], initializers: builder.initializers,
                     initializerOrder: builder.initializerOrder, nodes: nodes, opsets: ["": builder.opset])
    }

    /// A runnable copy of the network for inference (batch normalisation from its running
    /// statistics).
    public func network() throws -> Network { try Network(graph: graph(), file: "\(architecture) (in training)") }

    /// Writes repprobe's own checkpoint: a safetensors file with the graph in its metadata.
    public func writeCheckpoint(to url: URL) throws { try NativeCheckpoint.write(graph(), to: url) }

    /// Loads every stored array (parameters and running statistics) from a model file that
    /// ``Networks/ModelLoader`` reads (a checkpoint written here, an ONNX file or a PyTorch
    /// state dict with its graph), by state-dict name.
    ///
    /// - Throws: ``TrainingError`` naming the arrays the model has and the file lacks, or
    ///   an array of the wrong size.
    public func load(from url: URL, graph graphURL: URL? = nil) throws {
        let loaded = try ModelLoader.load(url, graph: graphURL)
        var values: [String: [Float]] = [:]
        for (name, tensor) in loaded.graph.initializers {
            if let floats = tensor.floats { values[name] = floats }
        }
        let used = try body.load(values)
        let missing = body.state.map(\.name).filter { !used.contains($0) }
        guard missing.isEmpty else {
            throw TrainingError("\(url.lastPathComponent) has no values for \(missing.joined(separator: ", "))")
        }
    }
}

/// The architectures the repository's models and experiments use.
public enum Architectures {
    /// The digit networks of `models/make_models.py`: a 16×16 grey image → 10 logits
    /// through a 5×5 stem, two stages of `blocks` blocks of two 3×3 convolutions (residual
    /// or plain), a 2×2 max-pool between the stages, global average pooling and a linear
    /// classifier. With `blocks` 2 and `width` 12 it is `DigitNet` exactly (same module
    /// paths, same state-dict names, 11 014 parameters).
    public static func digitNet(residual: Bool, blocks: Int = 2, width: Int = 12, classes: Int = 10,
                                seed: UInt64) -> Model {
        var generator = SeededGenerator(seed: seed)
        let stem = Sequential("stem", [
            Conv2D("stem.0", inputs: 1, outputs: width, kernel: 5, padding: 2, bias: false, generator: &generator),
            BatchNorm("stem.1", channels: width),
            Function("stem.2", .relu),
        ])
        func stage(_ name: String) -> Sequential {
            Sequential(name, (0..<blocks).map { index in
                ResidualBlock("\(name).\(index)", channels: width, residual: residual, generator: &generator)
            })
        }
        let layer1 = stage("layer1")
        let pool1 = Function("pool1", .maxPool(kernel: 2, stride: 2))
        let layer2 = stage("layer2")
        let body = Sequential("", [
            stem, layer1, pool1, layer2,
            Function("pool2", .globalAveragePool),
            Function("", .flatten),
            Dense("fc", inputs: width, outputs: classes, generator: &generator),
        ])
        let kind = residual ? "residual" : "plain"
        return Model(architecture: "digits-\(kind)-\(blocks)x2-w\(width)", body: body, inputShape: [1, 16, 16])
    }

    /// Tiny-10 as Kornblith et al. (2019) describe it, the network whose ten copies they
    /// compared layer by layer: seven 3×3 convolutions (to 16, 16, 32 with stride 2, 32,
    /// 32, 64 with stride 2, and 64 without padding channels) and a 1×1 convolution to 64,
    /// each followed by batch normalisation and ReLU, then global average pooling and a linear
    /// classifier. Each convolution with its normalisation and ReLU is one module,
    /// `conv1` … `conv8` (children `.0`, `.1`, `.2` as in a PyTorch `Sequential`), so a
    /// module's output is the post-ReLU activation.
    public static func tiny10(inputShape: [Int] = [1, 16, 16], classes: Int = 10, seed: UInt64) -> Model {
        var generator = SeededGenerator(seed: seed)
        let specification: [(outputs: Int, kernel: Int, stride: Int, padding: Int)] = [
            (16, 3, 1, 1), (16, 3, 1, 1), (32, 3, 2, 1), (32, 3, 1, 1),
            (32, 3, 1, 1), (64, 3, 2, 1), (64, 3, 1, 0), (64, 1, 1, 0),
        ]
        var channels = inputShape[0]
        var layers: [any Layer] = []
        for (index, layer) in specification.enumerated() {
            let name = "conv\(index + 1)"
            layers.append(Sequential(name, [
                Conv2D("\(name).0", inputs: channels, outputs: layer.outputs, kernel: layer.kernel,
                       stride: layer.stride, padding: layer.padding, bias: false, generator: &generator),
                BatchNorm("\(name).1", channels: layer.outputs),
                Function("\(name).2", .relu),
            ]))
            channels = layer.outputs
        }
        layers += [
            Function("pool", .globalAveragePool),
            Function("", .flatten),
            Dense("fc", inputs: channels, outputs: classes, generator: &generator),
        ]
        return Model(architecture: "tiny-10", body: Sequential("", layers), inputShape: inputShape)
    }
}

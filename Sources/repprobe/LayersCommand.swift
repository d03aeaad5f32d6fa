import ArgumentParser
import Foundation
import RepProbeKit

struct LayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "List the layers of a model that can be hooked: module path, tensor name, operator and shape.",
        discussion: """
            Shapes are those of one input of the given shape (default: the shape the model \
            declares, with symbolic dimensions set to 1), found by running the model once on zeros.
            """
    )

    @Argument(help: "Model: .onnx, repprobe checkpoint, or a PyTorch/safetensors state dict with --graph.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: ArgumentHelp("Input shape for the listed shapes, e.g. 1,3,224,224 (NAME=1,3,224,224 per input for several inputs).", valueName: "shape"))
    var inputShape: [String] = []

    @Flag(help: "List every node output, not only module outputs.")
    var all = false

    @Flag(help: "Print JSON: [{\"name\", \"tensor\", \"op\", \"shape\"}].")
    var json = false

    func run() throws {
        let loaded = try modelOptions.load(model)
        let network = loaded.network
        var feed: [String: Tensor] = [:]
        for input in network.graph.inputs {
            let given = inputShape.first { $0.hasPrefix(input.name + "=") }.map { String($0.dropFirst(input.name.count + 1)) }
                ?? (network.graph.inputs.count == 1 ? inputShape.first : nil)
            let shape: [Int]
            if let given {
                let parsed = given.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard parsed.count == given.split(separator: ",").count, parsed.allSatisfy({ $0 > 0 }) else {
                    throw ValidationError("--input-shape '\(given)' is not a list of positive integers")
                }
                shape = parsed
            } else {
                guard let declared = input.shape else {
                    throw ValidationError("input '\(input.name)' declares no shape; give one with --input-shape")
                }
                shape = declared.map { $0 ?? 1 }
            }
            feed[input.name] = try network.zeros(for: input, shape: shape)
        }
        let hooked = HookedNetwork(network)
        let catalog = hooked.catalog
        // Without module paths (exporters other than PyTorch's), every node output but
        // constants is a layer.
        let shown = all ? catalog.entries
            : catalog.modules.isEmpty ? catalog.entries.filter { $0.opType != "Constant" }
            : catalog.entries.filter { $0.module != nil || $0.opType == "input" }
        var shapes: [String: [Int]] = [:]
        _ = try network.run(feed, intercepting: Set(shown.map(\.tensor))) { name, tensor in
            shapes[name] = tensor.shape
            return nil
        }
        struct Row: Encodable { var name: String; var tensor: String; var op: String; var shape: [Int]? }
        var rows: [Row] = shown.map { Row(name: $0.module ?? $0.tensor, tensor: $0.tensor, op: $0.opType, shape: shapes[$0.tensor]) }
        if !all && !catalog.modules.isEmpty {
            // Container modules end on the same tensor as their last child: show the container too.
            for module in catalog.modules where !rows.contains(where: { $0.name == module.path }) {
                if let index = rows.firstIndex(where: { $0.tensor == module.tensor }) {
                    rows.insert(Row(name: module.path, tensor: module.tensor, op: rows[index].op, shape: rows[index].shape), at: index + 1)
                }
            }
        }
        if json {
            print(try Output.json(rows), terminator: "")
            return
        }
        let nameWidth = min(48, rows.map(\.name.count).max() ?? 4)
        let opWidth = rows.map(\.op.count).max() ?? 2
        print("\(loaded.kind.rawValue) model, \(network.graph.nodes.count) nodes, opset \(network.graph.opset)")
        for row in rows {
            let shape = row.shape.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "?"
            let tensor = row.tensor == row.name ? "" : "  " + row.tensor
            print(row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                  + row.op.padding(toLength: opWidth, withPad: " ", startingAt: 0) + "  " + shape + tensor)
        }
    }
}

import ArgumentParser
import Foundation
import RepProbeKit

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Run two models on the same inputs and print the CKA between every hooked layer of A and of B.",
        discussion: """
            Both models see the same inputs in the same order. Each layer's activation is reduced \
            (--reduce, default mean over space or tokens) and compared with CKA; rows are the \
            layers of A, columns those of B.
            """
    )

    @Argument(help: "Model A.")
    var modelA: String

    @Argument(help: "Model B (default: A against itself).")
    var modelB: String?

    @Option(help: ArgumentHelp("ONNX graph for model A when it is a state dict.", valueName: "model.onnx"))
    var graphA: String?

    @Option(help: ArgumentHelp("ONNX graph for model B when it is a state dict.", valueName: "model.onnx"))
    var graphB: String?

    @OptionGroup var inputOptions: InputOptions
    @OptionGroup var capture: CaptureOptions

    @Option(help: ArgumentHelp("Layers of B, if they differ from --layers.", valueName: "names"))
    var layersB: String?

    @OptionGroup var cka: CKAArguments

    @Flag(help: "Print {\"layers_a\": [...], \"layers_b\": [...], \"matrix\": [[...]]} instead of a table.")
    var json = false

    func run() throws {
        let a = try activations(modelA, graph: graphA, layers: capture.filter, label: "A")
        var b: ActivationSet?
        if let modelB {
            let filter = layersB.map { CaptureOptions.filter($0) } ?? capture.filter
            b = try activations(modelB, graph: graphB, layers: filter, label: "B")
        }
        let table = try cka.table(a, b)
        if json {
            print(try Output.json(MatrixJSON(table)), terminator: "")
        } else {
            print("\(cka.label), \(a.sampleCount) samples, reduction \(capture.reduction)")
            print(table.text(), terminator: "")
        }
    }

    private func activations(_ path: String, graph: String?, layers: LayerFilter, label: String) throws -> ActivationSet {
        let loaded = try loadModel(path, graph: graph)
        let hooked = HookedNetwork(loaded.network)
        let collector = ActivationCollector()
        try Capture.run(
            hooked, inputs: try inputOptions.sources(for: loaded.network),
            settings: Capture.Settings(layers: layers, reduction: capture.reduction, batchSize: inputOptions.batchSize),
            into: collector, progress: Diagnostics.progressBar("model \(label)"))
        return try collector.activationSet(source: path)
    }
}

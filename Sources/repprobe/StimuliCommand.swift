import ArgumentParser
import Foundation
import RepProbeKit

struct StimuliCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stimuli",
        abstract: "Write the stimuli of a probe set (and their labels) as .npy files.",
        discussion: """
            The images are float32 [samples, channels, height, width] at the input size of the \
            model given with --model, or of --shape; generated probe sets (gratings, noise, deadleaves) are \
            drawn at that size. A text probe set is tokenized by the tokenizer of --model: the output \
            holds the int64 token ids [sentences, tokens], and NAME.attention_mask.npy and \
            NAME.token_type_ids.npy beside it the mask and token types. The files feed `repprobe run`, \
            `capture` and `probe`.
            """
    )

    @Argument(help: "Probe set: a name in probes/ or a YAML file.")
    var probe: String

    @OptionGroup var probePaths: ProbePathOptions

    @Option(help: ArgumentHelp("Take the input size from this model.", valueName: "model"))
    var model: String?

    @Option(help: ArgumentHelp("Input size as channels,height,width.", valueName: "C,H,W"))
    var shape: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Output .npy of the images, or of the token ids of a text probe set.", valueName: "inputs.npy"))
    var output: String

    @Option(help: ArgumentHelp("Output .npy of the labels (int64), when the probe set has them.", valueName: "labels.npy"))
    var labels: String?

    func validate() throws {
        guard (model == nil) != (shape == nil) else { throw ValidationError("give either --model or --shape") }
        if let shape, parsedShape(shape) == nil {
            throw ValidationError("--shape must be three positive integers channels,height,width, got '\(shape)'")
        }
    }

    private func parsedShape(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 3, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { return nil }
        return values.compactMap { $0 }
    }

    func run() throws {
        for path in [output] + (labels.map { [$0] } ?? []) { try AtomicFile.checkWritable(URL(fileURLWithPath: path)) }
        let set: ProbeSet
        var written: [String] = []
        if let model {
            let network = try loadModel(model, graph: nil).network
            set = try ProbeSet.load(probe, for: network, allowing: probePaths, otherwise: "give --shape")
            if set.text != nil {
                let sources = try set.sources(for: network)
                let url = URL(fileURLWithPath: output)
                let stem = url.deletingPathExtension()
                for name in ["input_ids", "attention_mask", "token_type_ids"] {
                    guard let source = sources[name] else { continue }
                    let tensor = try source.batch(0..<source.count)
                    let file = name == "input_ids" ? url : stem.appendingPathExtension(name).appendingPathExtension("npy")
                    try NPY.write(NumericArray(shape: tensor.shape, int64: tensor.elements(as: Int64.self) ?? []), to: file)
                    written.append("\(file.path): \(tensor.shape.map(String.init).joined(separator: " × ")) int64 \(name)")
                }
            }
        } else {
            set = try ProbeSet.load(probe, inputShape: parsedShape(shape ?? "") ?? [], allowing: probePaths.folders)
            if set.text != nil { throw ValidationError("'\(set.name)' is a text probe set: give --model, whose tokenizer reads it") }
        }
        if set.text == nil {
            guard let values = set.inputs.floats else { return }
            try NPY.write(NumericArray(shape: set.inputs.shape, float32: values), to: URL(fileURLWithPath: output))
            written.append("\(output): \(set.inputs.shape.map(String.init).joined(separator: " × ")) float32")
        }
        if let labels {
            guard let classes = set.labels else { throw ValidationError("probe set '\(set.name)' has no labels") }
            try NPY.write(NumericArray(shape: [classes.count], int64: classes.map(Int64.init)), to: URL(fileURLWithPath: labels))
            written.append("\(labels): \(classes.count) labels, \(Set(classes).count) classes")
        }
        print(written.joined(separator: "\n"))
    }
}

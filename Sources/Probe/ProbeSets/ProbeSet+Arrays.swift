import Activations
import Formats
import Foundation
import Networks

extension ProbeSet {
    /// A probe set of the samples in an `.npy` array (samples first), with the integer class
    /// labels of `labels` (`.npy`) if given; named after the array's file, reduced by `mean`.
    ///
    /// - Throws: ``FormatError`` or ``ActivationError`` for a file that cannot be read,
    ///   ``ProbeError/invalidInput(file:problem:)`` when the label count differs from the
    ///   sample count.
    public init(array url: URL, labels labelURL: URL? = nil) throws {
        let tensor = Tensor(try NPY.read(url))
        var labels: [Int]?
        if let labelURL {
            let values = try Labels.load(labelURL)
            guard values.count == tensor.shape.first else {
                throw ProbeError.invalidInput(
                    file: labelURL.path, problem: "\(values.count) labels for \(tensor.shape.first ?? 0) inputs in \(url.path)")
            }
            labels = values
        }
        self.init(name: url.deletingPathExtension().lastPathComponent, inputs: tensor, labels: labels,
                  files: [url] + (labelURL.map { [$0] } ?? []), reduction: .mean)
    }

    /// Samples `range` only, with their labels and factors.
    public func slice(_ range: Range<Int>) throws -> ProbeSet {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw ProbeError.invalidInput(file: name, problem: "samples \(range) are outside the \(count) samples")
        }
        var copy = self
        copy.inputs = try TensorInputs(inputs, origin: name).batch(range)
        copy.text?.sentences = text.map { Array($0.sentences[range]) } ?? []
        copy.labels = labels.map { Array($0[range]) }
        copy.factors = factors.mapValues { Array($0[range]) }
        return copy
    }
}

extension Network {
    /// The `[channels, height, width]` of the network's single image input, which probe sets
    /// are drawn for.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for a network with several inputs
    ///   or an input without a fixed `[batch, channels, height, width]` shape.
    public func imageInputShape() throws -> [Int] {
        guard graph.inputs.count == 1, let input = graph.inputs.first else {
            throw ProbeError.invalidInput(file: file, problem: "\(graph.inputs.count) inputs; probe sets feed models with one image input")
        }
        guard let shape = input.shape, shape.count == 4, shape.dropFirst().allSatisfy({ $0 != nil }) else {
            throw ProbeError.invalidInput(file: file, problem: "input '\(input.name)' has no fixed [batch, channels, height, width] shape")
        }
        return shape.dropFirst().map { $0 ?? 0 }
    }
}

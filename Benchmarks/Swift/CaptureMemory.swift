import Foundation
import RepProbeKit

// repprobe-bench --capture-memory MODEL INPUTS.npy OUT.npz [LAYER ...]
//
// A streamed capture (inputs read batch by batch from the .npy file, activations reduced
// per batch and written to the .npz file as they come) and the process's peak resident
// memory at its end. Without layer names, the catalogue's default layers are captured.
// Peak memory should not grow with the number of inputs: run it once per input size.

struct CaptureMemoryReport: Encodable {
    var tool = "repprobe"
    var model: String
    var inputs: String
    var samples: Int
    var layers: [String]
    var reduction: String
    var batch: Int
    var seconds: Double
    /// `VmHWM` once the network is loaded and before the first batch, in KiB.
    var peakAfterLoadKiB: Int?
    /// `VmHWM` after the capture, in KiB.
    var peakKiB: Int?

    enum CodingKeys: String, CodingKey {
        case tool, model, inputs, samples, layers, reduction, batch, seconds
        case peakAfterLoadKiB = "peak_rss_after_load_kib"
        case peakKiB = "peak_rss_kib"
    }
}

/// The batch size of the memory test.
let captureBatchSize = 64

func captureMemory(model: URL, inputs: URL, output: URL, layers: [String]) throws {
    BLASThreads.set(2)
    let network = try Network(graph: ONNXImporter.load(model), file: model.lastPathComponent)
    let hooked = HookedNetwork(network)
    guard let inputName = network.graph.inputs.first?.name else {
        throw BenchmarkDataError(description: "\(model.lastPathComponent) has no input")
    }
    let source = try NPYInputs(inputs)
    let settings = Capture.Settings(
        layers: layers.isEmpty ? .all : .names(layers), reduction: .mean, batchSize: captureBatchSize)
    let afterLoad = peakResidentKiB()
    log("repprobe: capturing \(source.count) inputs of \(inputs.lastPathComponent), batch \(captureBatchSize)")
    let clock = ContinuousClock()
    var captured: [String] = []
    let elapsed = try clock.measure {
        captured = try Capture.run(hooked, inputs: [inputName: source], settings: settings, into: NPZActivationWriter(output))
    }
    let peak = peakResidentKiB()
    log("  peak resident memory \(peak.map { "\($0 / 1024) MiB" } ?? "unknown") (\(afterLoad.map { "\($0 / 1024) MiB" } ?? "unknown") after loading)")
    try printJSON(CaptureMemoryReport(
        model: model.lastPathComponent, inputs: inputs.lastPathComponent, samples: source.count, layers: captured,
        reduction: Reduction.mean.description, batch: captureBatchSize,
        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
        peakAfterLoadKiB: afterLoad, peakKiB: peak))
}

/// The process's peak resident set size (`VmHWM` in /proc/self/status), in KiB; `nil`
/// where the file does not exist (systems other than Linux).
func peakResidentKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

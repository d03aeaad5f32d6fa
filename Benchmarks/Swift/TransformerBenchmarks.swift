import Foundation
import RepProbeKit

// repprobe-bench --transformers DATA_DIR
//
// Times Hugging Face folders built natively (BERT-base-shaped, ViT-B/16; written by
// transformers/make_models.py) with the protocol of transformers/python_bench.py: warm-up
// runs, then timed runs of the whole batch. Compares the last hidden state with
// onnxruntime's when python_bench.py has left it in DATA_DIR.

struct TransformerManifest: Decodable {
    struct Model: Decodable {
        var name: String
        var folder: String
        var batch: Int
        var inputs: [String: String]
    }

    var threads: Int
    var warmup: Int
    var runs: Int
    var models: [Model]
}

struct TransformerMeasurement: Encodable {
    var model: String
    var batch: Int
    var runs: [Double]
    var best: Double
    var median: Double
    var samplesPerSecond: Double
    var samplesPerSecondMedian: Double
    var maxRelativeError: Double?
    var loadSeconds: Double

    enum CodingKeys: String, CodingKey {
        case model, batch, runs, best, median
        case samplesPerSecond = "samples_per_second"
        case samplesPerSecondMedian = "samples_per_second_median"
        case maxRelativeError = "max_relative_error"
        case loadSeconds = "load_seconds"
    }
}

struct TransformerReport: Encodable {
    var tool = "repprobe"
    var measurements: [TransformerMeasurement]
}

func benchmarkTransformers(_ folder: URL) throws {
    let manifest = try JSONDecoder().decode(
        TransformerManifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    BLASThreads.set(manifest.threads)
    log("repprobe: \(BLASThreads.configuration), threads=\(BLASThreads.count)")
    var measurements: [TransformerMeasurement] = []
    let clock = ContinuousClock()
    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
    for model in manifest.models {
        var network: Network?
        let load = try clock.measure { network = try ModelLoader.load(folder.appendingPathComponent(model.folder)).network }
        guard let network, let output = network.graph.outputs.first else { continue }
        var feed: [String: Tensor] = [:]
        for (name, file) in model.inputs { feed[name] = Tensor(try NPY.read(folder.appendingPathComponent(file))) }
        var result: [String: Tensor] = [:]
        for _ in 0..<manifest.warmup { result = try network.run(feed) }
        var runs: [Double] = []
        for _ in 0..<manifest.runs { runs.append(seconds(try clock.measure { result = try network.run(feed) })) }
        let best = runs.min() ?? .nan, median = median(runs)
        var measurement = TransformerMeasurement(
            model: model.name, batch: model.batch, runs: runs, best: best, median: median,
            samplesPerSecond: Double(model.batch) / best, samplesPerSecondMedian: Double(model.batch) / median,
            loadSeconds: seconds(load))
        let reference = folder.appendingPathComponent("ort_\(model.folder).npy")
        if let tensor = result[output], FileManager.default.fileExists(atPath: reference.path) {
            measurement.maxRelativeError = try difference(tensor, NPY.read(reference), name: output).relative
        }
        log("  \(model.name): " + String(format: "%.2f samples/s best, %.2f median; load %.1f s; max rel. error vs onnxruntime ",
                   measurement.samplesPerSecond, measurement.samplesPerSecondMedian, measurement.loadSeconds)
            + (measurement.maxRelativeError.map { String(format: "%.1e", $0) } ?? "–"))
        measurements.append(measurement)
    }
    try printJSON(TransformerReport(measurements: measurements))
}

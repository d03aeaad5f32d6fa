import Foundation
import RepProbeKit

// repprobe-bench --networks DATA_DIR
//
// Times `Network.run` on the models that `networks/make_models.py` wrote, with the
// protocol of `networks/ort_bench.py`: the manifest's untimed warm-up runs, then its timed
// runs per batch size; throughput is images over the best (and the median) wall-clock time.
// Where `ort_bench.py` has left its outputs in DATA_DIR, the outputs are compared with them.

/// `manifest.json` of a network benchmark folder (the part this side reads).
struct NetworkManifest: Decodable {
    struct Model: Decodable {
        var name: String
        var file: String
        var input: String
        var batches: [Int]
    }

    var threads: Int
    var warmup: Int
    /// Timed runs by batch size (JSON keys are strings).
    var runs: [String: Int]
    var models: [Model]
}

struct NetworkMeasurement: Encodable {
    var model: String
    var file: String
    var batch: Int
    var runs: [Double]
    var best: Double
    var median: Double
    var imagesPerSecond: Double
    var imagesPerSecondMedian: Double
    /// `max |repprobe − onnxruntime| / max |onnxruntime|` over the first output; `nil`
    /// when no onnxruntime output was found.
    var maxRelativeError: Double?
    var maxAbsoluteError: Double?

    enum CodingKeys: String, CodingKey {
        case model, file, batch, runs, best, median
        case imagesPerSecond = "images_per_second"
        case imagesPerSecondMedian = "images_per_second_median"
        case maxRelativeError = "max_relative_error"
        case maxAbsoluteError = "max_absolute_error"
    }
}

struct NetworkReport: Encodable {
    var tool = "repprobe"
    var blas: String
    var threads: Int
    var measurements: [NetworkMeasurement]
}

func benchmarkNetworks(_ folder: URL) throws {
    let manifest = try JSONDecoder().decode(
        NetworkManifest.self, from: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
    BLASThreads.set(manifest.threads)
    log("repprobe: \(BLASThreads.configuration), threads=\(BLASThreads.count)")
    var measurements: [NetworkMeasurement] = []
    for model in manifest.models {
        let url = folder.appendingPathComponent(model.file)
        let network = try Network(graph: ONNXImporter.load(url), file: model.file)
        guard let inputName = network.graph.inputs.first?.name else {
            throw BenchmarkDataError(description: "\(model.file) has no input")
        }
        let images = try NPY.read(folder.appendingPathComponent(model.input))
        log("repprobe: \(model.name)")
        for batch in model.batches {
            let feed = [inputName: try firstRows(images, batch, of: model.input)]
            var outputs: [String: Tensor] = [:]
            for _ in 0..<manifest.warmup { outputs = try network.run(feed) }
            var runs: [Double] = []
            let clock = ContinuousClock()
            for _ in 0..<(manifest.runs[String(batch)] ?? 10) {
                let elapsed = try clock.measure { outputs = try network.run(feed) }
                runs.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            }
            let best = runs.min() ?? .nan, median = median(runs)
            var measurement = NetworkMeasurement(
                model: model.name, file: model.file, batch: batch, runs: runs, best: best, median: median,
                imagesPerSecond: Double(batch) / best, imagesPerSecondMedian: Double(batch) / median)
            let stem = (model.file as NSString).deletingPathExtension
            let reference = folder.appendingPathComponent("ort_\(stem)_b\(batch).npy")
            var agreement = "no onnxruntime output to compare with"
            if let name = network.graph.outputs.first, let output = outputs[name],
               FileManager.default.fileExists(atPath: reference.path) {
                let (relative, absolute) = try difference(output, NPY.read(reference), name: name)
                measurement.maxRelativeError = relative
                measurement.maxAbsoluteError = absolute
                agreement = String(format: "max rel. error %.1e vs onnxruntime", relative)
            }
            log(String(format: "  batch %-3d %8.1f img/s best, %8.1f median (%d runs); ",
                       batch, Double(batch) / best, Double(batch) / median, runs.count) + agreement)
            measurements.append(measurement)
        }
    }
    try printJSON(NetworkReport(blas: BLASThreads.configuration, threads: BLASThreads.count, measurements: measurements))
}

/// Rows `0..<count` of a `[n, …]` float32 array, as a tensor.
func firstRows(_ array: NumericArray, _ count: Int, of file: String) throws -> Tensor {
    guard let rows = array.shape.first, rows >= count else {
        throw BenchmarkDataError(description: "\(file): \(array.shape) has fewer than \(count) rows")
    }
    let width = array.count / max(1, rows)
    let values = Array(array.floats()[0..<(count * width)])
    return Tensor(shape: [count] + array.shape.dropFirst(), elements: values)
}

/// `max |a − b| / max |b|` and `max |a − b|`, after checking that the shapes agree.
func difference(_ output: Tensor, _ reference: NumericArray, name: String) throws -> (relative: Double, absolute: Double) {
    guard output.shape == reference.shape, let values = output.floats else {
        throw BenchmarkDataError(description: "output '\(name)' \(output.shape) \(output.dataType) vs onnxruntime's \(reference.shape)")
    }
    let expected = reference.floats()
    var largestError = 0.0, largestValue = 0.0
    for (a, b) in zip(values, expected) {
        largestError = max(largestError, Double(abs(a - b)))
        largestValue = max(largestValue, Double(abs(b)))
    }
    return (largestValue > 0 ? largestError / largestValue : largestError, largestError)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// The report on stdout, in the format of the analysis benchmarks.
func printJSON<T: Encodable>(_ report: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    FileHandle.standardOutput.write(try encoder.encode(report))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

import Foundation
import RepProbeKit

/// `repprobe-bench --training DATA_DIR`: the Swift side of `Benchmarks/training/run.sh`.
///
/// Times training steps of the same networks, batch and optimiser as `torch_bench.py`:
/// zero the gradients, forward on a training tape, mean cross-entropy, backward, one Adam
/// step (lr 3e-3), on DATA_DIR/batch.npy and labels.npy. Prints JSON on stdout.
func benchmarkTraining(_ folder: URL, steps: Int = 30, warmup: Int = 5) throws {
    BLASThreads.set(2)
    let batch = try NPY.read(folder.appendingPathComponent("batch.npy"))
    let labels = try NPY.read(folder.appendingPathComponent("labels.npy")).int64s()?.map { Int($0) } ?? []
    let inputs = batch.floats()
    let size = batch.shape[0]
    struct Measurement: Encodable {
        var network: String
        var batch: Int
        var parameters: Int
        var best: Double
        var median: Double
        var runs: [Double]
    }
    var measurements: [Measurement] = []
    for (name, residual, blocks) in [("plain-cnn", false, 2), ("residual-cnn", true, 2), ("deep-residual-cnn", true, 6)] {
        let model = Architectures.digitNet(residual: residual, blocks: blocks, seed: 0)
        let optimiser = Adam(learningRate: 3e-3)
        var times: [Double] = []
        for step in 0..<(warmup + steps) {
            let start = DispatchTime.now().uptimeNanoseconds
            model.parameters.forEach { $0.zeroGradient() }
            let tape = Tape(training: true)
            tape.backward(from: model.logits(inputs, batch: size, on: tape).softmaxCrossEntropy(labels: labels))
            optimiser.step(model.parameters)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if step >= warmup { times.append(elapsed) }
        }
        let m = Measurement(network: name, batch: size, parameters: model.parameterCount, best: times.min() ?? .nan,
                            median: median(times), runs: times)
        log("repprobe \(name): best " + String(format: "%.1f ms, median %.1f ms", 1e3 * m.best, 1e3 * m.median))
        measurements.append(m)
    }
    struct Output: Encodable {
        var tool = "repprobe"
        var blas: String
        var threads: Int
        var measurements: [Measurement]
    }
    try printJSON(Output(blas: BLASThreads.configuration, threads: BLASThreads.count, measurements: measurements))
}

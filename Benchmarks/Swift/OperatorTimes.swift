import Foundation
import RepProbeKit

/// `repprobe-bench --operator-times MODEL INPUT.npy [RUNS]`: where a forward pass spends its
/// time, by operator type (the time between consecutive node outputs, summed over runs after
/// one warm-up), on 2 BLAS threads. Tensors inside fused chains are not hooked, so the
/// chains run as they do unhooked and are timed whole, under the chain's name.
func operatorTimes(model: String, input: String, runs: Int) throws {
    BLASThreads.set(2)
    let network = try ModelLoader.load(URL(fileURLWithPath: model)).network
    let tensor = Tensor(try NPY.read(URL(fileURLWithPath: input)))
    guard let name = network.graph.inputs.first?.name else { return }
    let fusions = network.fusions
    let interior = Set(fusions.flatMap(\.interior))
    // Fused chains' insides and tensors folded at compile time are not hooked: hooking them
    // would run what an unhooked run skips.
    let firstOutputs = Set(network.graph.nodes.compactMap { $0.outputs.first }).subtracting(interior)
        .subtracting(network.foldedTensors)
    var opOf: [String: String] = [:]
    for node in network.graph.nodes { if let out = node.outputs.first { opOf[out] = node.opType } }
    for fusion in fusions { opOf[fusion.output] = fusion.opType }
    var totals: [String: Double] = [:]
    var nodeTimes: [String: Double] = [:]
    var shapes: [String: [Int]] = [:]
    var overall = 0.0
    for run in 0...runs {
        var last = DispatchTime.now().uptimeNanoseconds
        let start = last
        _ = try network.run([name: tensor], intercepting: firstOutputs) { tensorName, value in
            let now = DispatchTime.now().uptimeNanoseconds
            if run > 0, let op = opOf[tensorName] {
                totals[op, default: 0] += Double(now - last) / 1e6
                nodeTimes[tensorName, default: 0] += Double(now - last) / 1e6
                shapes[tensorName] = value.shape
            }
            last = now
            return nil
        }
        if run > 0 { overall += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
    }
    print("per run: \(String(format: "%.1f", overall / Double(runs))) ms")
    for (op, ms) in totals.sorted(by: { $0.value > $1.value }) {
        print(op.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%8.1f ms  %5.1f %%", ms / Double(runs), 100 * ms / overall))
    }
    print("\nslowest nodes:")
    for (tensorName, ms) in nodeTimes.sorted(by: { $0.value > $1.value }).prefix(20) {
        let label = "\(opOf[tensorName] ?? "?") \(tensorName) \(shapes[tensorName] ?? [])"
        print(label.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%8.2f ms", ms / Double(runs)))
    }
}

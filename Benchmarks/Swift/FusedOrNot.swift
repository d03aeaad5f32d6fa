import Foundation
import RepProbeKit

/// `repprobe-bench --fused-or-not MODEL INPUT.npy`: a forward pass with its fused chains
/// (exported GELUs, products with their bias) against the same pass run node by node,
/// alternating in one process so that both see the same machine; 20 runs each after one
/// warm-up of each, 2 BLAS threads. Intercepting the `Erf` and `MatMul` outputs (and
/// returning them unchanged) is what makes the chains run node by node.
func fusedOrNot(model: String, input: String) throws {
    BLASThreads.set(2)
    let network = try ModelLoader.load(URL(fileURLWithPath: model)).network
    let tensor = Tensor(try NPY.read(URL(fileURLWithPath: input)))
    guard let name = network.graph.inputs.first?.name else { return }
    let interior = Set(network.graph.nodes.filter { $0.opType == "Erf" || $0.opType == "MatMul" }.compactMap(\.outputs.first))
    var fused: [Double] = [], stepwise: [Double] = []
    for run in 0..<42 {
        let start = DispatchTime.now().uptimeNanoseconds
        if run % 2 == 0 {
            _ = try network.run([name: tensor])
        } else {
            _ = try network.run([name: tensor], intercepting: interior) { _, _ in nil }
        }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if run >= 2 { run % 2 == 0 ? fused.append(milliseconds) : stepwise.append(milliseconds) }
    }
    fused.sort()
    stepwise.sort()
    print(String(format: "fused: median %.1f ms, best %.1f ms; node by node: median %.1f ms, best %.1f ms",
                 fused[fused.count / 2], fused[0], stepwise[stepwise.count / 2], stepwise[0]))
}

import RepProbeKit

/// The machine's BLAS rate: a square `dgemm` and `sgemm` through `Matrix.multiplied(by:)`.
/// Every GFLOP/s figure of the CKA tasks is read against these.
func benchmarkFloor(_ manifest: Manifest, _ recorder: inout Recorder) throws {
    let size = manifest.floor.size
    var generator = SeededGenerator(seed: 0)
    var a = Matrix<Double>(rows: size, columns: size)
    var b = Matrix<Double>(rows: size, columns: size)
    for i in a.storage.indices {
        a.storage[i] = generator.nextUnit()
        b.storage[i] = generator.nextUnit()
    }
    let shape = "\(size)×\(size)×\(size)"
    let flops = 2 * Double(size) * Double(size) * Double(size)
    log("repprobe: gemm floor")
    _ = try recorder.measure("floor.dgemm", shape: shape, flops: flops) { a.multiplied(by: b) }
    let a32: Matrix<Float> = a.converted(), b32: Matrix<Float> = b.converted()
    _ = try recorder.measure("floor.sgemm", shape: shape, flops: flops) { a32.multiplied(by: b32) }
}

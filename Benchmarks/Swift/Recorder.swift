import Foundation

/// One timed task: the best wall-clock time and every timed run, plus the numbers the
/// agreement checks compare with the Python side.
struct Measurement: Encodable {
    var id: String
    var shape: String
    var seconds: Double
    var runs: [Double]
    /// Floating-point operations of the BLAS work, for the GFLOP/s column.
    var flops: Double?
    var values: [String: [Double]] = [:]
}

/// Times closures: one untimed warm-up call, then the best of the manifest's repetitions.
struct Recorder {
    let repeats: [String: Int]
    private(set) var measurements: [Measurement] = []

    init(repeats: [String: Int]) {
        self.repeats = repeats
    }

    /// Runs `body` once untimed and then `repeats[repeatsKey]` times on the wall clock;
    /// returns the value of the last call.
    mutating func measure<T>(
        _ id: String, shape: String, repeatsKey: String = "default", flops: Double? = nil, _ body: () throws -> T
    ) throws -> T {
        let count = repeats[repeatsKey] ?? repeats["default"] ?? 3
        var value = try body()
        var runs = [Double]()
        let clock = ContinuousClock()
        for _ in 0..<count {
            let elapsed = try clock.measure { value = try body() }
            runs.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        let best = runs.min() ?? .nan
        log("  \(id.padding(toLength: 32, withPad: " ", startingAt: 0)) \(String(format: "%9.4f", best)) s  (best of \(count))")
        measurements.append(Measurement(id: id, shape: shape, seconds: best, runs: runs, flops: flops))
        return value
    }

    /// Adds result numbers to the measurement `id`.
    mutating func attach(_ id: String, _ values: [String: [Double]]) {
        guard let index = measurements.lastIndex(where: { $0.id == id }) else { return }
        measurements[index].values.merge(values) { $1 }
    }
}

/// Progress goes to stderr; stdout carries only the JSON report.
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

import Foundation
import RepProbeKit

// OpenBLAS's environment, as the command line sets it.
BLASThreads.restartWithEnvironment()

// repprobe-bench DATA_DIR [GROUP ...]
// repprobe-bench --networks DATA_DIR
// repprobe-bench --capture-memory MODEL INPUTS.npy OUT.npz [LAYER ...]
// repprobe-bench --training DATA_DIR
// repprobe-bench --fused-or-not MODEL INPUT.npy
//
// Times repprobe on the files that `make_data.py` wrote into DATA_DIR and prints a JSON
// report on stdout (progress on stderr). `run.sh` pairs it with `python_bench.py`.
// Naming groups runs only those; `breakdown` (the building blocks of CKA, for profiling)
// runs only when named. `--networks` and `--capture-memory` are the network benchmark
// (`networks/run.sh`): see NetworkBenchmarks.swift and CaptureMemory.swift.

struct Report: Encodable {
    var tool = "repprobe"
    var blas: String
    var threads: Int
    var measurements: [Measurement]
}

/// The task groups, in the order they run.
enum BenchmarkGroup: String, CaseIterable {
    case floor, cka, ckaMatrix = "cka_matrix", pca, probes, breakdown

    /// Groups that run when none is named.
    static let standard: [BenchmarkGroup] = [.floor, .cka, .ckaMatrix, .pca, .probes]

    func run(_ folder: DataFolder, _ manifest: Manifest, _ recorder: inout Recorder) throws {
        switch self {
        case .floor: try benchmarkFloor(manifest, &recorder)
        case .cka: try benchmarkCKA(folder, manifest, &recorder)
        case .ckaMatrix: try benchmarkCKAMatrix(folder, manifest, &recorder)
        case .pca: try benchmarkPCA(folder, manifest, &recorder)
        case .probes: try benchmarkProbes(folder, manifest, &recorder)
        case .breakdown: try benchmarkBreakdown(folder, manifest, &recorder)
        }
    }
}

func run(_ folder: DataFolder, only selected: [BenchmarkGroup]) throws {
    let manifest = try folder.manifest()
    BLASThreads.set(manifest.threads)
    log("repprobe: \(BLASThreads.configuration), threads=\(BLASThreads.count)")
    var recorder = Recorder(repeats: manifest.repeats)
    for group in BenchmarkGroup.allCases where selected.isEmpty ? BenchmarkGroup.standard.contains(group) : selected.contains(group) {
        try group.run(folder, manifest, &recorder)
    }

    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let report = Report(blas: BLASThreads.configuration, threads: BLASThreads.count, measurements: recorder.measurements)
    FileHandle.standardOutput.write(try encoder.encode(report))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch (arguments.first, arguments.count) {
case ("--networks", 2):
    do { try benchmarkNetworks(URL(fileURLWithPath: arguments[1])) } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--transformers", 2):
    do { try benchmarkTransformers(URL(fileURLWithPath: arguments[1])) } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--training", 2):
    do { try benchmarkTraining(URL(fileURLWithPath: arguments[1])) } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--fused-or-not", 3):
    do { try fusedOrNot(model: arguments[1], input: arguments[2]) } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--operator-times", 3...4):
    do {
        try operatorTimes(model: arguments[1], input: arguments[2], runs: arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5)
    } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--capture-memory", 4...):
    let paths = arguments[1...3].map { URL(fileURLWithPath: $0) }
    do { try captureMemory(model: paths[0], inputs: paths[1], output: paths[2], layers: Array(arguments.dropFirst(4))) } catch {
        log("repprobe-bench: \(error)")
        exit(1)
    }
    exit(0)
case ("--networks", _), ("--capture-memory", _):
    log("usage: repprobe-bench --networks DATA_DIR   (DATA_DIR written by Benchmarks/networks/make_models.py)")
    log("       repprobe-bench --capture-memory MODEL INPUTS.npy OUT.npz [LAYER ...]")
    exit(2)
default:
    break
}
let selected = arguments.dropFirst().compactMap(BenchmarkGroup.init(rawValue:))
guard let dataPath = arguments.first, selected.count == arguments.count - 1 else {
    let names = BenchmarkGroup.allCases.map(\.rawValue).joined(separator: ", ")
    log("usage: repprobe-bench DATA_DIR [GROUP ...]   (DATA_DIR written by Benchmarks/make_data.py; groups: \(names))")
    log("       repprobe-bench --networks DATA_DIR | --capture-memory MODEL INPUTS.npy OUT.npz [LAYER ...]")
    exit(2)
}
do {
    try run(DataFolder(url: URL(fileURLWithPath: dataPath)), only: selected)
} catch {
    log("repprobe-bench: \(error)")
    exit(1)
}

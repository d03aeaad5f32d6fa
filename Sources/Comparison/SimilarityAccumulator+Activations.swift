import Activations
import Formats
import Foundation
import Probe
import Results

extension SimilarityAccumulator {
    /// The statistics of the linear CKA table (biased estimator) of activation files, `a`'s
    /// layers against `b`'s or against each other, over `shard` of their samples (all of
    /// them when `nil`): what `repprobe cka --shard K/N -o FILE` writes and ``merging(_:)``
    /// joins with the other shards'.
    ///
    /// Shards are cut between samples (``Shard/samples(of:)``). The provenance records each
    /// file as `activations_a` and `activations_b` by ``ActivationStream/fingerprint()``,
    /// which every shard computes alike without reading the file whole, and the reduction.
    ///
    /// - Parameters:
    ///   - memoryLimit: bytes the statistics may take.
    ///   - allPairsLimit: for `a` against `b`, keep the statistics of every pair of layers
    ///     (the tables within `a` and within `b` of a report) when they take at most this
    ///     many bytes, else only the pairs across.
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` when the files hold other numbers
    ///   of samples or the shard holds none; what ``ActivationStream/streamingCKA(_:_:memoryLimit:allPairsLimit:)``
    ///   throws.
    public init(streaming a: ActivationStream, against b: ActivationStream?, shard: Shard?, memoryLimit: Int, allPairsLimit: Int? = nil,
                repprobeVersion: String) throws {
        let total = a.sampleCount
        if let b, b.sampleCount != total {
            throw ProbeError.invalidInput(file: b.source, problem: "has \(b.sampleCount) samples where \(a.source) has \(total); "
                                          + "both must hold the same inputs in the same order")
        }
        let samples = shard?.samples(of: total) ?? 0..<total
        guard !samples.isEmpty else {
            throw ProbeError.invalidInput(file: a.source, problem: "shard \(shard.map { "\($0)" } ?? "1/1") of \(total) samples holds none"
                                          + (total > 0 ? ": use at most \(total) shards" : ""))
        }
        let statistics = try ActivationStream.streamingCKA(a.rows(samples), b?.rows(samples), memoryLimit: memoryLimit, allPairsLimit: allPairsLimit)
        var files = [try ComparisonResults.Provenance.File(activations: a, role: "activations_a")]
        if let b { files.append(try ComparisonResults.Provenance.File(activations: b, role: "activations_b")) }
        let provenance = Provenance(reduction: a.reduction, inputs: total, batchSize: 1, shardCount: shard?.count ?? 1, files: files,
                                    repprobeVersion: repprobeVersion)
        try self.init(statistics: statistics, provenance: provenance, shards: [shard?.index ?? 1], origin: a.source)
    }
}

extension ComparisonResults.Provenance.File {
    /// The record of an activation file: its name, and for a digest its
    /// ``ActivationStream/fingerprint()`` (the format says so).
    init(activations stream: ActivationStream, role: String) throws {
        self.init(role: role, name: URL(fileURLWithPath: stream.source).lastPathComponent, format: "safetensors, sampled digest",
                  sha256: try stream.fingerprint())
    }
}

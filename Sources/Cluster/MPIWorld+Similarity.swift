import Comparison
import Foundation

extension MPIWorld {
    /// One process's statistics of a comparison's table (its shard of the inputs, rank `r`
    /// running shard `r + 1` of `size`) joined at rank 0: the accumulator of every shard at
    /// rank 0, `nil` at the others.
    ///
    /// Rank 0 receives the others' statistics one at a time in rank order and joins each as
    /// it arrives (``SimilarityAccumulator/merging(_:)``): two accumulators in memory
    /// whatever the number of processes, and the very bytes `repprobe merge` gives for the
    /// same shards written to files. Sizes and outcomes travel by collectives first, so a
    /// process that failed does not leave the others waiting.
    ///
    /// - Throws: at rank 0, ``ClusterError/ranksFailed(_:)`` with the message of every rank
    ///   that failed (or whose statistics do not join); at the others,
    ///   ``ClusterError/anotherRankFailed``.
    public func merge(_ local: Result<SimilarityAccumulator, any Error>) throws -> SimilarityAccumulator? {
        let payload: [UInt8], succeeded: Bool
        switch local.flatMap({ accumulator in Result { try accumulator.encoded() } }) {
        case let .success(bytes): (payload, succeeded) = (Array(bytes), true)
        case let .failure(error): (payload, succeeded) = (Array(error.localizedDescription.utf8), false)
        }
        let outcomes = try allGather(succeeded ? 1 : 0), sizes = try allGather(Int64(payload.count))
        guard rank == 0 else {
            // After a failure only the failed send: their messages.
            if !succeeded || !outcomes.contains(0) { try send(payload, to: 0) }
            if outcomes.contains(0) { throw ClusterError.anotherRankFailed }
            return nil
        }
        var failures: [(ranks: [Int], message: String)] = []
        func fail(_ r: Int, _ message: String) {
            if let k = failures.firstIndex(where: { $0.message == message }) { failures[k].ranks.append(r) } else { failures.append(([r], message)) }
        }
        if !succeeded { fail(0, String(decoding: payload, as: UTF8.self)) }
        var merged = try? local.get()
        // Everything sent is received, even after a failure, so that no rank is left sending.
        for r in 1..<size {
            if outcomes.contains(0) && outcomes[r] == 1 { continue }
            let bytes = try receive(Int(sizes[r]), from: r)
            guard outcomes[r] == 1 else { fail(r, String(decoding: bytes, as: UTF8.self)); continue }
            guard failures.isEmpty, let joined = merged else { continue }
            do {
                merged = try SimilarityAccumulator.merging([joined, try SimilarityAccumulator(decoding: Data(bytes), file: "rank \(r)")])
            } catch {
                fail(r, error.localizedDescription)
            }
        }
        guard failures.isEmpty, let merged else { throw ClusterError.ranksFailed(failures) }
        return merged
    }
}

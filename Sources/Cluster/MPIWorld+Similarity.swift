import Comparison
import Foundation

extension MPIWorld {
    /// One process's statistics of a comparison's table (what `compute` returns) (its shard of the inputs, rank `r`
    /// running shard `r + 1` of `size`) joined at rank 0: the accumulator of every shard at
    /// rank 0, `nil` at the others.
    ///
    /// Rank 0 receives the others' statistics one at a time in rank order, straight into
    /// their arrays, and joins each as it arrives (``SimilarityAccumulator/merging(_:)``):
    /// two accumulators in memory whatever the number of processes, and the very bytes
    /// `repprobe merge` gives for the same shards written to files. Outcomes and header
    /// lengths travel by collectives first, so that a process that failed does not leave the
    /// others waiting.
    ///
    /// - Throws: at rank 0, ``ClusterError/ranksFailed(_:)`` with the message of every rank
    ///   that failed; at the others, ``ClusterError/anotherRankFailed``. Statistics that
    ///   arrive but do not join end the launch (``abort(_:)``) with their error, since the
    ///   ranks after them are still waiting to send.
    public func merge(_ compute: () throws -> SimilarityAccumulator) throws -> SimilarityAccumulator? {
        // First the outcome and the length of what follows: the header of the statistics, or
        // the message of the failure.
        var local: SimilarityAccumulator?
        var first: [UInt8]
        do {
            local = try compute()
            first = try local?.wireHeader() ?? []
        } catch {
            (local, first) = (nil, Array(error.localizedDescription.utf8))
        }
        let succeeded = local != nil
        let outcomes = try allGather(succeeded ? 1 : 0), lengths = try allGather(Int64(first.count))
        let anyFailed = outcomes.contains(0)
        guard rank == 0 else {
            // After a failure only the failed send: their messages.
            if !succeeded || !anyFailed { try first.withUnsafeBytes { try send($0, to: 0) } }
            if anyFailed { throw ClusterError.anotherRankFailed }
            try local?.forEachArray { try send($0, to: 0) }
            return nil
        }
        var failures: [(ranks: [Int], message: String)] = []
        func fail(_ r: Int, _ message: String) {
            if let k = failures.firstIndex(where: { $0.message == message }) { failures[k].ranks.append(r) } else { failures.append(([r], message)) }
        }
        if anyFailed {
            if !succeeded { fail(0, String(decoding: first, as: UTF8.self)) }
            for r in 1..<size where outcomes[r] == 0 {
                fail(r, String(decoding: try receive(Int(lengths[r]), from: r), as: UTF8.self))
            }
            throw ClusterError.ranksFailed(failures)
        }
        // The only reference, so that joining works in place.
        guard var merged = local else { throw ClusterError.ranksFailed([([0], "no statistics")]) }
        local = nil
        for r in 1..<size {
            do {
                let header = try receive(Int(lengths[r]), from: r)
                // Every array is received straight into the statistics it belongs to.
                let other = try SimilarityAccumulator(wireHeader: header, origin: "rank \(r)") { try receive(into: $0, from: r) }
                try merged.merge(other)
            } catch {
                // The ranks after this one are waiting to send: only an abort ends them.
                abort(error.localizedDescription)
            }
        }
        return merged
    }
}

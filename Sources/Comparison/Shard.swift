import Probe

/// One of `count` equal slices of a run's inputs, numbered from 1 as job arrays and
/// Hugging Face shard files number them (`3/8` is the third of eight).
///
/// Shard `k` of `n` over `N` samples takes samples `⌊(k−1)N/n⌋ ..< ⌊kN/n⌋`: consecutive,
/// disjoint, covering every sample, and sizes that differ by at most one. Run in batches,
/// shards are cut between whole batches instead (``samples(of:batchSize:)``), so that every
/// sample goes through the network in the very batch it would in one run: a network's float
/// arithmetic can depend on the batch a sample shares, and whole batches make the shards'
/// activations those of one run, bit for bit.
public struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 1 … ``count``.
    public let index: Int
    public let count: Int

    /// - Throws: ``ShardError`` unless `1 ≤ index ≤ count`.
    public init(_ index: Int, of count: Int) throws {
        guard count >= 1, (1...count).contains(index) else { throw ShardError(text: "\(index)/\(count)") }
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else { throw ShardError(text: text) }
        try self.init(index, of: count)
    }

    /// This shard's samples of `total`.
    public func samples(of total: Int) -> Range<Int> {
        // ⌊k·N/n⌋ with a double-width product, exact for any N.
        let bound = { (k: Int) in count.dividingFullWidth(k.multipliedFullWidth(by: total)).quotient }
        return bound(index - 1)..<bound(index)
    }

    /// This shard's samples of `total` run in batches of `batchSize`: shard `k` takes
    /// batches `⌊(k−1)B/n⌋ ..< ⌊kB/n⌋` of the `B = ⌈total / batchSize⌉`.
    public func samples(of total: Int, batchSize: Int) -> Range<Int> {
        precondition(batchSize >= 1, "a batch holds at least one sample")
        let batches = total / batchSize + (total % batchSize == 0 ? 0 : 1)
        let range = self.samples(of: batches)
        let bound = { (b: Int) in b.multipliedReportingOverflow(by: batchSize).overflow ? total : min(total, b * batchSize) }
        return bound(range.lowerBound)..<bound(range.upperBound)
    }

    public var description: String { "\(index)/\(count)" }

    /// How many of `total` samples each of `count` shards takes, in order, run in batches of
    /// `batchSize` (``samples(of:batchSize:)``).
    ///
    /// - Throws: ``ShardError`` for a count below 1.
    public static func sampleCounts(_ count: Int, of total: Int, batchSize: Int) throws -> [Int] {
        try (1...Swift.max(1, count)).map { try Shard($0, of: count).samples(of: total, batchSize: batchSize).count }
    }
}

extension Shard {
    /// This shard of `sources` (inputs of one sample count, by graph input), cut between
    /// batches of `batchSize` (``samples(of:batchSize:)``), with the samples it takes.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for a shard that holds no
    ///   samples, saying how many shards the inputs allow.
    public func slice(_ sources: [String: any InputSource], batchSize: Int) throws -> (sources: [String: any InputSource], samples: Range<Int>) {
        let total = sources.values.first?.count ?? 0
        let samples = self.samples(of: total, batchSize: batchSize)
        guard !samples.isEmpty || total == 0 else {
            let batches = (total + batchSize - 1) / batchSize
            throw ProbeError.invalidInput(file: sources.values.first?.origin ?? "<inputs>",
                                          problem: "shard \(self) of \(total) inputs in batches of \(batchSize) holds no samples: "
                                              + "use at most \(batches) shard\(batches == 1 ? "" : "s")")
        }
        return (try sources.mapValues { try InputSlice($0, range: samples) }, samples)
    }
}

/// A shard that is not `K/N` with `1 ≤ K ≤ N`.
public struct ShardError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "a shard is K/N with 1 ≤ K ≤ N (the K-th of N slices of the inputs), not '\(text)'" }
}

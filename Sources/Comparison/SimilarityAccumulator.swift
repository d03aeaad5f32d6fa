import Activations
import Analysis
import Formats
import Foundation
import LinearAlgebra
import Probe
import Results

/// The streamed CKA table of a comparison over some shards of its inputs, with what it was
/// computed from: what `repprobe compare --shard K/N` writes and `repprobe merge` joins.
///
/// Shards of one comparison join exactly (``merging(_:)``), in a fixed order, so the same
/// shards give the same bytes whatever order they are named in, and the joined table equals
/// the one of a single run over all inputs to rounding (1e-12).
///
/// ## File format (version 1)
///
/// A safetensors file whose `__metadata__` holds
/// - `format`: `repprobe-similarity-accumulator`, `version`: `1`;
/// - `provenance`: a JSON object (keys sorted) with `analysis` (`linear-cka-biased`),
///   `layers` (A's as `A.name`, then B's as `B.name`; B absent when A is compared with
///   itself), `reduction` (and `reduction_seed` for `project:K`), `inputs` (the samples of
///   all shards together), `batch_size` (shards are cut between batches), `shard_count`, `shards` (the 1-based shards this file covers),
///   `samples` (the samples it covers), `files` (role, name, format and SHA-256 of every
///   model, graph and input file; for statistics of activation files, `activations_a` and
///   `activations_b` with a digest of their layout and sampled rows,
///   ``ActivationStream/fingerprint()``, and `batch_size` 1), `probe_set` (the name of the
///   probe set or the input arrays), `repprobe_version`, and for A against B `pairs`: `all`
///   when the co-moments of every pair of layers are kept (the tables within A and within B
///   as well), `across` when only those the table of A against B reads are;
///
/// and the tensors `widths` (int64, one per layer), `means` (float64, `D = Σ widths`, the
/// mean of every feature of the layers side by side) and blocks of the co-moment matrix
/// `M = Σₖ (zₖ − z̄)(zₖ − z̄)ᵀ` over the samples covered (float64, symmetric blocks in
/// full): with `pairs` `across`, `comoments.0` … `comoments.{L−1}` each layer's own
/// `dᵢ × dᵢ` block, then `comoments.L` the `D_B × D_A` block of B's features against A's;
/// for A against itself, or `pairs` `all`, `comoments.0`, all of `M`.
///
/// Shards that kept every pair join with shards that kept the pairs across (a smaller
/// memory budget): the joined statistics keep the pairs across.
public struct SimilarityAccumulator: Sendable, Equatable {
    public static let format = "repprobe-similarity-accumulator"
    public static let version = 1
    /// The analysis the statistics serve.
    public static let analysis = "linear-cka-biased"

    /// What the statistics were computed from; two accumulators join only when these agree.
    public struct Provenance: Sendable, Codable, Equatable {
        public var reduction: String
        public var reductionSeed: UInt64?
        /// Samples over all shards.
        public var inputs: Int
        /// Samples per batch, which sets where shards are cut (``Shard/samples(of:batchSize:)``).
        public var batchSize: Int
        public var shardCount: Int
        /// Model, graph and input files.
        public var files: [ComparisonResults.Provenance.File]
        public var repprobeVersion: String
        /// The name of the probe set, or of the input arrays.
        public var probeSet: String?

        public init(reduction: Reduction, inputs: Int, batchSize: Int, shardCount: Int, files: [ComparisonResults.Provenance.File], repprobeVersion: String,
                    probeSet: String? = nil) {
            if case let .project(k, seed) = reduction {
                (self.reduction, reductionSeed) = ("project:\(k)", seed)
            } else {
                self.reduction = reduction.description
            }
            self.inputs = inputs
            self.batchSize = batchSize
            self.shardCount = shardCount
            self.files = files
            self.repprobeVersion = repprobeVersion
            self.probeSet = probeSet
        }
    }

    /// Layer statistics; layers are named `A.name` and `B.name`.
    public private(set) var statistics: StreamingCKA
    public let provenance: Provenance
    /// The shards covered, ascending.
    public private(set) var shards: [Int]
    /// Where the accumulator was read from, for messages (neither stored nor compared);
    /// after a merge, the files it joined.
    public var origin: String {
        get { origins.count <= 3 ? origins.joined(separator: " + ") : "\(origins[0]) + … + \(origins[origins.count - 1]) (\(origins.count) files)" }
        set { origins = [newValue] }
    }
    /// The origins of the accumulators joined in this one.
    private var origins: [String]

    public static func == (a: Self, b: Self) -> Bool {
        a.statistics == b.statistics && a.provenance == b.provenance && a.shards == b.shards
    }

    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for shards outside
    ///   `1 … provenance.shardCount`, repeated, or whose samples do not add up to the
    ///   statistics'.
    public init(statistics: StreamingCKA, provenance: Provenance, shards: [Int], origin: String = "<memory>") throws {
        self.statistics = statistics
        self.provenance = provenance
        self.shards = shards
        origins = [origin]
        guard provenance.inputs >= 0, provenance.batchSize >= 1 else {
            throw ProbeError.invalidInput(file: origin, problem: "has \(provenance.inputs) inputs in batches of \(provenance.batchSize)")
        }
        guard provenance.shardCount >= 1, !shards.isEmpty,
              shards == shards.sorted(), Set(shards).count == shards.count,
              shards.allSatisfy({ (1...provenance.shardCount).contains($0) }) else {
            throw ProbeError.invalidInput(file: origin, problem: "shards \(shards) are not distinct shards of 1…\(provenance.shardCount)")
        }
        // Only the shards covered: a file's shard count is not trusted to size anything.
        let expected = try shards.map { try Shard($0, of: provenance.shardCount).samples(of: provenance.inputs, batchSize: provenance.batchSize).count }.reduce(0, +)
        guard expected == statistics.samples else {
            throw ProbeError.invalidInput(file: origin, problem: "covers \(statistics.samples) samples where shards \(shardList) of \(provenance.inputs) inputs have \(expected)")
        }
        guard layersA.count + layersB.count == statistics.layerNames.count, !layersA.isEmpty else {
            throw ProbeError.invalidInput(file: origin, problem: "layers must be named A.name, then B.name: \(statistics.layerNames.prefix(8).joined(separator: ", "))")
        }
    }

    /// The layers of A (without their `A.` prefix).
    public var layersA: [String] { statistics.layerNames.filter { $0.hasPrefix("A.") }.map { String($0.dropFirst(2)) } }
    /// The layers of B; empty when A is compared with itself.
    public var layersB: [String] { statistics.layerNames.filter { $0.hasPrefix("B.") }.map { String($0.dropFirst(2)) } }
    /// Whether every shard is here.
    public var isComplete: Bool { shards == Array(1...provenance.shardCount) }

    /// The shards covered, as `1, 2, 5–8 of 8`.
    public var shardDescription: String { "\(shardList) of \(provenance.shardCount)" }

    /// `1, 2, 5–8`.
    var shardList: String {
        var runs: [String] = []
        var start = 0
        for k in shards.indices where k == shards.count - 1 || shards[k + 1] != shards[k] + 1 {
            runs.append(k == start ? "\(shards[k])" : "\(shards[start])–\(shards[k])")
            start = k + 1
        }
        return runs.joined(separator: ", ")
    }

    /// The CKA table of all shards.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` naming the missing shards when
    ///   some are, ``AnalysisError`` below two samples.
    public func similarity() throws -> LayerSimilarity {
        try tables().table
    }

    /// The CKA table of all shards and, when the statistics keep every pair of layers of A
    /// against B (``keepsAllPairs``), the tables within A and within B, from one evaluation
    /// of the statistics.
    ///
    /// - Throws: as ``similarity()``.
    public func tables() throws -> (table: LayerSimilarity, within: (a: [[Double]], b: [[Double]])?) {
        guard isComplete else {
            let missing = Set(1...provenance.shardCount).subtracting(shards).sorted()
            let shown = missing.prefix(10).map(String.init).joined(separator: ", ") + (missing.count > 10 ? ", …" : "")
            throw ProbeError.invalidInput(file: origin, problem: "covers shards \(shardDescription): shard\(missing.count == 1 ? "" : "s") \(shown) missing")
        }
        guard let reduction = Reduction(parsing: provenance.reduction, seed: provenance.reductionSeed ?? 0) else {
            throw ProbeError.invalidInput(file: origin, problem: "unknown reduction '\(provenance.reduction)'")
        }
        // A's layers against B's (or A's against themselves), and all pairs when kept.
        let matrix = try statistics.cka()
        let la = layersA.count
        let columns = layersB.isEmpty || keepsAllPairs == false ? 0..<matrix.columns : la..<matrix.columns
        let table = LayerSimilarity(layersA: layersA, layersB: layersB.isEmpty ? layersA : layersB,
                                    values: (0..<la).map { i in columns.map { matrix[i, $0] } }, samples: statistics.samples, reduction: reduction)
        guard keepsAllPairs, !layersB.isEmpty else { return (table, nil) }
        return (table, ((0..<la).map { i in (0..<la).map { matrix[i, $0] } },
                        (la..<matrix.rows).map { i in (la..<matrix.columns).map { matrix[i, $0] } }))
    }

    /// Whether the statistics of A against B keep every pair of layers, so that the tables
    /// within A and within B can be read from them too (always, for A against itself).
    public var keepsAllPairs: Bool { statistics.rowLayers == statistics.columnLayers }

    /// The same statistics with only the pairs across A and B kept (the values unchanged):
    /// what joins with shards that kept no more. A against itself, or statistics that keep
    /// the pairs across already, stay as they are.
    public func keepingPairsAcross() throws -> SimilarityAccumulator {
        guard keepsAllPairs, !layersB.isEmpty else { return self }
        var copy = self
        copy.statistics = try statistics.keepingTable(rowLayers: layersA.count)
        return copy
    }

    /// The accumulators joined in order of their first shard, so that any order of the same
    /// accumulators gives the same bytes.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` naming the file and the
    ///   difference when two come from other models, layers, inputs, reduction, shard count
    ///   or version, or cover a shard twice.
    public static func merging(_ parts: [SimilarityAccumulator]) throws -> SimilarityAccumulator {
        let ordered = parts.sorted { ($0.shards.first ?? 0) < ($1.shards.first ?? 0) }
        guard var joined = ordered.first else { throw ProbeError.invalidInput(file: "<merge>", problem: "there are no accumulators to merge") }
        for part in ordered.dropFirst() { try joined.merge(part) }
        return joined
    }

    /// The accumulators of `files` joined as ``merging(_:)`` joins them, read one at a time:
    /// two in memory, however many files.
    public static func merging(contentsOf files: [URL]) throws -> SimilarityAccumulator {
        // The order comes from the headers alone.
        let firsts = try files.map { url -> Int in
            try SmallFile.requireFile(url)
            let metadata = try Safetensors.read(url, names: []).metadata
            let header = try? JSONDecoder().decode(Header.self, from: Data((metadata["provenance"] ?? "").utf8))
            return header?.shards.first ?? 0
        }
        let ordered = files.indices.sorted { firsts[$0] < firsts[$1] }.map { files[$0] }
        guard let first = ordered.first else { throw ProbeError.invalidInput(file: "<merge>", problem: "there are no accumulators to merge") }
        var joined = try SimilarityAccumulator(contentsOf: first)
        for url in ordered.dropFirst() { try joined.merge(try SimilarityAccumulator(contentsOf: url)) }
        return joined
    }

    /// Joins `other`'s statistics (other shards of the same comparison) into these.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` as ``merging(_:)`` does;
    ///   nothing is joined then.
    public mutating func merge(_ other: SimilarityAccumulator) throws {
        try checkCompatible(other)
        if let twice = Set(shards).intersection(other.shards).min() {
            throw ProbeError.invalidInput(file: other.origin, problem: "shard \(twice) of \(other.provenance.shardCount) is also in \(origin)")
        }
        var other = other
        if keepsAllPairs != other.keepsAllPairs {
            // One kept every pair, the other the pairs across: both keep the pairs across.
            if keepsAllPairs { self = try keepingPairsAcross() }
            if other.keepsAllPairs { other = try other.keepingPairsAcross() }
        }
        try statistics.merge(other.statistics)
        shards = (shards + other.shards).sorted()
        origins += other.origins
    }

    /// Throws the first difference between what `other` and this one were computed from.
    func checkCompatible(_ other: SimilarityAccumulator) throws {
        func refuse(_ what: String, _ mine: String, _ theirs: String) throws -> Never {
            throw ProbeError.invalidInput(file: other.origin, problem: "\(what) \(theirs), where \(origin) has \(mine): not shards of one comparison")
        }
        let (a, b) = (provenance, other.provenance)
        if statistics.layerNames != other.statistics.layerNames {
            let mine = statistics.layerNames, theirs = other.statistics.layerNames
            if let k = zip(mine, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                try refuse("has layer \(k + 1)", "'\(mine[k])'", "'\(theirs[k])'")
            }
            try refuse("has layer count", "\(mine.count)", "\(theirs.count)")
        }
        if statistics.widths != other.statistics.widths {
            let k = zip(statistics.widths, other.statistics.widths).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            try refuse("gives layer '\(statistics.layerNames[k])' width", "\(statistics.widths[k])", "\(other.statistics.widths[k])")
        }
        if a.reduction != b.reduction || a.reductionSeed != b.reductionSeed {
            try refuse("has reduction", a.reduction + (a.reductionSeed.map { " (seed \($0))" } ?? ""), b.reduction + (b.reductionSeed.map { " (seed \($0))" } ?? ""))
        }
        if a.files != b.files {
            let roles = (a.files + b.files).map(\.role).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            for role in roles {
                let mine = a.files.first { $0.role == role }, theirs = b.files.first { $0.role == role }
                if mine != theirs {
                    let describe = { (f: ComparisonResults.Provenance.File?) in f.map { "\($0.name) (SHA-256 \($0.sha256.prefix(12))…)" } ?? "none" }
                    try refuse("has \(role.replacingOccurrences(of: "_", with: " "))", describe(mine), describe(theirs))
                }
            }
        }
        if a.probeSet != b.probeSet { try refuse("has probe set", a.probeSet ?? "none", b.probeSet ?? "none") }
        if a.inputs != b.inputs { try refuse("has inputs of", "\(a.inputs) samples", "\(b.inputs) samples") }
        if a.batchSize != b.batchSize { try refuse("has batches of", "\(a.batchSize) samples", "\(b.batchSize) samples") }
        if a.shardCount != b.shardCount { try refuse("is a shard of", "\(a.shardCount)", "\(b.shardCount)") }
        if a.repprobeVersion != b.repprobeVersion { try refuse("was written by repprobe", a.repprobeVersion, b.repprobeVersion) }
    }
}

// MARK: - The file

extension SimilarityAccumulator {
    /// What the metadata's `provenance` entry holds.
    private struct Header: Codable {
        var analysis: String
        var layers: [String]
        /// Only between processes; files hold them as a tensor.
        var widths: [Int]?
        var reduction: String
        var reductionSeed: UInt64?
        var inputs: Int
        var batchSize: Int
        var shardCount: Int
        var shards: [Int]
        var samples: Int
        var files: [ComparisonResults.Provenance.File]
        var repprobeVersion: String
        /// For A against B: `all` or `across` (absent: `across`).
        var pairs: String?
        var probeSet: String?

        enum CodingKeys: String, CodingKey {
            case analysis, layers, widths, reduction, reductionSeed = "reduction_seed", inputs, batchSize = "batch_size", shardCount = "shard_count"
            case shards, samples, files
            case repprobeVersion = "repprobe_version", pairs, probeSet = "probe_set"
        }

        /// How many of the layers are rows of the table (A's, when B's follow and only the
        /// pairs across are kept), or `nil` for every pair: the blocks of the statistics
        /// follow from it.
        var rowLayers: Int? {
            guard layers.contains(where: { $0.hasPrefix("B.") }), pairs != "all" else { return nil }
            return layers.filter { $0.hasPrefix("A.") }.count
        }
    }

    /// The file's bytes.
    public func encoded() throws -> Data {
        try Safetensors.encode(streaming: try fileTensors(), metadata: try fileMetadata())
    }

    /// Writes the file at once (a failure leaves no file, and an existing one untouched),
    /// block by block, without a second copy of the statistics in memory.
    public func write(to url: URL) throws {
        try Safetensors.write(try fileTensors(), metadata: try fileMetadata(), to: url)
    }

    private func header(widths: Bool) -> Header {
        let p = provenance
        return Header(analysis: Self.analysis, layers: statistics.layerNames, widths: widths ? statistics.widths : nil, reduction: p.reduction,
                      reductionSeed: p.reductionSeed, inputs: p.inputs, batchSize: p.batchSize, shardCount: p.shardCount, shards: shards,
                      samples: statistics.samples, files: p.files, repprobeVersion: p.repprobeVersion,
                      pairs: layersB.isEmpty ? nil : keepsAllPairs ? "all" : "across", probeSet: p.probeSet)
    }

    private static func json(_ header: Header) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(header)
    }

    private func fileMetadata() throws -> [String: String] {
        ["format": Self.format, "version": String(Self.version), "provenance": String(decoding: try Self.json(header(widths: false)), as: UTF8.self)]
    }

    /// `widths`, `means`, then each block: a symmetric block in full, the cross block as its
    /// transpose (`D_B × D_A`), which is how it lies in memory.
    private func fileTensors() throws -> [Safetensors.StreamedTensor] {
        let moments = statistics.statistics
        let widths = statistics.widths.map(Int64.init)
        var tensors = [
            Safetensors.StreamedTensor(name: "widths", elementType: .int64, shape: [widths.count]) { emit in try widths.withUnsafeBytes { try emit($0) } },
            Safetensors.StreamedTensor(name: "means", elementType: .float64, shape: [moments.width]) { emit in
                try moments.means.withUnsafeBytes { try emit($0) }
            },
        ]
        for (k, block) in moments.blocks.enumerated() {
            let (r, c) = (block.rows.count, block.columns.count)
            tensors.append(Safetensors.StreamedTensor(name: "comoments.\(k)", elementType: .float64, shape: [c, r]) { emit in
                try moments.values[k].storage.withUnsafeBufferPointer { m in
                    guard block.isSymmetric else { return try emit(UnsafeRawBufferPointer(m)) }
                    // Column j: the upper triangle down to the diagonal, then row j beyond it.
                    var column = [Double](repeating: 0, count: r)
                    for j in 0..<r {
                        for i in 0...j { column[i] = m[i + j * r] }
                        for i in (j + 1)..<max(j + 1, r) { column[i] = m[j + i * r] }
                        try column.withUnsafeBytes { try emit($0) }
                    }
                }
            })
        }
        return tensors
    }

    /// Reads an accumulator file.
    ///
    /// - Throws: ``FormatError`` for a file that is not readable safetensors,
    ///   ``ProbeError/invalidInput(file:problem:)`` naming the problem for one that is not an
    ///   accumulator of this version or whose statistics are inconsistent (widths, shapes,
    ///   non-finite values, an asymmetric or negative co-moment matrix, samples that do not
    ///   match its shards).
    public init(contentsOf url: URL) throws {
        try SmallFile.requireFile(url)
        // The arrays are read straight into place: the file's bytes are not kept besides.
        let directory = try Safetensors.directory(url)
        try self.init(metadata: directory.metadata, tensors: directory.tensors.mapValues { ($0.elementType, $0.shape) }, file: url.path) { name, buffer in
            guard let entry = directory.tensors[name] else { return }
            try Safetensors.readBytes(of: entry, in: url, into: buffer)
        }
    }

    public init(decoding data: Data, file: String) throws {
        let contents = try Safetensors.decode(data, file: file)
        let arrays = Dictionary(contents.tensors.map { ($0.name, $0.array) }, uniquingKeysWith: { a, _ in a })
        try self.init(metadata: contents.metadata, tensors: arrays.mapValues { ($0.elementType, $0.shape) }, file: file) { name, buffer in
            switch arrays[name]?.storage {
            case let .float64(values)?: values.withUnsafeBytes { buffer.copyMemory(from: $0) }
            case let .int64(values)?: values.withUnsafeBytes { buffer.copyMemory(from: $0) }
            default: break
            }
        }
    }

    /// An accumulator from a file's metadata and tensors: their element types and shapes,
    /// and `read`, which puts a tensor's bytes (little-endian, as stored) into a buffer of
    /// their size once its type and shape have been checked.
    private init(metadata: [String: String], tensors: [String: (type: ElementType, shape: [Int])], file: String,
                 read: (String, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        func refuse(_ problem: String) -> ProbeError { .invalidInput(file: file, problem: problem) }
        guard metadata["format"] == Self.format else {
            throw refuse("not a repprobe similarity accumulator (its metadata has no format '\(Self.format)'; `repprobe compare` or `repprobe cka` with --shard K/N -o FILE writes one)")
        }
        guard metadata["version"] == String(Self.version) else {
            throw refuse("accumulator version '\(metadata["version"] ?? "none")'; this repprobe reads version \(Self.version)")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data((metadata["provenance"] ?? "").utf8))
        } catch {
            let reason = (error as? DecodingError)?.summary ?? "\(error)"
            throw refuse("the provenance metadata is not the JSON of an accumulator (\(reason))")
        }
        guard header.analysis == Self.analysis else { throw refuse("holds statistics for '\(header.analysis)', not '\(Self.analysis)'") }
        guard let widthTensor = tensors["widths"], widthTensor.type == .int64, widthTensor.shape == [header.layers.count] else {
            throw refuse("needs an int64 tensor 'widths' with one entry per layer (\(header.layers.count))")
        }
        var stored = [Int64](repeating: 0, count: header.layers.count)
        try stored.withUnsafeMutableBytes { try read("widths", $0) }
        let widths = stored.map { Int(clamping: Int64(littleEndian: $0)) }
        guard widths.allSatisfy({ $0 >= 1 }) else { throw refuse("has a layer width below 1: \(widths.prefix(8))") }
        let (total, overflow) = widths.reduce((0, false)) { sum, w in
            let (next, o) = sum.0.addingReportingOverflow(w)
            return (next, sum.1 || o)
        }
        guard !overflow, let meanTensor = tensors["means"], meanTensor.type == .float64, meanTensor.shape == [total] else {
            throw refuse("needs a float64 tensor 'means' [\(total)] for layers of widths summing to \(total)")
        }
        guard header.samples >= 0 else { throw refuse("has \(header.samples) samples") }
        var mean = [Double](repeating: 0, count: total)
        try mean.withUnsafeMutableBytes { try read("means", $0) }
        guard mean.allSatisfy(\.isFinite) else { throw refuse("holds a NaN or infinite mean") }
        guard [nil, "all", "across"].contains(header.pairs) else { throw refuse("keeps pairs '\(header.pairs ?? "")', not 'all' or 'across'") }
        let rowLayers = header.rowLayers
        guard rowLayers.map({ (1..<widths.count).contains($0) }) ?? true else { throw refuse("has no layers of A") }
        let blocks = StreamingCKA.blocks(widths: widths, rowLayers: rowLayers)
        var values: [Matrix<Double>] = []
        for (k, block) in blocks.enumerated() {
            let (r, c) = (block.rows.count, block.columns.count)
            guard let tensor = tensors["comoments.\(k)"], tensor.type == .float64, tensor.shape == [c, r] else {
                throw refuse("needs a float64 tensor 'comoments.\(k)' [\(c), \(r)] for its layers (\(blocks.count) blocks in all)")
            }
            // Row-major `c × r` is column-major `r × c`.
            var matrix = Matrix<Double>(rows: r, columns: c)
            try matrix.storage.withUnsafeMutableBytes { try read("comoments.\(k)", $0) }
            try matrix.storage.withUnsafeBufferPointer { m in
                guard m.allSatisfy(\.isFinite) else { throw refuse("holds a NaN or infinite co-moment (comoments.\(k))") }
                guard block.isSymmetric else { return }
                for j in 0..<r {
                    guard m[j + j * r] >= 0 else { throw refuse("has a negative variance (comoments.\(k), feature \(j)): the statistics are damaged") }
                    for i in 0..<j where m[i + j * r] != m[j + i * r] {
                        throw refuse("has an asymmetric co-moment block (comoments.\(k)): the statistics are damaged")
                    }
                }
            }
            values.append(matrix)
        }
        try self.init(header: header, widths: widths, means: mean, values: values, origin: file)
    }

    /// An accumulator from a header (of a file or a process) and its arrays.
    private init(header: Header, widths: [Int], means: [Double], values: [Matrix<Double>], origin: String) throws {
        let rowLayers = header.rowLayers
        let statistics: StreamingCKA
        do {
            let moments = try CoMoments(samples: header.samples, means: means, blocks: StreamingCKA.blocks(widths: widths, rowLayers: rowLayers),
                                        values: values)
            statistics = try StreamingCKA(layerNames: header.layers, widths: widths, rowLayers: rowLayers, statistics: moments)
        } catch {
            throw ProbeError.invalidInput(file: origin, problem: "\(error)")
        }
        let provenance = Provenance(reduction: header.reduction, reductionSeed: header.reductionSeed, inputs: header.inputs, batchSize: header.batchSize,
                                    shardCount: header.shardCount, files: header.files, repprobeVersion: header.repprobeVersion,
                                    probeSet: header.probeSet)
        try self.init(statistics: statistics, provenance: provenance, shards: header.shards, origin: origin)
    }
}

extension SimilarityAccumulator.Provenance {
    init(reduction: String, reductionSeed: UInt64?, inputs: Int, batchSize: Int, shardCount: Int, files: [ComparisonResults.Provenance.File],
         repprobeVersion: String, probeSet: String?) {
        self.reduction = reduction
        self.reductionSeed = reductionSeed
        self.inputs = inputs
        self.batchSize = batchSize
        self.shardCount = shardCount
        self.files = files
        self.repprobeVersion = repprobeVersion
        self.probeSet = probeSet
    }
}

// MARK: - Between processes

extension SimilarityAccumulator {
    /// What goes first when the statistics travel between processes: the provenance, the
    /// layers and their widths as JSON. The arrays follow (``forEachArray(_:)``).
    public func wireHeader() throws -> [UInt8] {
        Array(try Self.json(header(widths: true)))
    }

    /// Hands `body` the arrays of the statistics as they lie in memory, in order: the means,
    /// then each block of co-moments.
    public func forEachArray(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let moments = statistics.statistics
        try moments.means.withUnsafeBytes { try body($0) }
        for matrix in moments.values { try matrix.storage.withUnsafeBytes { try body($0) } }
    }

    /// Statistics received from another process: `wireHeader`, then `receive` fills each
    /// array of ``forEachArray(_:)`` in turn.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` naming `origin` for a header that
    ///   is not an accumulator's or statistics that do not fit it.
    public init(wireHeader: [UInt8], origin: String, receive: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(wireHeader))
        } catch {
            throw ProbeError.invalidInput(file: origin, problem: "sent statistics whose header is not an accumulator's (\(error))")
        }
        guard let widths = header.widths, widths.count == header.layers.count, widths.allSatisfy({ $0 >= 1 }) else {
            throw ProbeError.invalidInput(file: origin, problem: "sent statistics without one width of at least 1 per layer")
        }
        let blocks = StreamingCKA.blocks(widths: widths, rowLayers: header.rowLayers)
        func array(_ count: Int) throws -> [Double] {
            var values = [Double](repeating: 0, count: count)
            try values.withUnsafeMutableBytes { try receive($0) }
            return values
        }
        let means = try array(widths.reduce(0, +))
        let values = try blocks.map { Matrix(rows: $0.rows.count, columns: $0.columns.count, columnMajor: try array($0.rows.count * $0.columns.count)) }
        try self.init(header: header, widths: widths, means: means, values: values, origin: origin)
    }
}

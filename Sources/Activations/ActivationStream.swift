import Analysis
import Formats
import Foundation
import LinearAlgebra

/// Activations read a block of samples at a time, for files larger than memory: a
/// safetensors file, a set of shards that `capture` wrote (``ArrayShards``) or a `.npy`
/// file in C order, whose rows are reached in place without reading the rest.
///
/// The analyses that have streamed forms run over it with memory set by the layers' widths:
/// linear CKA with the biased estimator (``streamingCKA(_:_:memoryLimit:)``), PCA from
/// co-moments (``coMoments(memoryLimit:)``) or, for layers too wide for their covariance, a
/// randomized sketch (``pca(components:memoryLimit:seed:)``), and ridge probes
/// (``ridgeProbe(layer:labels:folds:alphas:controlSeed:memoryLimit:)``). Blocks are sized
/// to the memory budget.
public struct ActivationStream: Sendable {
    /// Where the activations come from, for messages.
    public let source: String
    /// The layers, in file order or in the order requested.
    public let layerNames: [String]
    public let reduction: Reduction
    private let shards: ArrayShards
    /// One per layer, kept: a projection is drawn once, not for every block.
    private let reducers: [Reducer]
    /// The file's samples this stream reads (``rows(_:)``), numbered from 0 in the stream.
    private let fileRows: Range<Int>

    /// Opens `url` for streaming.
    ///
    /// - Parameters:
    ///   - reduction: how arrays of rank ≥ 3 become matrices, block by block.
    ///   - layers: the layers to read, in the order wanted; `nil`: all but `sample_ids`.
    /// - Throws: ``ActivationError/notStreamable(file:format:)`` for a format that cannot
    ///   be read in blocks (`.npz`, PyTorch), ``ActivationError`` for unknown, repeated or
    ///   integer layers, ``FormatError`` for a damaged file or a `.npy` in Fortran order.
    public init(_ url: URL, reduction: Reduction = .flatten, layers: [String]? = nil) throws {
        try self.init(try Self.rows(of: url), source: url.path, reduction: reduction, layers: layers)
    }

    /// The arrays of `url` read by rows in place: a set of shards, a safetensors file whose
    /// tensors share their first dimension, or a `.npy` file in C order.
    static func rows(of url: URL) throws -> ArrayShards {
        if let index = ArrayShards.index(for: url) { return try ArrayShards(index: index) }
        switch try FileFormat.detect(url) {
        case .safetensors: return try ArrayShards(file: url)
        case .npy: return try ArrayShards(npy: url)
        case let format: throw ActivationError.notStreamable(file: url.path, format: "\(format)")
        }
    }

    /// `layers` of `shards` (all but `sample_ids` when `nil`), read from `source`.
    init(_ shards: ArrayShards, source: String, reduction: Reduction, layers: [String]?) throws {
        self.shards = shards
        self.source = source
        self.reduction = reduction
        let available = shards.names.filter { $0 != ActivationSet.sampleIDsName }
        if let layers {
            for name in layers where !available.contains(name) {
                throw ActivationError.unknownName(file: source, name: name, available: available)
            }
            try ActivationSet.checkUnique(layers, file: source)
            layerNames = layers
        } else {
            layerNames = available
        }
        guard !layerNames.isEmpty else { throw ActivationError.noArrays(file: source) }
        reducers = layerNames.map { Reducer(reduction, layer: $0, source: source) }
        fileRows = 0..<shards.rowCount
        for entry in shards.entries where layerNames.contains(entry.name) {
            guard entry.elementType.isFloatingPoint else {
                throw ActivationError.integerArray(file: source, layer: entry.name, elementType: entry.elementType)
            }
        }
    }

    /// Whether `url` can be streamed: a set of shards, a safetensors file or a `.npy` file.
    public static func canStream(_ url: URL) -> Bool {
        ArrayShards.index(for: url) != nil || [.safetensors, .npy].contains(try? FileFormat.detect(url))
    }

    /// Streams of `urls`, when reading them whole would take more than `budget` bytes
    /// (``bytesInMemory``, summed); `nil` when they fit.
    ///
    /// - Throws: ``ActivationError/notStreamable(file:format:)`` when they do not fit and one
    ///   of them cannot be streamed, and what ``init(_:reduction:layers:)`` throws.
    public static func streams(ifLargerThan budget: Int, _ urls: [URL], reduction: Reduction, layers: [String]?) throws -> [ActivationStream]? {
        let streamable = urls.filter(canStream)
        guard !streamable.isEmpty else { return nil }
        let streams = try streamable.map { try ActivationStream($0, reduction: reduction, layers: layers) }
        var total = 0
        for stream in streams {
            guard let bytes = stream.bytesInMemory else { total = .max; break }
            total = total.addingReportingOverflow(bytes).overflow ? .max : total + bytes
        }
        guard total > budget else { return nil }
        if let other = urls.first(where: { !canStream($0) }) {
            throw ActivationError.notStreamable(file: other.path, format: (try? FileFormat.detect(other)).map { "\($0)" } ?? "unknown")
        }
        return streams
    }

    public var sampleCount: Int { fileRows.count }

    /// The same layers over samples `range` of this stream alone (a shard of it), read
    /// where they lie; messages still give positions in the whole file.
    public func rows(_ range: Range<Int>) -> ActivationStream {
        precondition(range.lowerBound >= 0 && range.upperBound <= sampleCount, "samples \(range) of \(sampleCount)")
        let start = fileRows.lowerBound + range.lowerBound
        return ActivationStream(source: source, layerNames: layerNames, reduction: reduction, shards: shards, reducers: reducers,
                                fileRows: start..<(start + range.count))
    }

    /// Bytes the layers would take as the float64 matrices of an in-memory analysis, as
    /// stored (a reduction makes them smaller), or `nil` beyond any machine.
    public var bytesInMemory: Int? {
        var total = 0
        for entry in shards.entries where layerNames.contains(entry.name) {
            let (cells, o1) = entry.rowShape.reduce(1, *).multipliedReportingOverflow(by: sampleCount)
            let (sum, o2) = total.addingReportingOverflow(cells)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        let (bytes, overflow) = total.multipliedReportingOverflow(by: MemoryLayout<Double>.size)
        return overflow ? nil : bytes
    }

    /// A SHA-256 that tells activation files apart without reading them whole: of the file's
    /// layout (its number of samples, and each array's name, element type and row shape) and
    /// of the stored values of 8 samples of each layer read, spread evenly over all of the
    /// file's samples from the first to the last. Every shard of a file (``rows(_:)``) has
    /// the file's.
    public func fingerprint() throws -> String {
        var digest = SHA256()
        let total = shards.rowCount
        var layout = "samples \(total)\n"
        for entry in shards.entries { layout += "\(entry.name) \(entry.elementType) \(entry.rowShape)\n" }
        digest.update(Data(layout.utf8))
        let picks = total == 0 ? [] : Array(Set((0..<8).map { $0 * (total - 1) / 7 })).sorted()
        for name in layerNames {
            for row in picks {
                try shards.rows(row..<(row + 1), of: name).doubles().map(\.bitPattern.littleEndian).withUnsafeBytes { digest.update($0) }
            }
        }
        return digest.hexDigest()
    }

    /// Samples `range` of every layer, reduced: one samples × features matrix per layer.
    ///
    /// - Throws: ``ActivationError/nonFinite(file:layer:index:position:value:)`` with the
    ///   index in the whole array, ``ActivationError`` for a reduction that does not apply.
    public func block(_ range: Range<Int>) throws -> [Matrix<Double>] {
        try layerNames.indices.map { try block(range, layer: $0) }
    }

    /// Samples `range` of layer `k` alone, reduced, as ``block(_:)`` reads each layer.
    public func block(_ range: Range<Int>, layer k: Int) throws -> Matrix<Double> {
        let name = layerNames[k]
        precondition(range.lowerBound >= 0 && range.upperBound <= sampleCount, "samples \(range) of \(sampleCount)")
        let inFile = (fileRows.lowerBound + range.lowerBound)..<(fileRows.lowerBound + range.upperBound)
        let array = try shards.rows(inFile, of: name)
        if let (index, value) = array.firstNonFinite() {
            var position = array.position(ofFlatIndex: index)
            position[0] += inFile.lowerBound
            throw ActivationError.nonFinite(file: source, layer: name, index: index + inFile.lowerBound * (array.count / max(range.count, 1)),
                                            position: position, value: value)
        }
        guard array.rank >= 1 else { throw ActivationError.scalarArray(file: source, layer: name) }
        let (rows, features) = try reducers[k].reduce(array.doubles(), shape: array.shape)
        return Matrix(rows: range.count, columns: features, rowMajor: rows)
    }

    /// Layer `k` over every sample, read a block at a time straight into its matrix: memory
    /// for the matrix and one block of `blockBytes` or so, not for the file's bytes, their
    /// decoded values and a row-major copy besides (what reading the file whole takes).
    public func matrix(layer k: Int, blockBytes: Int = 16 << 20) throws -> Matrix<Double> {
        var result: Matrix<Double>?
        try forEachBlock(layer: k, memoryLimit: blockBytes * 10) { block, range in
            if result == nil { result = Matrix(rows: sampleCount, columns: block.columns) }
            let n = sampleCount, r = range.count
            result!.storage.withUnsafeMutableBufferPointer { target in
                block.storage.withUnsafeBufferPointer { source in
                    for j in 0..<block.columns {
                        (target.baseAddress! + j * n + range.lowerBound).update(from: source.baseAddress! + j * r, count: r)
                    }
                }
            }
        }
        return result ?? Matrix(rows: 0, columns: 0)
    }

    /// Cross-validated ridge probes of layer `k` (``StreamingRidgeProbe``), two passes over
    /// its samples in blocks.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` when the per-fold statistics would
    ///   take more than `memoryLimit` bytes, and what the probe throws.
    public func ridgeProbe(layer k: Int, labels: [Int], folds: [Int], alphas: [Double], controlSeed: UInt64?, memoryLimit: Int = .max) throws -> ProbeEvaluation {
        guard labels.count == sampleCount else {
            throw AnalysisError.sampleCountMismatch(first: sampleCount, second: labels.count, context: "\(source): labels of the streamed probe")
        }
        var checked = false
        return try StreamingRidgeProbe.evaluate(labels: labels, folds: folds, alphas: alphas, controlSeed: controlSeed) { body in
            try forEachBlock(layer: k, memoryLimit: memoryLimit) { x, range in
                if !checked {
                    // Each fold's co-moments of the features and the one-hot (shuffled) labels,
                    // a training set's, and its eigen-decomposition (about three more).
                    let width = Double(x.columns + 2 * Set(labels).count)
                    let bytes = Double(Set(folds).count + 4) * width * width * 8
                    try Self.check(bytes, layers: [layerNames[k]], widths: [x.columns], limit: memoryLimit, in: source, what: "probe")
                    checked = true
                }
                try body(x, range)
            }
        }
    }

    /// Hands `body` every block of every layer, in order, in blocks sized to take at most a
    /// tenth of `memoryLimit` (``blockSamples(memoryLimit:layers:)``).
    public func forEachBlock(memoryLimit: Int = .max, _ body: ([Matrix<Double>], Range<Int>) throws -> Void) throws {
        let size = blockSamples(memoryLimit: memoryLimit)
        for start in stride(from: 0, to: sampleCount, by: size) {
            let range = start..<min(sampleCount, start + size)
            try body(try block(range), range)
        }
    }

    /// ``forEachBlock(memoryLimit:_:)`` for layer `k` alone.
    public func forEachBlock(layer k: Int, memoryLimit: Int = .max, _ body: (Matrix<Double>, Range<Int>) throws -> Void) throws {
        let size = blockSamples(memoryLimit: memoryLimit, layers: [k])
        for start in stride(from: 0, to: sampleCount, by: size) {
            let range = start..<min(sampleCount, start + size)
            try body(try block(range, layer: k), range)
        }
    }

    /// Each layer's means and co-moments over every sample: what its PCA needs
    /// (``PCA/fit(_:components:)``).
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` when the layers' `dᵢ × dᵢ`
    ///   co-moments would take more than `memoryLimit` bytes.
    public func coMoments(memoryLimit: Int = .max) throws -> [CoMoments] {
        var moments: [CoMoments] = []
        try forEachBlock(memoryLimit: memoryLimit) { block, _ in
            if moments.isEmpty {
                let widths = block.map(\.columns)
                let squares = widths.map { Double($0) * Double($0) * 8 }.reduce(0, +)
                try Self.check(squares, layers: layerNames, widths: widths, limit: memoryLimit, in: source, what: "PCA")
                moments = widths.map { CoMoments(width: $0) }
            }
            for (k, matrix) in block.enumerated() { try moments[k].add(matrix) }
        }
        return moments
    }

    /// Refuses statistics of `bytes` beyond `limit`, or beyond any machine (9e18), naming
    /// the widest layers; the bytes are counted in `Double`, which no layer sizes overflow.
    private static func check(_ bytes: Double, layers: [String], widths: [Int], limit: Int, in source: String, what: String) throws {
        let byteCount = bytes < 9e18 ? Int(bytes) : nil
        guard byteCount.map({ $0 > limit }) ?? true else { return }
        let widest = zip(layers, widths).sorted { $0.1 > $1.1 }.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        throw AnalysisError.invalidArgument(
            "\(source): the streamed \(what) statistics of \(widths.count) layers (\(widths.reduce(0, +)) features; widest \(widest)) would take "
            + "\(byteCount.map(ByteSize.readable) ?? "more memory than any machine has"), more than the \(ByteSize.readable(limit)) budget: "
            + "reduce the layers (--reduce mean or project:K) or name fewer (--layers)")
    }

    /// The same file with only `layers` (which it holds), in that order.
    public func selecting(_ layers: [String]) -> ActivationStream {
        let reducers = layers.map { name in
            guard let k = layerNames.firstIndex(of: name) else { preconditionFailure("'\(name)' is not a layer of the stream") }
            return self.reducers[k]
        }
        return ActivationStream(source: source, layerNames: layers, reduction: reduction, shards: shards, reducers: reducers, fileRows: fileRows)
    }

    private init(source: String, layerNames: [String], reduction: Reduction, shards: ArrayShards, reducers: [Reducer], fileRows: Range<Int>) {
        self.source = source
        self.layerNames = layerNames
        self.reduction = reduction
        self.shards = shards
        self.reducers = reducers
        self.fileRows = fileRows
    }

    /// Samples per block such that a block of `layers` (all: `nil`), in the several copies
    /// reading and reducing it makes (stored, decoded, float64, reduced), takes at most a
    /// tenth of `memoryLimit`; between 1 and 4096.
    public func blockSamples(memoryLimit: Int, layers: [Int]? = nil) -> Int {
        let names = Set((layers ?? Array(layerNames.indices)).map { layerNames[$0] })
        let row = shards.entries.filter { names.contains($0.name) }.map { Double($0.rowShape.reduce(1, *)) * 8 * 4 }.reduce(0, +)
        return Swift.max(1, Swift.min(4096, Int(Swift.min(Double(memoryLimit) / 10 / Swift.max(row, 1), 4096))))
    }

    /// Each layer's width after the reduction (read from the first sample).
    public func reducedWidths() throws -> [Int] {
        guard sampleCount > 0 else { return layerNames.map { _ in 0 } }
        return try block(0..<1).map(\.columns)
    }

    /// The leading `components` principal components of every layer, streamed: from each
    /// layer's co-moments (exact, one pass for all such layers) while their `dᵢ × dᵢ`
    /// matrices fit `memoryLimit` together, taken in order; the layers beyond it by a
    /// randomized sketch (``PCA/sketch(width:components:oversampling:powerIterations:seed:pass:)``,
    /// several passes each, no participation ratio). `sketched` says which.
    ///
    /// - Throws: ``AnalysisError/invalidArgument(_:)`` when even a sketch of a layer would
    ///   take more than `memoryLimit`.
    public func pca(components: Int, memoryLimit: Int, seed: UInt64 = 0) throws -> [(layer: String, pca: PCAResult, sketched: Bool)] {
        let widths = try reducedWidths()
        var exact: [String] = [], used = 0.0
        for (name, width) in zip(layerNames, widths) {
            let bytes = Double(width) * Double(width) * 8
            if used + bytes <= Double(memoryLimit) { exact.append(name); used += bytes }
        }
        var results: [String: (PCAResult, Bool)] = [:]
        if !exact.isEmpty {
            let moments = try selecting(exact).coMoments(memoryLimit: memoryLimit)
            for (name, m) in zip(exact, moments) {
                results[name] = (try PCA.fit(m, components: Swift.min(components, m.samples, m.width)), false)
            }
        }
        for (k, name) in layerNames.enumerated() where results[name] == nil {
            // The sketch's d × l matrices (Y, Q and products), besides a block.
            let l = Double(Swift.min(widths[k], components + 10))
            let bytes = 4 * Double(widths[k]) * l * 8
            try Self.check(bytes, layers: [name], widths: [widths[k]], limit: memoryLimit * 9 / 10, in: source, what: "PCA sketch")
            let pca = try PCA.sketch(width: widths[k], components: Swift.min(components, widths[k], sampleCount), seed: seed) { body in
                try forEachBlock(layer: k, memoryLimit: memoryLimit) { x, _ in try body(x) }
            }
            results[name] = (pca, true)
        }
        return layerNames.compactMap { name in results[name].map { (name, $0.0, $0.1) } }
    }

    /// Minibatch CKA (Nguyen et al. 2021, ``MinibatchCKA``: the unbiased HSIC of each batch of
    /// `batchSize` samples, averaged over batches) of every pair of `a`'s layers and `b`'s
    /// (named `A.name` and `B.name`), or of `a`'s alone (`A.name`); a last batch of fewer than 4 samples
    /// is left out and counted.
    ///
    /// - Throws: ``ActivationError/sampleCountMismatch(file:layer:count:expected:reference:)``
    ///   when `a` and `b` hold other numbers of samples.
    public static func minibatchCKA(_ a: ActivationStream, _ b: ActivationStream?, batchSize: Int) throws -> (accumulator: MinibatchCKA, skipped: Int) {
        precondition(batchSize >= 1, "batches of at least one sample")
        if let b, b.sampleCount != a.sampleCount {
            throw ActivationError.sampleCountMismatch(file: b.source, layer: b.layerNames[0], count: b.sampleCount, expected: a.sampleCount,
                                                      reference: "\(a.layerNames[0]) of \(a.source)")
        }
        var accumulator = MinibatchCKA(layerNames: a.layerNames.map { "A.\($0)" } + (b?.layerNames.map { "B.\($0)" } ?? []))
        var skipped = 0
        for start in stride(from: 0, to: a.sampleCount, by: batchSize) {
            let range = start..<min(a.sampleCount, start + batchSize)
            guard range.count >= 4 else { skipped += range.count; continue }
            try accumulator.update(try a.block(range) + (b.map { try $0.block(range) } ?? []))
        }
        return (accumulator, skipped)
    }

    /// Linear CKA (biased estimator) of every pair of `a`'s layers, or of `a`'s layers
    /// against `b`'s, streamed a block of samples at a time: ``StreamingCKA`` with the
    /// layers named `A.name` and `B.name`.
    ///
    /// - Parameter allPairsLimit: for `a` against `b`, keep the statistics of every pair of
    ///   layers (for the tables within `a` and within `b` as well) when they take at most
    ///   this many bytes; otherwise only those of the pairs across.
    /// - Throws: ``ActivationError/sampleCountMismatch(file:layer:count:expected:reference:)``
    ///   when `a` and `b` hold other numbers of samples, ``AnalysisError/invalidArgument(_:)``
    ///   when the statistics would take more than `memoryLimit` bytes.
    public static func streamingCKA(_ a: ActivationStream, _ b: ActivationStream?, memoryLimit: Int = .max,
                                    allPairsLimit: Int? = nil) throws -> StreamingCKA {
        if let b, b.sampleCount != a.sampleCount {
            throw ActivationError.sampleCountMismatch(file: b.source, layer: b.layerNames[0], count: b.sampleCount, expected: a.sampleCount,
                                                      reference: "\(a.layerNames[0]) of \(a.source)")
        }
        let names = a.layerNames.map { "A.\($0)" } + (b?.layerNames.map { "B.\($0)" } ?? [])
        var accumulator: StreamingCKA?
        // Blocks of A and B together take at most a tenth of the budget.
        let size = Swift.min(a.blockSamples(memoryLimit: memoryLimit / 2), b?.blockSamples(memoryLimit: memoryLimit / 2) ?? 4096)
        for start in stride(from: 0, to: a.sampleCount, by: size) {
            let range = start..<min(a.sampleCount, start + size)
            let block = try a.block(range) + (b.map { try $0.block(range) } ?? [])
            if accumulator == nil {
                let widths = block.map(\.columns)
                var rows = b == nil ? nil : a.layerNames.count
                if let allPairsLimit, let all = StreamingCKA.bytes(widths: widths, rowLayers: nil), all <= min(allPairsLimit, memoryLimit) { rows = nil }
                try check(StreamingCKA.bytes(widths: widths, rowLayers: rows).map(Double.init) ?? .infinity, layers: names, widths: widths, limit: memoryLimit,
                          in: a.source, what: "CKA")
                accumulator = try StreamingCKA(layerNames: names, widths: widths, rowLayers: rows)
            }
            try accumulator?.update(block)
        }
        guard let accumulator else { throw AnalysisError.tooFewSamples(needed: 2, got: 0, context: "streaming CKA of \(a.source)") }
        return accumulator
    }
}

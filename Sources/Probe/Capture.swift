import Foundation
import Activations
import Analysis
import Formats
import LinearAlgebra
import Networks

/// Where captured activations go, one reduced batch at a time.
public protocol ActivationSink: AnyObject {
    /// Called once before the first batch with the layer names and the sample count.
    func start(layers: [String], sampleIDs: [Int]) throws
    /// Rows `samples` of layer `layer` (an index into the names given to `start`): a
    /// row-major block of `samples.count × features` values. Every layer of one batch
    /// arrives before any of the next, in the order the network computes them.
    func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws
    /// Called once after the last batch.
    func finish() throws
}

/// Runs a network over inputs in batches and streams the chosen layers, reduced, into a
/// sink. Peak memory is that of one batch through the network plus what the sink keeps.
public enum Capture {
    /// Settings of a capture.
    public struct Settings: Sendable {
        public var layers: LayerFilter
        public var reduction: Reduction
        public var batchSize: Int
        /// The id of each sample (row of the inputs); `nil` for 0, 1, 2, …
        public var sampleIDs: [Int]?

        public init(layers: LayerFilter = .all, reduction: Reduction = .flatten, batchSize: Int = 32, sampleIDs: [Int]? = nil) {
            self.layers = layers
            self.reduction = reduction
            self.batchSize = batchSize
            self.sampleIDs = sampleIDs
        }
    }

    /// Checks that `inputs` name the model's inputs and agree on the sample count.
    public static func validate(_ inputs: [String: any InputSource], for network: Network) throws -> Int {
        let required = network.graph.inputs.map(\.name)
        for name in required where inputs[name] == nil {
            throw ProbeError.invalidInput(file: network.file, problem: "input '\(name)' is not given (the model's inputs are \(required.joined(separator: ", ")))")
        }
        for name in inputs.keys where !required.contains(name) {
            throw ProbeError.invalidInput(file: network.file, problem: "the model has no input '\(name)' (its inputs are \(required.joined(separator: ", ")))")
        }
        let counts = Set(inputs.values.map(\.count))
        guard counts.count == 1, let count = counts.first else {
            let described = inputs.map { "\($0.value.origin): \($0.value.count)" }.sorted().joined(separator: ", ")
            throw ProbeError.invalidInput(file: network.file, problem: "inputs have different sample counts (\(described))")
        }
        return count
    }

    /// Runs the capture; returns the captured layer names. `progress` is called after each
    /// batch with the number of samples done and the total.
    @discardableResult
    public static func run(
        _ model: HookedNetwork, inputs: [String: any InputSource], settings: Settings, into sink: ActivationSink,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> [String] {
        try run([Part(model: model, layers: settings.layers)], inputs: inputs, settings: settings, into: sink, progress: progress)
    }

    /// One model's layers in a capture of several parts.
    public struct Part {
        /// Prefix of the part's layer names in the sink (`label.layer`), if any.
        public var label: String?
        public var model: HookedNetwork
        public var layers: LayerFilter
        /// The reduction of this part's layers; `nil` for the capture's.
        public var reduction: Reduction?
        /// This part's own inputs (the same samples as the model reads them: a text probe set
        /// tokenized for this model, say); `nil` for the capture's.
        public var inputs: [String: any InputSource]?

        public init(label: String? = nil, model: HookedNetwork, layers: LayerFilter, reduction: Reduction? = nil,
                    inputs: [String: any InputSource]? = nil) {
            self.label = label
            self.model = model
            self.layers = layers
            self.reduction = reduction
            self.inputs = inputs
        }
    }

    /// Runs several parts on the same inputs, batch by batch, into one sink: the sink sees
    /// the layers of every part in order, so that an accumulator such as
    /// ``MinibatchCKASink`` compares layers across models on identical batches.
    /// `settings.layers` is ignored in favour of each part's own filter.
    ///
    /// Consecutive parts on the same model (the same object) share one forward pass per
    /// batch, on the first one's inputs: the same layers reduced two ways cost one run of
    /// the network. Each activation
    /// is reduced as soon as it is computed, so a batch holds the network's working tensors
    /// and the reduced rows, never every captured layer at full size.
    @discardableResult
    public static func run(
        _ parts: [Part], inputs: [String: any InputSource], settings: Settings, into sink: ActivationSink,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> [String] {
        guard let first = parts.first else { return [] }
        let count = try validate(first.inputs ?? inputs, for: first.model.network)
        for part in parts.dropFirst() {
            let own = try validate(part.inputs ?? inputs, for: part.model.network)
            guard own == count else {
                throw ProbeError.invalidInput(file: part.model.network.file, problem: "has \(own) inputs where \(first.model.network.file) has \(count)")
            }
        }
        struct Slot {
            let part: Int
            let name: String
            let tensor: String
            let reducer: Reducer
        }
        var slots: [Slot] = []
        for (index, part) in parts.enumerated() {
            for layer in try part.layers.resolve(in: part.model.catalog) {
                let name = part.label.map { "\($0).\(layer.name)" } ?? layer.name
                slots.append(Slot(part: index, name: name, tensor: layer.tensor,
                                  reducer: Reducer(part.reduction ?? settings.reduction, layer: name, source: part.model.network.file)))
            }
        }
        var passes: [(model: HookedNetwork, inputs: [String: any InputSource], slots: [Int])] = []
        for (index, slot) in slots.enumerated() {
            if let last = passes.last, last.model === parts[slot.part].model {
                passes[passes.count - 1].slots.append(index)
            } else {
                passes.append((parts[slot.part].model, parts[slot.part].inputs ?? inputs, [index]))
            }
        }
        let ids = settings.sampleIDs ?? Array(0..<count)
        guard ids.count == count else {
            throw ProbeError.invalidInput(file: first.model.network.file, problem: "\(ids.count) sample ids for \(count) samples")
        }
        try sink.start(layers: slots.map(\.name), sampleIDs: ids)
        var start = 0
        let step = max(1, settings.batchSize)
        while start < count {
            let range = start..<min(count, start + step)
            var delivered = [Bool](repeating: false, count: slots.count)
            for pass in passes {
                let feed = try batch(range, of: pass.inputs, for: pass.model.network)
                let tokenMask = try Self.tokenMask(of: feed)
                let layers = pass.slots.map { (name: slots[$0].name, tensor: slots[$0].tensor) }
                _ = try pass.model.run(feed, layers: layers) { index, activation in
                    let slot = slots[pass.slots[index]]
                    guard activation.shape.first == range.count else {
                        throw ProbeError.invalidReduction(
                            layer: slot.name, problem: "its shape \(activation.shape) has no batch axis of \(range.count) samples")
                    }
                    let (rows, features) = try slot.reducer.reduce(activation, tokenMask: tokenMask)
                    try sink.append(layer: pass.slots[index], rows: rows, features: features, samples: range)
                    delivered[pass.slots[index]] = true
                }
            }
            if let missing = delivered.firstIndex(of: false) {
                throw ProbeError.invalidReduction(
                    layer: slots[missing].name, problem: "the network did not compute its tensor '\(slots[missing].tensor)'")
            }
            start = range.upperBound
            progress?(start, count)
        }
        try sink.finish()
        return slots.map(\.name)
    }

    /// The input that marks real tokens in a padded batch of text, by the name Hugging Face
    /// models and their ONNX exports give it.
    public static let tokenMaskInput = "attention_mask"

    /// Which tokens of the batch are real: the `attention_mask` input (`[samples, tokens]`,
    /// nonzero = real), if the model takes one.
    static func tokenMask(of feed: [String: Tensor]) throws -> (shape: [Int], values: [Bool])? {
        guard let mask = feed[tokenMaskInput] else { return nil }
        guard mask.rank == 2 else {
            throw ProbeError.invalidInput(file: tokenMaskInput, problem: "the attention mask must be [samples, tokens], not \(mask.shape)")
        }
        guard let values = mask.converted(to: .int64)?.elements(as: Int64.self) else {
            throw ProbeError.invalidInput(file: tokenMaskInput, problem: "the attention mask must hold integers, not \(mask.dataType)")
        }
        return (mask.shape, values.map { $0 != 0 })
    }

    /// Samples `range` of every input, converted to the types the graph declares.
    ///
    /// - Throws: ``ProbeError/invalidInput(file:problem:)`` for values that do not convert.
    public static func batch(_ range: Range<Int>, of inputs: [String: any InputSource], for network: Network) throws -> [String: Tensor] {
        var feed: [String: Tensor] = [:]
        for input in network.graph.inputs {
            guard let source = inputs[input.name] else { continue }
            var tensor = try source.batch(range)
            if let type = input.dataType, tensor.dataType != type {
                guard let converted = tensor.converted(to: type) else {
                    throw ProbeError.invalidInput(file: source.origin, problem: "holds \(tensor.dataType) values; input '\(input.name)' takes \(type)")
                }
                tensor = converted
            }
            feed[input.name] = tensor
        }
        return feed
    }
}

/// Feeds each batch of every captured layer into a ``MinibatchCKA`` accumulator: CKA over
/// any number of inputs with memory bounded by the batch (Nguyen et al. 2021). Batches need
/// at least 4 samples; a shorter last batch is left out and counted in ``skippedSamples``.
public final class MinibatchCKASink: ActivationSink {
    public private(set) var accumulator = MinibatchCKA(layerNames: [])
    public private(set) var skippedSamples = 0
    private var pending: [Matrix<Double>?] = []

    public init() {}

    public func start(layers: [String], sampleIDs: [Int]) throws {
        accumulator = MinibatchCKA(layerNames: layers)
        pending = Array(repeating: nil, count: layers.count)
    }

    public func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws {
        pending[layer] = Matrix<Double>(rows: samples.count, columns: features, rowMajor: rows.map(Double.init))
        guard pending.allSatisfy({ $0 != nil }) else { return }
        let batch = pending.compactMap { $0 }
        pending = Array(repeating: nil, count: pending.count)
        if samples.count < 4 { skippedSamples += samples.count; return }
        try accumulator.update(batch)
    }

    public func finish() throws {}
}

/// Feeds every batch of the captured layers into a ``StreamingCKA`` accumulator: the linear
/// CKA matrix of all the inputs, exactly as from the whole capture in memory, with memory
/// that depends on the layers' widths and not on the number of inputs. The accumulator is
/// made when the first batch shows the widths.
///
/// With `rowLayers`, the layers it picks (one network's) are compared with the others
/// (another's) only, and come first in the accumulator; otherwise every pair is. With
/// `allPairsLimit` as well, every pair is kept (what the tables within each network need)
/// when that takes at most `allPairsLimit` bytes (a third of the budget leaves room for
/// joining such statistics later: the joined, the incoming and a copy); else only the pairs
/// across, and `notice` hears why.
public final class StreamingCKASink: ActivationSink {
    public private(set) var accumulator: StreamingCKA?
    private let isRowLayer: ((String) -> Bool)?
    private let allPairsLimit: Int?
    private let notice: ((String) -> Void)?
    private var layers: [String] = []
    /// The accumulator's position of each captured layer.
    private var position: [Int] = []
    private var rowCount: Int?
    private var pending: [(rows: [Float], features: Int)?] = []
    /// Bytes the accumulator may take (the co-moment blocks it keeps).
    public let memoryLimit: Int

    public init(memoryLimit: Int = ActivationCollector.defaultMemoryLimit, rowLayers: ((String) -> Bool)? = nil,
                allPairsLimit: Int? = nil, notice: ((String) -> Void)? = nil) {
        self.memoryLimit = memoryLimit
        isRowLayer = rowLayers
        self.allPairsLimit = allPairsLimit
        self.notice = notice
    }

    public func start(layers: [String], sampleIDs: [Int]) throws {
        let rows = layers.indices.filter { isRowLayer?(layers[$0]) ?? true }
        let columns = layers.indices.filter { !(isRowLayer?(layers[$0]) ?? true) }
        let order = rows + columns
        self.layers = order.map { layers[$0] }
        position = [Int](repeating: 0, count: layers.count)
        for (k, index) in order.enumerated() { position[index] = k }
        rowCount = rows.isEmpty || columns.isEmpty ? nil : rows.count
        accumulator = nil
        pending = Array(repeating: nil, count: layers.count)
    }

    public func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws {
        pending[position[layer]] = (rows, features)
        guard pending.allSatisfy({ $0 != nil }) else { return }
        let batch = pending.compactMap { $0 }
        pending = Array(repeating: nil, count: layers.count)
        if accumulator == nil {
            let widths = batch.map(\.features)
            if let allPairsLimit, rowCount != nil {
                let all = StreamingCKA.bytes(widths: widths, rowLayers: nil)
                if all.map({ $0 <= min(allPairsLimit, memoryLimit) }) ?? false {
                    rowCount = nil
                } else {
                    let room = allPairsLimit < memoryLimit ? "the \(ProbeError.readable(bytes: allPairsLimit)) of the \(ProbeError.readable(bytes: memoryLimit)) budget "
                        + "left for them (joining statistics takes three times theirs)" : "the \(ProbeError.readable(bytes: memoryLimit)) budget"
                    notice?("the statistics keep the pairs across the networks only: every pair (for the tables within each network) "
                            + "would take \(all.map(ProbeError.readable(bytes:)) ?? "more memory than any machine has"), more than \(room)")
                }
            }
            let bytes = StreamingCKA.bytes(widths: widths, rowLayers: rowCount)
            if bytes.map({ $0 > memoryLimit }) ?? true {
                let widest = zip(layers, batch).sorted { $0.1.features > $1.1.features }.prefix(3).map { "\($0.0) \($0.1.features)" }
                throw ProbeError.streamTooWide(layers: layers.count, features: widths.reduce(0, +), widest: Array(widest),
                                               needed: bytes, available: memoryLimit)
            }
            accumulator = try StreamingCKA(layerNames: layers, widths: widths, rowLayers: rowCount)
        }
        try accumulator?.update(batch.map { Matrix<Float>(rows: samples.count, columns: $0.features, rowMajor: $0.rows) })
    }

    public func finish() throws {}
}

/// Keeps captured activations in memory, as an ``ActivationSet`` for the Analysis module.
///
/// As soon as the first batch shows every layer's width, the memory the whole capture will
/// take (float32 rows, then the float64 matrices of the analyses) is checked against
/// `memoryLimit`: a capture that would exhaust the machine is refused with the widths and
/// the remedy, before it runs, instead of being killed half-way.
public final class ActivationCollector: ActivationSink {
    public private(set) var layers: [String] = []
    public private(set) var sampleIDs: [Int] = []
    private var blocks: [[Float]] = []
    private var widths: [Int] = []
    /// Bytes the kept activations may take; by default ``defaultMemoryLimit``.
    public let memoryLimit: Int
    private var checked = false

    /// Three quarters of physical memory.
    public static let defaultMemoryLimit = ByteSize.defaultBudget

    public init(memoryLimit: Int = defaultMemoryLimit) {
        self.memoryLimit = memoryLimit
    }

    /// As each layer's width becomes known: refuses a capture whose matrices would not fit
    /// `memoryLimit` (each kept value takes 4 bytes as captured and 8 in the analyses'
    /// float64 matrices); once every width is known and fits, reserves every layer's rows.
    private func checkMemory() throws {
        guard !checked else { return }
        let known = widths.map { max($0, 0) }
        let (values, overflow) = known.reduce(0, +).multipliedReportingOverflow(by: sampleIDs.count)
        let bytes = overflow || values.multipliedReportingOverflow(by: 12).overflow ? Int.max : values * 12
        if bytes > memoryLimit {
            // The same layer reduced several ways is one layer to the reader.
            var widest: [String] = []
            for (name, width) in zip(layers, known).sorted(by: { $0.1 > $1.1 }) where widest.count < 3 {
                let entry = "\(name) \(width)"
                if !widest.contains(entry) { widest.append(entry) }
            }
            throw ProbeError.captureTooLarge(layers: Set(layers).count, samples: sampleIDs.count, widest: widest,
                                             needed: bytes == Int.max ? nil : bytes, available: memoryLimit)
        }
        guard !widths.contains(where: { $0 < 0 }) else { return }
        checked = true
        for k in blocks.indices { blocks[k].reserveCapacity(sampleIDs.count * widths[k]) }
    }

    public func start(layers: [String], sampleIDs: [Int]) throws {
        self.layers = layers
        self.sampleIDs = sampleIDs
        blocks = Array(repeating: [], count: layers.count)
        widths = Array(repeating: -1, count: layers.count)
    }

    public func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws {
        if widths[layer] < 0 {
            widths[layer] = features
            try checkMemory()
        }
        guard widths[layer] == features else {
            throw ProbeError.invalidReduction(layer: layers[layer], problem: "width changed from \(widths[layer]) to \(features) between batches")
        }
        blocks[layer] += rows
    }

    public func finish() throws {}

    /// The row-major `samples × features` values of layer `index`.
    public func values(ofLayer index: Int) -> (rows: [Float], features: Int) { (blocks[index], max(0, widths[index])) }

    /// The capture as samples × features matrices (double precision).
    public func activationSet(source: String) throws -> ActivationSet {
        try activationSet(source: source, layers: layers.indices)
    }

    /// The layers at `indices` (a capture of several parts holds each part's run of layers)
    /// as samples × features matrices (double precision).
    public func activationSet(source: String, layers indices: Range<Int>) throws -> ActivationSet {
        let n = sampleIDs.count
        let layerMatrices = indices.map { index -> ActivationSet.Layer in
            let width = max(0, widths[index])
            let block = blocks[index]
            let matrix = Matrix<Double>(rows: n, columns: width, rowMajor: block.map(Double.init))
            return ActivationSet.Layer(name: layers[index], matrix: matrix)
        }
        return try ActivationSet(layers: layerMatrices, source: source)
    }
}

/// Streams captured activations into an `.npz` file (float32, one array per layer named by
/// the layer, plus `sample_ids`), written atomically when the capture finishes. The arrays
/// are in the order of the layer names, whatever order the network computes them in: the
/// first batch is held until every layer of it has arrived.
public final class NPZActivationWriter: ActivationSink {
    private let writer: NPZStreamWriter
    private var layers: [String] = []
    private var firstBatch: [(rows: [Float], features: Int)?] = []
    private var started = false
    private var count = 0

    public init(_ url: URL) throws {
        writer = try NPZStreamWriter(url)
    }

    public func start(layers: [String], sampleIDs: [Int]) throws {
        self.layers = layers
        firstBatch = Array(repeating: nil, count: layers.count)
        count = sampleIDs.count
        try writer.begin(ActivationSet.sampleIDsName, shape: [count], elementType: .int64)
        try writer.append(ActivationSet.sampleIDsName, NumericArray(shape: [count], elementType: .int64, storage: .int64(sampleIDs.map(Int64.init))))
    }

    public func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws {
        guard started else {
            firstBatch[layer] = (rows, features)
            guard firstBatch.allSatisfy({ $0 != nil }) else { return }
            for (name, block) in zip(layers, firstBatch.compactMap { $0 }) {
                try writer.begin(name, shape: [count, block.features], elementType: .float32)
                try write(name, block.rows)
            }
            firstBatch = []
            started = true
            return
        }
        try write(layers[layer], rows)
    }

    private func write(_ name: String, _ rows: [Float]) throws {
        try writer.append(name, NumericArray(shape: [rows.count], elementType: .float32, storage: .float32(rows)))
    }

    public func finish() throws { try writer.finish() }
}

/// Streams captured activations into safetensors (float32, one array per layer named by the
/// layer, plus `sample_ids`), in place as batches arrive: one file, or shards of at most
/// `maxShardBytes` with an index when the activations are larger (``ArrayShards``), which
/// every command that reads activations reads as one file. Nothing is at the destination
/// until the capture finishes.
///
/// With `shard`, the capture is shard `index` of a set whose shards hold `rows` samples,
/// each captured by its own process: it writes that shard's file and the set's index.
public final class SafetensorsActivationWriter: ActivationSink {
    public let url: URL
    public let maxShardBytes: Int
    public let shard: (index: Int, rows: [Int])?
    private var writer: ArrayShardWriter?
    private var layers: [String] = []
    private var sampleIDs: [Int64] = []
    private var firstBatch: [(rows: [Float], features: Int, samples: Range<Int>)?] = []

    public init(_ url: URL, maxShardBytes: Int, shard: (index: Int, rows: [Int])? = nil) {
        self.url = url
        self.maxShardBytes = maxShardBytes
        self.shard = shard
    }

    /// The files written: the shards, and the index if there are several.
    public var files: [URL] { writer?.destinations ?? [] }

    public func start(layers: [String], sampleIDs: [Int]) throws {
        self.layers = layers
        self.sampleIDs = sampleIDs.map(Int64.init)
        firstBatch = Array(repeating: nil, count: layers.count)
        writer = nil
    }

    public func append(layer: Int, rows: [Float], features: Int, samples: Range<Int>) throws {
        guard writer != nil else {
            // The widths are known once every layer of the first batch has arrived.
            firstBatch[layer] = (rows, features, samples)
            guard firstBatch.allSatisfy({ $0 != nil }) else { return }
            let blocks = firstBatch.compactMap { $0 }
            let entries = [ArrayShards.Entry(name: ActivationSet.sampleIDsName, elementType: .int64, rowShape: [])]
                + zip(layers, blocks).map { ArrayShards.Entry(name: $0, elementType: .float32, rowShape: [$1.features]) }
            let opened = try shard.map { try ArrayShardWriter(url, entries: entries, shard: $0.index, of: $0.rows) }
                ?? ArrayShardWriter(url, entries: entries, rows: sampleIDs.count, maxShardBytes: maxShardBytes)
            self.writer = opened
            try sampleIDs.withUnsafeBytes { try opened.write(array: 0, rows: 0..<sampleIDs.count, bytes: $0) }
            for (k, block) in blocks.enumerated() { try write(k, block.rows, block.samples) }
            firstBatch = []
            return
        }
        try write(layer, rows, samples)
    }

    private func write(_ layer: Int, _ rows: [Float], _ samples: Range<Int>) throws {
        try rows.withUnsafeBytes { try writer?.write(array: layer + 1, rows: samples, bytes: $0) }
    }

    public func finish() throws {
        guard let writer else { return }
        try writer.finish()
    }
}

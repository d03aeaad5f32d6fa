import Foundation
import Synchronization

/// A bound on what one untrusted file may make repprobe read, nest or allocate.
///
/// Every limit has a name, a default far beyond any real file of its kind, and a current
/// value that the ``environmentVariable`` (or ``apply(_:)``) raises for the rare real file
/// that needs more. A file beyond a limit gets an error naming the file, the limit and how to
/// raise it (``exceeded``), checked before anything of that size is allocated.
public final class ResourceLimit: Sendable {
    /// How the limit is written: the name in ``environmentVariable``.
    public let name: String
    /// What it bounds, as the README's table and `repprobe limits` say it.
    public let meaning: String
    /// The value before anything raises it.
    public let defaultValue: Int
    /// Whether the value is a number of bytes (written with K, M, G, T) or a count.
    public let isBytes: Bool
    /// The most it may be raised to: the nesting a recursive parser's stack can take.
    public let ceiling: Int
    private let storage: Atomic<Int>

    init(_ name: String, _ meaning: String, bytes: Int) {
        self.name = name
        self.meaning = meaning
        defaultValue = bytes
        isBytes = true
        ceiling = .max
        storage = Atomic(bytes)
    }

    init(_ name: String, _ meaning: String, count: Int, ceiling: Int = .max) {
        self.name = name
        self.meaning = meaning
        defaultValue = count
        isBytes = false
        self.ceiling = ceiling
        storage = Atomic(count)
    }

    /// The limit now.
    public var value: Int {
        get { storage.load(ordering: .relaxed) }
        set { storage.store(min(max(newValue, 0), ceiling), ordering: .relaxed) }
    }

    /// The value as people read it: `1 MiB`, `100`.
    public var readable: String { Self.readable(value, bytes: isBytes) }

    /// `value` as people read it, in powers of 1024 if it is a number of bytes.
    public static func readable(_ value: Int, bytes: Bool) -> String { bytes ? ByteSize.binary(value) : String(value) }

    /// The words that end an error about a file beyond the limit: the limit and how to
    /// raise it, as `(1 MiB; REPPROBE_LIMITS=npy-header=2G raises it)`. The value suggested
    /// covers `needed` when the file says what it needs, and is twice the limit otherwise.
    public func exceeded(needing needed: Int? = nil) -> String {
        var suggestion = needed ?? (value > Int.max / 2 ? value : value * 2)
        if isBytes, let (size, _) = ByteSize.units.first(where: { suggestion >= $0.size }) {
            // Rounded up to a whole unit, as a person would write it.
            let units = suggestion / size + (suggestion % size == 0 ? 0 : 1)
            let (whole, overflow) = units.multipliedReportingOverflow(by: size)
            if !overflow { suggestion = whole }
        }
        suggestion = min(suggestion, ceiling)
        let written = isBytes ? ByteSize.binary(suggestion, compact: true) : String(suggestion)
        return "(\(readable); \(Self.environmentVariable)=\(name)=\(written) raises it)"
    }

    /// ``exceeded(needing:)`` when the file does not say what it needs.
    public var exceeded: String { exceeded() }
}

extension ResourceLimit {
    /// The environment variable that raises limits: comma-separated `name=value` pairs, as
    /// `REPPROBE_LIMITS=npy-header=4M,pickle-depth=500`. The command line reads it as it
    /// starts.
    public static let environmentVariable = "REPPROBE_LIMITS"

    /// One tensor an ONNX operator computes, checked against its shape before allocating.
    public static let tensor = ResourceLimit(
        "tensor", "one tensor an ONNX operator computes",
        bytes: ByteSize.defaultBudget)
    /// One member of a zip archive (`.npz`, PyTorch zip) once inflated.
    public static let member = ResourceLimit(
        "member", "an inflated .npz or PyTorch-zip member",
        bytes: ByteSize.defaultBudget)
    /// The members of one archive that a reader holds at once.
    public static let archive = ResourceLimit(
        "archive", "the members of one .npz or PyTorch zip read at once", bytes: ByteSize.defaultBudget)
    public static let npyHeader = ResourceLimit("npy-header", "a .npy header", bytes: 1 << 20)
    public static let safetensorsHeader = ResourceLimit("safetensors-header", "a safetensors header", bytes: 100_000_000)
    public static let pickle = ResourceLimit("pickle", "the data.pkl of a PyTorch checkpoint", bytes: 1 << 30)
    public static let pickleDepth = ResourceLimit("pickle-depth", "levels of nesting in a pickle", count: 100, ceiling: 1000)
    public static let rank = ResourceLimit("rank", "dimensions of one tensor in a PyTorch checkpoint", count: 64)
    public static let viewRepeat = ResourceLimit(
        "view-repeat", "elements of a PyTorch view that repeats its storage (zero strides)", count: 1 << 26)
    public static let jsonDepth = ResourceLimit(
        "json-depth", "levels of nesting in JSON (configs, tokenizers, shard indexes, safetensors headers)", count: 32,
        ceiling: 1000)
    public static let probeSet = ResourceLimit("probe-set", "a probe-set YAML file", bytes: 1 << 20)
    public static let labels = ResourceLimit("labels", "the label list of an image-folder probe set", bytes: 1 << 28)
    public static let sentenceFile = ResourceLimit("sentence-file", "the sentence file of a text probe set", bytes: 1 << 30)
    public static let sentences = ResourceLimit("sentences", "sentences read from a sentence file", count: 10_000_000)
    public static let image = ResourceLimit("image", "an image file (PNG or JPEG)", bytes: 1 << 28)
    public static let imagePixels = ResourceLimit("image-pixels", "pixels of one image", count: 1 << 26)
    public static let tokenizer = ResourceLimit("tokenizer", "a tokenizer file", bytes: 1 << 27)
    public static let vocabulary = ResourceLimit("vocabulary", "entries of a tokenizer's vocabulary or merge list", count: 1 << 22)
    public static let config = ResourceLimit("config", "a Hugging Face config.json", bytes: 1 << 22)
    public static let shardIndex = ResourceLimit("shard-index", "the index of a sharded Hugging Face checkpoint", bytes: 1 << 26)

    /// Every limit, in the order the README lists them.
    public static let all: [ResourceLimit] = [
        tensor, member, archive, npyHeader, safetensorsHeader, pickle, pickleDepth, rank, viewRepeat, jsonDepth, probeSet, labels,
        sentenceFile, sentences, image, imagePixels, tokenizer, vocabulary, config, shardIndex,
    ]

    /// A problem with the text given to ``apply(_:)``.
    public struct SpecificationError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The limits and values that `text` gives: comma-separated `name=value` pairs, sizes in
    /// bytes or with K, M, G or T (`npy-header=4M,pickle-depth=500`).
    ///
    /// - Throws: ``SpecificationError`` naming the pair and what is wrong with it.
    public static func parse(_ text: String) throws -> [(limit: ResourceLimit, value: Int)] {
        var values: [(limit: ResourceLimit, value: Int)] = []
        for pair in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let limit = all.first(where: { $0.name == parts[0] }) else {
                throw SpecificationError(description: "\(environmentVariable): '\(pair)' is not NAME=VALUE with one of the names "
                    + all.map(\.name).joined(separator: ", "))
            }
            let value = limit.isBytes ? ByteSize.parse(parts[1]) : Int(parts[1]).flatMap { $0 > 0 ? $0 : nil }
            guard let value else {
                throw SpecificationError(description: "\(environmentVariable): '\(pair)' should give "
                    + (limit.isBytes ? "a size in bytes (a number, or one with K, M, G or T: 4M, 1.5G)" : "a positive whole number"))
            }
            guard value <= limit.ceiling else {
                throw SpecificationError(description: "\(environmentVariable): '\(pair)' is above \(limit.ceiling), the deepest "
                    + "nesting its parser's stack can take")
            }
            values.append((limit, value))
        }
        return values
    }

    /// Sets the limits that `text` names (see ``parse(_:)``); nothing is set unless every
    /// pair is valid.
    public static func apply(_ text: String) throws {
        for (limit, value) in try parse(text) { limit.value = value }
    }

    /// Applies the limits the environment gives (``environmentVariable``), if any.
    public static func applyEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let text = environment[environmentVariable] { try apply(text) }
    }
}

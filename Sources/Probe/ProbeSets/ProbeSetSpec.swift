import Activations
import Formats
import Foundation
import Yams

/// A probe set as written in a file under `probes/`: which stimuli to show a network, their
/// labels, which layers to hook and how to reduce them.
///
/// The file is YAML (JSON is YAML too). Keys are snake_case; everything but `stimuli` is
/// optional:
///
/// ```yaml
/// name: gratings
/// description: Sinusoidal gratings, 16 orientations × 3 spatial frequencies × 4 phases.
/// stimuli:
///   kind: gratings          # gratings | noise | deadleaves | file | text | images
///   orientations: 16
///   frequencies: [0.0625, 0.125, 0.25]   # cycles per pixel
///   phases: 4
/// labels: orientation       # gratings: orientation | frequency | phase
/// layers: all               # or a list of names; "layer1*" selects a prefix
/// reduction: flatten        # flatten | mean | max | center | subsample:S | project:K
/// samples: 500              # at most this many (the first ones)
/// batch: 64
/// seed: 0
/// ```
///
/// Unknown keys are refused, so a misspelt setting is an error rather than a silent default.
public struct ProbeSetSpec: Sendable, Equatable, Decodable {
    public var name: String?
    public var description: String?
    public var stimuli: Stimuli
    /// For generated stimuli, the factor that becomes the class label.
    public var labels: String?
    /// `nil` or `["all"]`: the model's default layers.
    public var layers: [String]?
    /// `project:K` draws its matrix from ``seed``.
    public var reduction: Reduction?
    public var samples: Int?
    public var batch: Int?
    public var seed: UInt64?

    /// What the network is shown.
    public enum Stimuli: Sendable, Equatable {
        case gratings(GratingSettings)
        case noise(NoiseSettings)
        case deadLeaves(DeadLeavesSettings)
        case file(FileSettings)
        case text(TextSettings)
        case images(ImageFolderSettings)
    }

    /// A folder of PNG and JPEG images, preprocessed as a model's card says:
    ///
    /// ```yaml
    /// stimuli:
    ///   kind: images
    ///   path: photos              # sub-folders are classes, unless `labels` names a CSV
    ///   labels: labels.csv        # optional: lines FILE,LABEL (a header line is allowed)
    ///   resize: 256               # optional: the shorter side first scaled to this
    ///   crop: [224, 224]          # centre crop; by default the model's input size
    ///   mean: [0.485, 0.456, 0.406]
    ///   std: [0.229, 0.224, 0.225]
    /// ```
    ///
    /// Pixels are scaled to [0, 1], resized bilinearly (half-pixel centres, no
    /// antialiasing), cropped, then normalised per channel: `(x − mean) / std`.
    public struct ImageFolderSettings: Sendable, Equatable, Decodable {
        /// Relative to the probe file's folder unless absolute.
        public var path: String
        /// A CSV of `FILE,LABEL` lines, relative to the image folder.
        public var labels: String?
        public var resize: Int?
        public var crop: [Int]?
        public var mean: [Double] = [0, 0, 0]
        public var std: [Double] = [1, 1, 1]

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, path, labels, resize, crop, mean, std }

        public init(path: String) { self.path = path }

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            labels = try c.decodeIfPresent(String.self, forKey: .labels)
            resize = try c.decodeIfPresent(Int.self, forKey: .resize)
            crop = try c.decodeIfPresent([Int].self, forKey: .crop)
            mean = try c.decodeIfPresent([Double].self, forKey: .mean) ?? mean
            std = try c.decodeIfPresent([Double].self, forKey: .std) ?? std
        }
    }

    /// Sentences for a language model, tokenized by each model's own tokenizer: a text file
    /// (one sentence a line) or JSON Lines (`{"text": …, "label": …}` a line).
    ///
    /// ```yaml
    /// stimuli:
    ///   kind: text
    ///   path: data/sentences.jsonl
    ///   label: topic          # the JSON Lines field of the class (default: label, if present)
    ///   max_length: 64        # tokens, special tokens included; longer sentences are cut
    ///   padding: longest      # longest (in the set) | max_length
    /// reduction: mean         # over real tokens; first (cls) and last pick one
    /// ```
    public struct TextSettings: Sendable, Equatable, Decodable {
        /// Relative to the probe file's folder unless absolute.
        public var path: String
        /// The JSON Lines field holding the class (strings or integers).
        public var label: String?
        public var maxLength: Int = 128
        /// `longest`: pad to the longest sentence of the set; `max_length`: to `max_length`.
        public var padding: String = "longest"

        enum CodingKeys: String, CodingKey, CaseIterable {
            case kind, path, label
            case maxLength = "max_length"
            case padding
        }

        public init(path: String) { self.path = path }

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            label = try c.decodeIfPresent(String.self, forKey: .label)
            maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? maxLength
            padding = try c.decodeIfPresent(String.self, forKey: .padding) ?? padding
        }
    }

    /// Sinusoidal gratings over every combination of orientation, frequency and phase.
    public struct GratingSettings: Sendable, Equatable, Decodable {
        /// Orientations evenly spaced over [0°, 180°).
        public var orientations: Int = 16
        /// Spatial frequencies in cycles per pixel.
        public var frequencies: [Double] = [0.0625, 0.125, 0.25]
        /// Phases evenly spaced over [0°, 360°).
        public var phases: Int = 4
        /// The value at mean luminance and the peak-to-peak amplitude.
        public var mean: Double = 0.5
        public var contrast: Double = 1
        /// `[height, width]`; by default the model's input size.
        public var size: [Int]?

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, orientations, frequencies, phases, mean, contrast, size }

        public init() {}

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            orientations = try c.decodeIfPresent(Int.self, forKey: .orientations) ?? orientations
            frequencies = try c.decodeIfPresent([Double].self, forKey: .frequencies) ?? frequencies
            phases = try c.decodeIfPresent(Int.self, forKey: .phases) ?? phases
            mean = try c.decodeIfPresent(Double.self, forKey: .mean) ?? mean
            contrast = try c.decodeIfPresent(Double.self, forKey: .contrast) ?? contrast
            size = try c.decodeIfPresent([Int].self, forKey: .size)
        }
    }

    /// Independent pixel noise.
    public struct NoiseSettings: Sendable, Equatable, Decodable {
        /// `gaussian` (mean, std) or `uniform` (low, high).
        public var distribution: String = "gaussian"
        public var mean: Double = 0.5
        public var std: Double = 0.25
        public var low: Double = 0
        public var high: Double = 1
        /// Number of images (the spec's `samples` also caps it).
        public var count: Int = 512
        /// `[height, width]`; by default the model's input size.
        public var size: [Int]?

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, distribution, mean, std, low, high, count, size }

        public init() {}

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            distribution = try c.decodeIfPresent(String.self, forKey: .distribution) ?? distribution
            mean = try c.decodeIfPresent(Double.self, forKey: .mean) ?? mean
            std = try c.decodeIfPresent(Double.self, forKey: .std) ?? std
            low = try c.decodeIfPresent(Double.self, forKey: .low) ?? low
            high = try c.decodeIfPresent(Double.self, forKey: .high) ?? high
            count = try c.decodeIfPresent(Int.self, forKey: .count) ?? count
            size = try c.decodeIfPresent([Int].self, forKey: .size)
        }
    }

    /// Dead-leaves images (Matheron; Lee, Mumford & Huang 2001): opaque discs of uniformly
    /// random grey, radii drawn from a power law, occluding one another until the image is
    /// covered. Their edges and scale invariance give the 1/f² power spectrum of natural
    /// images, without any photograph.
    public struct DeadLeavesSettings: Sendable, Equatable, Decodable {
        public var count: Int = 256
        /// `[smallest, largest]` disc radius in pixels; by default 1 and half the image's
        /// larger side.
        public var radius: [Double]?
        /// Radii have density ∝ r^−exponent; 3 gives scale invariance.
        public var exponent: Double = 3
        /// Greys are uniform in `[low, high]`.
        public var low: Double = 0
        public var high: Double = 1
        /// `[height, width]`; by default the model's input size.
        public var size: [Int]?

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, count, radius, exponent, low, high, size }

        public init() {}

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            count = try c.decodeIfPresent(Int.self, forKey: .count) ?? count
            radius = try c.decodeIfPresent([Double].self, forKey: .radius)
            exponent = try c.decodeIfPresent(Double.self, forKey: .exponent) ?? exponent
            low = try c.decodeIfPresent(Double.self, forKey: .low) ?? low
            high = try c.decodeIfPresent(Double.self, forKey: .high) ?? high
            size = try c.decodeIfPresent([Int].self, forKey: .size)
        }
    }

    /// Images from an `.npy` or `.npz` file, `[N, H, W]` or `[N, C, H, W]`.
    public struct FileSettings: Sendable, Equatable, Decodable {
        /// Relative to the probe file's folder unless absolute.
        public var path: String
        /// The member of an `.npz` holding the images (default: its only or first member).
        public var array: String?
        /// The member holding integer class labels (same file), if any.
        public var labels: String?
        /// Each value is multiplied by `scale`, then `offset` is added.
        public var scale: Double = 1
        public var offset: Double = 0
        /// `[height, width]` to resize to, bilinearly with half-pixel centres (PyTorch's
        /// `interpolate(mode="bilinear", align_corners=False)`).
        public var resize: [Int]?
        /// Keep only the samples whose label is one of these (a task on a subset of the
        /// classes, for fine-tuning experiments); needs `labels`.
        public var classes: [Int]?

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, path, array, labels, scale, offset, resize, classes }

        public init(path: String) { self.path = path }

        public init(from decoder: Decoder) throws {
            try ProbeSetSpec.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            array = try c.decodeIfPresent(String.self, forKey: .array)
            labels = try c.decodeIfPresent(String.self, forKey: .labels)
            scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? scale
            offset = try c.decodeIfPresent(Double.self, forKey: .offset) ?? offset
            resize = try c.decodeIfPresent([Int].self, forKey: .resize)
            classes = try c.decodeIfPresent([Int].self, forKey: .classes)
            if classes != nil && labels == nil {
                throw DecodingError.dataCorruptedError(forKey: .classes, in: c, debugDescription: "'classes' needs 'labels' to select by")
            }
        }
    }

    public init(stimuli: Stimuli) { self.stimuli = stimuli }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, stimuli, labels, layers, reduction, samples, batch, seed
    }

    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: Decoder) throws {
        try Self.refuseUnknownKeys(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        labels = try c.decodeIfPresent(String.self, forKey: .labels)
        if let single = try? c.decodeIfPresent(String.self, forKey: .layers) {
            layers = [single]
        } else {
            layers = try c.decodeIfPresent([String].self, forKey: .layers)
        }
        samples = try c.decodeIfPresent(Int.self, forKey: .samples)
        batch = try c.decodeIfPresent(Int.self, forKey: .batch)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        if let text = try c.decodeIfPresent(String.self, forKey: .reduction) {
            guard let parsed = Reduction(parsing: text, seed: seed ?? 0) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .reduction, in: c, debugDescription: "reduction '\(text)' is not \(Reduction.spellings)")
            }
            reduction = parsed
        }
        let kind = try c.nestedContainer(keyedBy: KindKey.self, forKey: .stimuli).decode(String.self, forKey: .kind)
        let stimuliDecoder = try c.superDecoder(forKey: .stimuli)
        switch kind {
        case "gratings": stimuli = .gratings(try GratingSettings(from: stimuliDecoder))
        case "noise": stimuli = .noise(try NoiseSettings(from: stimuliDecoder))
        case "deadleaves": stimuli = .deadLeaves(try DeadLeavesSettings(from: stimuliDecoder))
        case "file": stimuli = .file(try FileSettings(from: stimuliDecoder))
        case "text": stimuli = .text(try TextSettings(from: stimuliDecoder))
        case "images": stimuli = .images(try ImageFolderSettings(from: stimuliDecoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: try c.nestedContainer(keyedBy: KindKey.self, forKey: .stimuli),
                debugDescription: "stimuli kind '\(kind)' is not one of gratings, noise, deadleaves, file, text, images")
        }
    }

    /// Reads and checks a probe-set file.
    ///
    /// - Throws: ``ProbeError/invalidProbeSet(file:problem:)`` naming the file and what is
    ///   wrong with it.
    public static func read(_ url: URL) throws -> ProbeSetSpec {
        let text: String
        do {
            text = try SmallFile.text(url, within: .probeSet)
        } catch let error as FormatError {
            throw ProbeError.invalidProbeSet(file: url.path, problem: error.problem)
        }
        let spec: ProbeSetSpec
        do {
            spec = try YAMLDecoder().decode(ProbeSetSpec.self, from: text)
        } catch let error as DecodingError {
            throw ProbeError.invalidProbeSet(file: url.path, problem: Self.describe(error))
        } catch {
            throw ProbeError.invalidProbeSet(file: url.path, problem: "\(error)")
        }
        if let problem = spec.problem {
            throw ProbeError.invalidProbeSet(file: url.path, problem: problem)
        }
        return spec
    }

    /// The first thing wrong with the settings, if any.
    var problem: String? {
        if let samples, samples < 1 { return "samples must be at least 1, not \(samples)" }
        if let batch, batch < 1 { return "batch must be at least 1, not \(batch)" }
        func badSize(_ size: [Int]?) -> Bool { size.map { $0.count != 2 || $0.contains { $0 < 1 || $0 > 4096 } } ?? false }
        switch stimuli {
        case let .gratings(g):
            if g.orientations < 1 || g.phases < 1 || g.frequencies.isEmpty { return "gratings need at least one orientation, frequency and phase" }
            if g.orientations * g.frequencies.count * g.phases > 1_000_000 { return "more than a million gratings" }
            if g.frequencies.contains(where: { !$0.isFinite || $0 < 0 || $0 > 0.5 }) {
                return "grating frequencies are cycles per pixel, between 0 and 0.5 (Nyquist)"
            }
            if !g.mean.isFinite || !g.contrast.isFinite { return "grating mean and contrast must be finite" }
            if badSize(g.size) { return "size must be [height, width] between 1 and 4096" }
            if let labels, !["orientation", "frequency", "phase"].contains(labels) {
                return "labels of gratings must be orientation, frequency or phase, not '\(labels)'"
            }
        case let .noise(n):
            if n.count < 1 || n.count > 1_000_000 { return "noise count must be between 1 and 1000000" }
            if !["gaussian", "uniform"].contains(n.distribution) { return "noise distribution must be gaussian or uniform, not '\(n.distribution)'" }
            if ![n.mean, n.std, n.low, n.high].allSatisfy(\.isFinite) || n.std < 0 || n.low > n.high {
                return "noise needs finite settings, std ≥ 0 and low ≤ high"
            }
            if badSize(n.size) { return "size must be [height, width] between 1 and 4096" }
            if labels != nil { return "noise has no labels" }
        case let .deadLeaves(d):
            if d.count < 1 || d.count > 1_000_000 { return "dead-leaves count must be between 1 and 1000000" }
            if let r = d.radius, r.count != 2 || !r.allSatisfy({ $0.isFinite && $0 > 0 }) || r[0] > r[1] {
                return "dead-leaves radius must be [smallest, largest], positive, smallest first"
            }
            if !d.exponent.isFinite || d.exponent <= 1 { return "dead-leaves exponent must be above 1" }
            if !d.low.isFinite || !d.high.isFinite || d.low > d.high { return "dead-leaves greys need finite low ≤ high" }
            if badSize(d.size) { return "size must be [height, width] between 1 and 4096" }
            if labels != nil { return "dead leaves have no labels" }
        case let .file(f):
            if !f.scale.isFinite || !f.offset.isFinite { return "scale and offset must be finite" }
            if badSize(f.resize) { return "resize must be [height, width] between 1 and 4096" }
            if labels != nil { return "the labels of file stimuli are named inside stimuli (stimuli.labels)" }
        case let .text(t):
            if t.maxLength < 1 || t.maxLength > 1 << 16 { return "max_length must be between 1 and 65536, not \(t.maxLength)" }
            if !["longest", "max_length"].contains(t.padding) { return "padding must be longest or max_length, not '\(t.padding)'" }
            if labels != nil { return "the labels of text stimuli are named inside stimuli (stimuli.label)" }
        case let .images(i):
            if let resize = i.resize, resize < 1 || resize > 8192 { return "resize must be between 1 and 8192, not \(resize)" }
            if badSize(i.crop) { return "crop must be [height, width] between 1 and 4096" }
            if i.mean.isEmpty || i.mean.count != i.std.count || !(i.mean + i.std).allSatisfy(\.isFinite) || i.std.contains(where: { $0 <= 0 }) {
                return "mean and std must be lists of one finite number per channel, std positive"
            }
            if labels != nil { return "the labels of an image folder are its sub-folders or stimuli.labels" }
        }
        return nil
    }

    static func refuseUnknownKeys(_ decoder: Decoder, allowed: [String]) throws {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        if let unknown = keys.first(where: { !allowed.contains($0) }) {
            let path = (decoder.codingPath.map(\.stringValue) + [unknown]).joined(separator: ".")
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unknown key '\(path)'; allowed here: \(allowed.filter { $0 != "kind" || !decoder.codingPath.isEmpty }.joined(separator: ", "))"))
        }
    }

    static func describe(_ error: DecodingError) -> String { error.summary }
}

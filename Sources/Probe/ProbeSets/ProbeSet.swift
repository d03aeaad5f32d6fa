import Activations
import Foundation
import Formats
import Networks

/// A probe set made concrete for one input size: the stimuli as a tensor, their labels, and
/// the capture settings the probe-set file asked for.
public struct ProbeSet: Sendable {
    /// The probe set's name (its file name without extension unless the file names it).
    public var name: String
    public var description: String?
    /// Where it came from, for provenance: the probe-set file, and the data file if any.
    public var files: [URL]
    /// `[samples, channels, height, width]` float32 images, or the rows of an array; for a
    /// text probe set, whose ids depend on each model's tokenizer, empty (`[sentences, 0]`):
    /// feed models through ``sources(for:)``.
    public var inputs: Tensor
    /// The sentences of a text probe set.
    public var text: TextStimuli?
    /// One integer class per sample, when the probe set has labels.
    public var labels: [Int]?
    /// A readable name per class value, when known (e.g. "45°").
    public var classNames: [Int: String]
    /// Per-sample factors of generated stimuli (e.g. `orientation_deg`), for later analyses.
    public var factors: [String: [Double]]
    public var layers: LayerFilter
    /// The layer names as written in the file (`nil`: the model's default layers).
    public var layerNames: [String]?
    public var reduction: Reduction
    public var batchSize: Int
    public var seed: UInt64

    /// A probe set from arrays in hand (e.g. `--input x.npy --labels y.npy`).
    public init(name: String, inputs: Tensor, labels: [Int]? = nil, files: [URL] = [], layers: LayerFilter = .all,
                reduction: Reduction = .flatten, batchSize: Int = 64, seed: UInt64 = 0) {
        self.name = name
        self.inputs = inputs
        self.labels = labels
        self.files = files
        self.layers = layers
        self.reduction = reduction
        self.batchSize = batchSize
        self.seed = seed
        classNames = labels.map { Dictionary(Set($0).map { ($0, String($0)) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
        factors = [:]
    }

    /// Builds the probe set that `spec` describes for inputs of `[channels, height, width]`.
    ///
    /// - Parameters:
    ///   - file: the probe-set file; data paths are relative to its folder, and must lie in
    ///     it or in `allowing`.
    ///   - inputShape: the model's input shape without the batch axis; generated stimuli
    ///     take its size unless the file gives one.
    ///   - allowing: further folders the probe set may read from (the user's, from the
    ///     command line).
    public init(spec: ProbeSetSpec, file: URL, inputShape: [Int], allowing: [URL] = []) throws {
        let confinement = PathConfinement(probeSet: file, allowing: allowing)
        let fileName = file.deletingPathExtension().lastPathComponent
        name = spec.name ?? fileName
        description = spec.description
        files = [file]
        seed = spec.seed ?? 0
        batchSize = spec.batch ?? 64
        reduction = spec.reduction ?? .flatten
        layerNames = spec.layers.flatMap { $0 == ["all"] ? nil : $0 }
        layers = LayerFilter(list: layerNames)
        classNames = [:]
        factors = [:]
        if case let .text(settings) = spec.stimuli {
            let data = try confinement.url(settings.path)
            files.append(data)
            let read = try TextStimuli.read(settings, data: data, samples: spec.samples)
            text = read.stimuli
            labels = read.labels
            classNames = read.classNames
            inputs = Tensor(shape: [read.stimuli.sentences.count, 0], elements: [Float]())
            reduction = spec.reduction ?? .mean
            return
        }
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw ProbeError.invalidProbeSet(
                file: file.path, problem: "probe sets are images; the model's input \(inputShape) is not [channels, height, width]")
        }
        let channels = inputShape[0]
        func size(_ given: [Int]?) -> (Int, Int) { given.map { ($0[0], $0[1]) } ?? (inputShape[1], inputShape[2]) }
        let generatorSeed = seed
        /// Generated images without labels: `make(count, height, width)`, capped by `samples`.
        func unlabelled(_ given: [Int]?, _ wanted: Int, _ make: (Int, Int, Int) -> [Float]) -> Tensor {
            let (height, width) = size(given)
            let count = min(wanted, spec.samples ?? .max)
            return Tensor(shape: [count, channels, height, width], elements: make(count, height, width))
        }

        switch spec.stimuli {
        case let .gratings(settings):
            let (height, width) = size(settings.size)
            var grid = Stimuli.gratingGrid(settings)
            if let samples = spec.samples { grid = Array(grid.prefix(samples)) }
            var values: [Float] = []
            values.reserveCapacity(grid.count * channels * height * width)
            for entry in grid {
                values += Stimuli.grating(entry.grating, height: height, width: width, channels: channels,
                                          mean: settings.mean, contrast: settings.contrast)
            }
            inputs = Tensor(shape: [grid.count, channels, height, width], elements: values)
            factors = [
                "orientation_deg": grid.map(\.grating.orientation),
                "frequency": grid.map(\.grating.frequency),
                "phase_deg": grid.map(\.grating.phase),
            ]
            switch spec.labels {
            case "orientation"?:
                labels = grid.map(\.orientation)
                for entry in grid { classNames[entry.orientation] = Self.degrees(entry.grating.orientation) }
            case "frequency"?:
                labels = grid.map(\.frequency)
                for (i, f) in settings.frequencies.enumerated() { classNames[i] = "\(f) c/px" }
            case "phase"?:
                labels = grid.map(\.phase)
                for entry in grid { classNames[entry.phase] = Self.degrees(entry.grating.phase) }
            default:
                labels = nil
            }
        case let .noise(settings):
            inputs = unlabelled(settings.size, settings.count) {
                Stimuli.noise(settings, count: $0, channels: channels, height: $1, width: $2, seed: generatorSeed)
            }
            labels = nil
        case let .deadLeaves(settings):
            inputs = unlabelled(settings.size, settings.count) {
                Stimuli.deadLeaves(settings, count: $0, channels: channels, height: $1, width: $2, seed: generatorSeed)
            }
            labels = nil
        case let .file(settings):
            let data = try confinement.url(settings.path)
            files.append(data)
            (inputs, labels) = try Self.images(settings, data: data, channels: channels, samples: spec.samples)
            if let labels { for value in Set(labels) { classNames[value] = String(value) } }
        case let .images(settings):
            let folder = try confinement.url(settings.path)
            files.append(folder)
            (inputs, labels, classNames) = try ImageFolder.read(
                settings, folder: folder, channels: channels, height: inputShape[1], width: inputShape[2], samples: spec.samples,
                confinement: confinement)
        case .text:
            preconditionFailure("text probe sets are built above")
        }
        if let bad = inputs.floats?.firstIndex(where: { !$0.isFinite }) {
            throw ProbeError.invalidProbeSet(file: file.path, problem: "stimulus value \(bad) is not finite")
        }
    }

    /// The layer filter for names from a file: `nil` is every default layer; a single
    /// `PREFIX*` is a prefix.
    static func degrees(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))°" : String(format: "%.1f°", value)
    }

    /// Reads, scales and resizes the images (and labels) of a file stimulus.
    static func images(_ s: ProbeSetSpec.FileSettings, data: URL, channels: Int, samples: Int?) throws -> (Tensor, [Int]?) {
        let wanted = Set([s.array, s.labels].compactMap { $0 })
        let members = try ArrayFile.read(data, names: wanted.isEmpty ? nil : wanted)
        func member(_ name: String?) throws -> NumericArray {
            if let name {
                guard let found = members.first(where: { $0.name == name }) else {
                    throw ProbeError.invalidProbeSet(
                        file: data.path, problem: "has no array '\(name)'; it has \(members.map(\.name).joined(separator: ", "))")
                }
                return found.array
            }
            guard let first = members.first else { throw ProbeError.invalidProbeSet(file: data.path, problem: "holds no arrays") }
            return first.array
        }
        let array = try member(s.array)
        var shape = array.shape
        if shape.count == 3 { shape.insert(1, at: 1) }
        guard shape.count == 4, shape.allSatisfy({ $0 >= 1 }) else {
            throw ProbeError.invalidProbeSet(file: data.path, problem: "images must be [N, H, W] or [N, C, H, W], not \(array.shape)")
        }
        // With a class filter every sample is read, and the cap applies to what is kept.
        let count = s.classes == nil ? min(shape[0], samples ?? .max) : shape[0]
        let perImage = shape[1] * shape[2] * shape[3]
        var values = Array(array.floats().prefix(count * perImage))
        if s.scale != 1 || s.offset != 0 {
            let (scale, offset) = (Float(s.scale), Float(s.offset))
            values = values.map { $0 * scale + offset }
        }
        var (height, width) = (shape[2], shape[3])
        if let size = s.resize, size != [height, width] {
            values = Stimuli.resize(values, planes: count * shape[1], height: height, width: width, to: size[0], size[1])
            (height, width) = (size[0], size[1])
        }
        var imageChannels = shape[1]
        if imageChannels == 1 && channels > 1 {
            // Grey images for a colour model: the same plane in every channel.
            let plane = height * width
            values = (0..<count).flatMap { n in
                (0..<channels).flatMap { _ in values[(n * plane)..<((n + 1) * plane)] }
            }
            imageChannels = channels
        }
        guard imageChannels == channels else {
            throw ProbeError.invalidProbeSet(file: data.path, problem: "images have \(imageChannels) channels, the model takes \(channels)")
        }
        var labels: [Int]?
        if let name = s.labels {
            let column = try member(name)
            guard column.rank == 1, column.count >= count, let integers = column.int64s() else {
                throw ProbeError.invalidProbeSet(
                    file: data.path, problem: "labels '\(name)' must be a vector of at least \(count) integers, not \(column.elementType) \(column.shape)")
            }
            labels = integers.prefix(count).map { Int($0) }
        }
        if let classes = s.classes, let all = labels {
            let wanted = Set(classes)
            let kept = Array(all.indices.filter { wanted.contains(all[$0]) }.prefix(samples ?? .max))
            guard !kept.isEmpty else {
                throw ProbeError.invalidProbeSet(file: data.path, problem: "no sample has one of the classes \(classes)")
            }
            let size = channels * height * width
            values = kept.flatMap { values[($0 * size)..<(($0 + 1) * size)] }
            labels = kept.map { all[$0] }
            return (Tensor(shape: [kept.count, channels, height, width], elements: values), labels)
        }
        return (Tensor(shape: [count, channels, height, width], elements: values), labels)
    }
}

extension ProbeSet {
    /// The folders searched for a probe set by name, in order: `probes/` under the current
    /// folder, then `probes/` in each folder above the executable (which finds the
    /// repository's own folder from a build inside it) and `share/repprobe/probes` of an
    /// installation.
    public static func searchFolders(currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                     executable: URL = BundledFolders.executable) -> [URL] {
        BundledFolders.candidates("probes", currentDirectory: currentDirectory, executable: executable)
    }

    /// The file of a probe set given by path or by name (`NAME.yaml`, `.yml` or `.json` in
    /// one of ``searchFolders(currentDirectory:executable:)``).
    public static func locate(_ nameOrPath: String, in folders: [URL] = searchFolders()) throws -> URL {
        let direct = URL(fileURLWithPath: nameOrPath)
        if nameOrPath.contains("/") || [".yaml", ".yml", ".json"].contains(where: nameOrPath.hasSuffix) {
            if let problem = FormatError.problem(reading: direct) { throw ProbeError.invalidProbeSet(file: nameOrPath, problem: problem) }
            return direct
        }
        for folder in folders {
            for ext in ["yaml", "yml", "json"] {
                let candidate = folder.appendingPathComponent("\(nameOrPath).\(ext)")
                if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            }
        }
        let existing = folders.filter { FileManager.default.fileExists(atPath: $0.path) }
        throw ProbeError.unknownProbeSet(name: nameOrPath, searched: existing.isEmpty ? folders.prefix(1).map(\.path) : existing.map(\.path),
                                         available: available(in: existing))
    }

    /// Probe-set names found in `folders`, sorted.
    public static func available(in folders: [URL]) -> [String] {
        let names = folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
                .map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        }
        return Array(Set(names)).sorted()
    }

    /// Reads the probe set `nameOrPath` and builds it for `network`: images for its single
    /// image input, or sentences for its tokenizer. `allowing` are folders outside the
    /// probe set's own that it may read from.
    public static func load(_ nameOrPath: String, for network: Network, folders: [URL] = searchFolders(),
                            allowing: [URL] = []) throws -> ProbeSet {
        let file = try locate(nameOrPath, in: folders)
        let spec = try ProbeSetSpec.read(file)
        if case .text = spec.stimuli { return try ProbeSet(spec: spec, file: file, inputShape: [], allowing: allowing) }
        return try ProbeSet(spec: spec, file: file, inputShape: try network.imageInputShape(), allowing: allowing)
    }

    /// Reads the probe set `nameOrPath` and builds it for `inputShape` (text probe sets need
    /// no shape).
    public static func load(_ nameOrPath: String, inputShape: [Int], folders: [URL] = searchFolders(),
                            allowing: [URL] = []) throws -> ProbeSet {
        let file = try locate(nameOrPath, in: folders)
        return try ProbeSet(spec: try ProbeSetSpec.read(file), file: file, inputShape: inputShape, allowing: allowing)
    }
}

/// Where the files that ship with repprobe (probe sets, the demo models) are found: under
/// the current folder first, then above the executable, so that a build inside the
/// repository finds the repository's folders wherever it is run from.
public enum BundledFolders {
    /// `name` under the current folder, then under each of the executable's ancestors (and
    /// `share/repprobe/name` there, for an installation), without repeats.
    public static func candidates(_ name: String,
                                  currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                  executable: URL = BundledFolders.executable) -> [URL] {
        var folders = [currentDirectory.appendingPathComponent(name)]
        var directory = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            folders.append(directory.appendingPathComponent(name))
            folders.append(directory.appendingPathComponent("share/repprobe/\(name)"))
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        var seen = Set<String>()
        return folders.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// The running executable (through `/proc/self/exe` on Linux, so also when it was
    /// found on the `PATH`).
    public static var executable: URL {
        Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "")
    }

    /// The first existing `name/relativePath` among the candidates.
    public static func locate(_ relativePath: String, in name: String) -> URL? {
        candidates(name).map { $0.appendingPathComponent(relativePath) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}

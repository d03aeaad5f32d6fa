import ArgumentParser
import Foundation
import RepProbeKit

extension Reduction: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}
extension CKAEstimator: ExpressibleByArgument {}
extension CKAForm: ExpressibleByArgument {}
extension RDMMetric: ExpressibleByArgument {}

/// Refuses a layer × layer table of the layers of `rows` against those of `columns` (a
/// file's path and layer count each; nil: the first file against itself) that could not be
/// built and printed within `budget` bytes, before anything is computed: ten thousand layers
/// against ten thousand would otherwise run for minutes and then fail to allocate its text.
func requireTableFits(_ rows: (file: String, layers: Int), against columns: (file: String, layers: Int)?, budget: Int) throws {
    let other = columns ?? rows
    let bytes = LabelledMatrix.printingBytes(rows: rows.layers, columns: other.layers)
    guard bytes > budget else { return }
    let side = Int(Double(budget / LabelledMatrix.printingBytesPerValue).squareRoot())
    let files = columns.map { "\(rows.file) has \(rows.layers) layers and \($0.file) \($0.layers)" } ?? "\(rows.file) has \(rows.layers) layers"
    throw ValidationError("\(files): a table of \(rows.layers) × \(other.layers) values would take about \(ByteSize.readable(bytes)) "
                          + "to build and print, more than the \(ByteSize.readable(budget)) memory budget (--memory); "
                          + "choose layers with --layers (about \(side) × \(side) fit)")
}

/// Whether a report may replace a folder of files repprobe did not write.
struct ReportFolderOptions: ParsableArguments {
    @Flag(help: "Write the report even into a folder of files repprobe did not write, deleting them.")
    var force = false

    /// Checks before the work that the report can go to `folder` (see ``ReportFolder``).
    func check(_ folder: String) throws {
        try ReportFolder.checkWritable(URL(fileURLWithPath: folder), force: force)
    }
}

/// How activation files are read.
struct ActivationOptions: ParsableArguments {
    @Option(name: [.customLong("reduction"), .customLong("reduce")],
            help: ArgumentHelp("How rank-3/4 activations become samples × features: flatten, mean or max (over positions or space), center (the central position or token), first (or cls) and last (a token; with an attention mask, the first and last real one), subsample:S (every S-th position), project:K (fixed Gaussian projection to K features, drawn from the command's --seed). Token layers of padded text pool real tokens only.", valueName: "reduction"))
    var reduction: Reduction = .flatten

    @Option(help: ArgumentHelp("Only these layers (comma-separated names, in this order).", valueName: "names"))
    var layers: String?

    var layerNames: [String]? {
        layers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    }

    /// Loads a file; `seed` draws the matrix of `project:K`.
    func load(_ path: String, seed: UInt64 = 0) throws -> ActivationSet {
        try ActivationSet.load(URL(fileURLWithPath: path), reduction: reduction.seeded(seed), layers: layerNames)
    }
}

/// The kernel CKA uses.
enum KernelChoice: String, ExpressibleByArgument, CaseIterable {
    case linear, rbf
}

extension CKAPrecision: ExpressibleByArgument {
    /// `automatic` is the activations' own type, float64 as files are read: not worth a
    /// third spelling on the command line.
    public static var allValueStrings: [String] { [float64.rawValue, float32.rawValue] }
}

/// Which member of the CKA family.
struct CKAArguments: ParsableArguments {
    @Option(help: "Kernel: linear or rbf.")
    var kernel: KernelChoice = .linear

    @Option(help: ArgumentHelp("RBF bandwidth as a fraction of the median distance: σ = T × √median(squared distances).", valueName: "T"))
    var rbfThreshold: Double = 0.5

    @Option(help: "HSIC estimator: biased (Kornblith et al. 2019) or unbiased (Song et al. 2012, 'debiased CKA').")
    var estimator: CKAEstimator = .biased

    @Option(help: "Linear CKA evaluation: automatic, gram (n×n) or feature (d×d).")
    var form: CKAForm = .automatic

    @Option(help: "Precision of the matrix products: float64 or float32 (linear kernel only).")
    var precision: CKAPrecision = .float64

    func validate() throws {
        guard rbfThreshold > 0, rbfThreshold.isFinite else {
            throw ValidationError("--rbf-threshold must be a positive number, got \(rbfThreshold)")
        }
        if precision == .float32 && kernel == .rbf {
            throw ValidationError("--precision float32 applies to the linear kernel only")
        }
    }

    var options: CKAOptions {
        CKAOptions(kernel: kernel == .linear ? .linear : .rbf(threshold: rbfThreshold), estimator: estimator, form: form,
                   precision: precision)
    }

    var label: String {
        let k = kernel == .linear ? "linear" : "rbf (threshold \(rbfThreshold))"
        return "\(k) CKA, \(estimator.rawValue) estimator"
    }

    /// The CKA table of `a` (rows) against `b` (columns), or of `a` with itself.
    func table(_ a: consuming ActivationSet, _ b: consuming ActivationSet?) throws -> LabelledMatrix {
        let rows = a.layers.map(\.name), columns = b?.layers.map(\.name) ?? rows
        return LabelledMatrix(rowLabels: rows, columnLabels: columns, values: try matrix(consume a, consume b), corner: "A \\ B")
    }

    /// The CKA matrix of `a` against `b` (or of `a` with itself). Sets handed over (`consume`)
    /// let go of their layers, which the analysis may then overwrite instead of copying.
    func matrix(_ a: consuming ActivationSet, _ b: consuming ActivationSet?) throws -> [[Double]] {
        let namesA = a.layers.map(\.name), namesB = b?.layers.map(\.name)
        let layersA = a.layers.map(\.matrix), layersB = b?.layers.map(\.matrix) ?? []
        _ = consume a
        _ = consume b
        let result: Matrix<Double>
        if let namesB {
            result = try CKAMatrix.compute(consume layersA, consume layersB, namesA: namesA, namesB: namesB, options: options)
        } else {
            result = try CKAMatrix.compute(consume layersA, names: namesA, options: options)
        }
        return (0..<result.rows).map { result.row($0) }
    }
}

/// The JSON shape of a layer × layer result.
struct MatrixJSON: Encodable {
    var layers_a: [String]
    var layers_b: [String]
    /// Non-finite values (possible for degenerate unbiased estimates) are written as null.
    var matrix: [[Double?]]

    init(_ table: LabelledMatrix) {
        layers_a = table.rowLabels
        layers_b = table.columnLabels
        matrix = table.values.map { $0.map { $0.isFinite ? $0 : nil } }
    }
}

enum Output {
    /// Pretty JSON with sorted keys (stable output).
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}

/// The V1 model's settings on the command line.
struct V1Arguments: ParsableArguments {
    @Option(help: "V1 model: orientations over 180°.")
    var v1Orientations = V1Model.Settings().orientations

    @Option(help: ArgumentHelp("V1 model: spatial frequencies, comma-separated (cycles per pixel).", valueName: "f,f,…"))
    var v1Frequencies = V1Model.Settings().frequencies.map { String($0) }.joined(separator: ",")

    @Option(help: "V1 model: spatial-frequency bandwidth in octaves.")
    var v1Bandwidth = V1Model.Settings().bandwidth

    @Option(help: "V1 model: receptive-field positions per image side.")
    var v1Positions = V1Model.Settings().positions

    var settings: V1Model.Settings {
        get throws {
            var s = V1Model.Settings()
            s.orientations = v1Orientations
            s.bandwidth = v1Bandwidth
            s.positions = v1Positions
            let parts = v1Frequencies.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 0.5 }) else {
                throw ValidationError("--v1-frequencies must be numbers in (0, 0.5] separated by commas, got '\(v1Frequencies)'")
            }
            s.frequencies = parts.compactMap { $0 }
            guard s.orientations >= 1, s.positions >= 1, s.bandwidth > 0 else {
                throw ValidationError("--v1-orientations and --v1-positions must be at least 1 and --v1-bandwidth positive")
            }
            return s
        }
    }
}

/// An amount of memory on the command line: bytes, or a number with K, M, G or T (powers of
/// 1024; `4G`, `512M`, `1.5G`).
struct MemorySize: ExpressibleByArgument {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    var defaultValueDescription: String { "\(bytes >> 30)G" }

    init?(argument: String) {
        guard let bytes = ByteSize.parse(argument) else { return nil }
        self.bytes = bytes
    }
}

/// Folders outside a probe set's own that its data paths may lead to.
struct ProbePathOptions: ParsableArguments {
    @Option(name: .customLong("allow-path"),
            help: ArgumentHelp("A folder outside the probe set's own that its data paths may lead to (repeatable); otherwise a probe set reads only files in its own folder.", valueName: "folder"))
    var allowedPaths: [String] = []

    var folders: [URL] { allowedPaths.map { URL(fileURLWithPath: $0) } }
}

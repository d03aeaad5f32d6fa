import Activations
import Analysis
import Foundation
import Networks
import Probe

/// A comparison to run: model A against a network or the V1 model, on one set of inputs,
/// with the layers, the reduction and every analysis setting. It knows nothing of Markdown.
///
/// ```swift
/// let a = try ComparedModel.load(urlA), b = try ComparedModel.load(urlB)
/// var plan = ComparisonPlan(a: a, b: .network(b), probeSet: try ProbeSet.load("digits", for: a.network))
/// plan.cka = CKAOptions(estimator: .unbiased)
/// let results = try plan.run()                      // everything a report shows
/// let table = try plan.similarity()                 // only the layer × layer CKA
/// ```
///
/// ``run(progress:)`` captures both models on the probe set, then computes CKA between every
/// layer of A and of B (and each against itself), each layer's best match with a bootstrap
/// interval, a random-weights baseline, linear probes and PCA of every layer, a 2-D
/// projection, the samples CKA leans on, the first layers' filters and, when ``gratings``
/// is set, the receptive-field analysis of each model (``ReceptiveFieldAnalysis``).
/// Every statistic uses ``cka``, the options of the CKA it stands beside.
///
/// Design notes: the plan is a value that the command line, Swift code and tests build the
/// same way; what it captures is named by ``layersA``, ``layersB`` and ``reduction`` alone,
/// so a plan can be rerun on a slice of its inputs (``sliced(_:)``), the seam sharded runs
/// need.
public struct ComparisonPlan: Sendable {
    /// What model A is compared with.
    public enum Subject: Sendable {
        /// A network.
        case network(ComparedModel)
        /// Model A again: its layers against each other (``ComparisonPlan/similarity(notice:progress:batches:)``
        /// gives the symmetric matrix; ``ComparisonPlan/run(progress:)`` runs A twice).
        case same
        /// The V1 model (``V1Model`` with ``ComparisonPlan/v1``) as a representation of two
        /// layers, its simple and its complex cells.
        case v1

        public var network: ComparedModel? {
            if case let .network(model) = self { return model }
            return nil
        }
    }

    /// What the models are shown.
    public enum Inputs: Sendable {
        /// Images with their labels and names; every analysis can use them.
        case probeSet(ProbeSet)
        /// Arrays streamed from `.npy` files by graph input name (`""` for a model's single
        /// input), for ``similarity(progress:)`` on models with several inputs or more
        /// samples than fit in memory.
        case arrays([String: URL])
    }

    /// The name model B has when it is the V1 model.
    public static let v1Name = "V1 model"

    public var modelA: ComparedModel
    public var modelB: Subject
    public var inputs: Inputs
    /// Layers of A and of B (by default the probe set's, else every module output).
    public var layersA: LayerFilter
    public var layersB: LayerFilter
    /// How each activation becomes *samples × features* (by default the probe set's).
    public var reduction: Reduction
    /// Samples per batch through the networks (by default the probe set's).
    public var batchSize: Int
    /// The CKA of every matrix, interval, baseline and influence.
    public var cka = CKAOptions()
    /// Bootstrap resamples of each best match's interval; fewer than 2 for none.
    public var bootstrapResamples = 1000
    public var confidence = 0.95
    public var probeFolds = 5
    public var ridgeAlphas: [Double] = [0.01, 0.1, 1, 10, 100, 1000]
    /// Whether A is also compared with B's architecture under freshly drawn weights.
    public var randomBaseline = true
    /// How many of the samples that move CKA most are reported.
    public var influentialSamples = 10
    /// The layer of A whose 2-D projection is drawn (with its best match in B); by default
    /// A's last layer before the graph output.
    public var projectionLayer: String?
    /// Seeds the bootstrap, the shuffled-label control and the random weights.
    public var seed: UInt64 = 0
    /// Gratings at the models' input size: when set, each model also gets a receptive-field
    /// analysis (Gabor fits, grating tuning, CKA with the V1 model on the probe set).
    public var gratings: ProbeSet?
    /// The V1 model of the receptive-field analysis and of a comparison against V1.
    public var v1 = V1Model.Settings()
    /// Recorded in the results' provenance.
    public var toolVersion = "unknown"
    /// Bytes the activations of a layer-by-layer similarity may take in memory; beyond it
    /// ``similarity(notice:progress:batches:)`` streams linear CKA instead (three quarters of
    /// physical memory by default).
    public var memoryBudget = ActivationCollector.defaultMemoryLimit
    /// Run on this slice of the inputs only (``similarityAccumulator(progress:batches:)``);
    /// `nil` for all of them.
    public var shard: Shard?

    /// A plan on a probe set, taking its layers, reduction and batch size.
    public init(a: ComparedModel, b: Subject, probeSet: ProbeSet) {
        modelA = a
        modelB = b
        inputs = .probeSet(probeSet)
        layersA = probeSet.layers
        layersB = probeSet.layers
        reduction = probeSet.reduction
        batchSize = probeSet.batchSize
    }

    /// A plan on arrays streamed from `.npy` files, by graph input name (`""` for the single
    /// input).
    public init(a: ComparedModel, b: Subject, arrays: [String: URL], reduction: Reduction = .mean, batchSize: Int = 64) {
        modelA = a
        modelB = b
        inputs = .arrays(arrays)
        layersA = .all
        layersB = .all
        self.reduction = reduction
        self.batchSize = batchSize
    }

    /// The probe set with the plan's reduction and batch size; arrays become one when the
    /// model has a single input (read whole: the analyses need every sample at once).
    func probeSet() throws -> ProbeSet {
        var set: ProbeSet
        switch inputs {
        case let .probeSet(given):
            set = given
        case let .arrays(files):
            guard files.count == 1, let url = files.values.first, files.keys.first == "" || modelA.network.graph.inputs.map(\.name) == Array(files.keys) else {
                throw ProbeError.invalidInput(file: modelA.network.file, problem: "this analysis takes one input array (models with one input)")
            }
            set = try ProbeSet(array: url)
        }
        set.reduction = reduction
        set.batchSize = batchSize
        return set
    }

    /// Adds the receptive-field stage: ``gratings`` becomes the probe set `name` drawn at the
    /// models' image input size. When the models do not share one image input there is no
    /// such stage, and the reason is returned.
    @discardableResult
    public mutating func includeReceptiveFields(gratings name: String = "gratings") throws -> String? {
        let shapeA = try? modelA.network.imageInputShape()
        let shapeB = modelB.network.map { try? $0.network.imageInputShape() } ?? shapeA
        guard let shapeA, shapeA == shapeB else { return "the models do not share one image input" }
        gratings = try ProbeSet.load(name, inputShape: shapeA)
        return nil
    }

    /// The same plan on samples `range` of its probe set only.
    public func sliced(_ range: Range<Int>) throws -> ComparisonPlan {
        var plan = self
        plan.inputs = .probeSet(try probeSet().slice(range))
        return plan
    }
}

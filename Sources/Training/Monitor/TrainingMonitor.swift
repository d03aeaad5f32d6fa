import Results
import Analysis
import Foundation
import LinearAlgebra
import Networks
import Probe

/// Watches representations form while a network trains.
///
/// A training loop calls ``record(step:epoch:loss:)`` every N steps. Each call runs the
/// model (in inference mode, through the runtime the Probe module uses) on a fixed probe
/// set, captures the chosen layers, and records for each layer:
///
/// - **CKA to a reference** (linear, biased estimator): the same layer of the initial
///   weights, of a checkpoint, or of another model;
/// - **linear-probe accuracy**: a ridge classifier's 5-fold cross-validated accuracy on the
///   probe set's labels (the best of four regularisation strengths);
/// - **participation ratio** `(Σλ)²/Σλ²` of the layer's covariance spectrum;
///
/// and for the model, its accuracy on the probe set. The reference is kept as one centred
/// `n × n` Gram matrix per layer, so memory is bounded by the probe set's size, not by the
/// layers' widths or the number of records.
public final class TrainingMonitor {
    /// What a layer is compared with.
    public enum Reference {
        /// The model's own weights at the first record (the trainer records before its
        /// first step, after setting batch normalisation's statistics from the data).
        case initial
        /// Another network (a checkpoint before fine-tuning, another seed) with layers of
        /// the same names.
        case network(Network, description: String)
    }

    public struct Settings {
        /// Module paths (or tensor names) of the layers to watch.
        public var layers: [String]
        /// Regularisation strengths of the ridge probe.
        public var probeAlphas: [Double] = [0.1, 1, 10, 100]
        /// Cross-validation folds of the probe.
        public var folds: Int = 5
        public var batchSize: Int = 128

        public init(layers: [String]) { self.layers = layers }
    }

    public let settings: Settings
    public let probeSet: ProbeSet
    public let labels: [Int]
    public private(set) var log: TrainingLog
    private var referenceGrams: [Matrix<Double>] = []
    private let folds: [Int]

    /// - Throws: ``TrainingError`` when the probe set has no labels or the model or the
    ///   reference lacks a layer.
    public init(model: Model, probeSet: ProbeSet, settings: Settings, reference: Reference = .initial,
                recipe: String, seed: UInt64) throws {
        guard let labels = probeSet.labels else {
            throw TrainingError("probe set '\(probeSet.name)' has no labels; the monitor's linear probes need them")
        }
        self.settings = settings
        self.probeSet = probeSet
        self.labels = labels
        folds = try StratifiedKFold.assign(labels: labels, folds: settings.folds)
        let referenceDescription: String
        var referenceNetwork: Network?
        switch reference {
        case .initial:
            referenceDescription = "the initial weights"
            // Checked now, captured at the first record.
            _ = try LayerFilter.names(settings.layers).resolve(in: LayerCatalog(try model.network()))
        case let .network(network, description):
            referenceNetwork = network
            referenceDescription = description
        }
        log = TrainingLog(recipe: recipe, architecture: model.architecture, parameters: model.parameterCount, seed: seed,
                          probeSet: probeSet.name, samples: labels.count, layers: settings.layers,
                          reference: referenceDescription, records: [], probeFolds: settings.folds)
        if let referenceNetwork {
            referenceGrams = try capture(referenceNetwork).map { try Self.centeredGram($0) }
        }
    }

    /// Captures the watched layers of the model's current weights and appends a record.
    @discardableResult
    public func record(model: Model, step: Int, epoch: Double, loss: Double?) throws -> TrainingLog.Record {
        let network = try model.network()
        let activations = try capture(network)
        if referenceGrams.isEmpty { referenceGrams = try activations.map { try Self.centeredGram($0) } }
        var layers: [TrainingLog.LayerRecord] = []
        for (index, x) in activations.enumerated() {
            let gram = try Self.centeredGram(x)
            let cka = try CKA.fromGrams(gram, referenceGrams[index])
            let probe = try LinearProbe.evaluate(x, labels: labels, model: .ridge(alphas: settings.probeAlphas),
                                                 folds: folds, controlSeed: nil)
            layers.append(.init(name: settings.layers[index], ckaToReference: cka, probeAccuracy: probe.best.mean,
                                participationRatio: PCA.participationRatio(centeredGram: gram)))
        }
        let (overall, perClass) = try accuracy(network)
        let record = TrainingLog.Record(step: step, epoch: epoch, loss: loss,
                                        probeSetAccuracy: overall, classAccuracy: perClass, layers: layers)
        log.records.append(record)
        return record
    }

    /// The watched layers' activations on the probe set (flattened), samples × features.
    private func capture(_ network: Network) throws -> [Matrix<Double>] {
        let hooked = HookedNetwork(network)
        let collector = ActivationCollector()
        let input = network.graph.inputs[0].name
        try Capture.run(hooked, inputs: [input: TensorInputs(probeSet.inputs)],
                        settings: .init(layers: .names(settings.layers), reduction: .flatten, batchSize: settings.batchSize),
                        into: collector)
        return settings.layers.indices.map { index in
            let (rows, features) = collector.values(ofLayer: index)
            return Matrix<Float>(rows: labels.count, columns: features, rowMajor: rows).converted(to: Double.self)
        }
    }

    /// The model's own accuracy on the probe set, overall and for each class it holds.
    private func accuracy(_ network: Network) throws -> (Double, [TrainingLog.ClassAccuracy]) {
        let input = network.graph.inputs[0].name
        let outputs = try network.run([input: probeSet.inputs])
        guard let logits = outputs[Model.outputName]?.floats else { return (.nan, []) }
        let classes = logits.count / max(labels.count, 1)
        var samples: [Int: Int] = [:], correct: [Int: Int] = [:]
        for (row, label) in labels.enumerated() {
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            samples[label, default: 0] += 1
            if scores.indices.max(by: { scores[$0] < scores[$1] }).map({ $0 - row * classes }) == label {
                correct[label, default: 0] += 1
            }
        }
        let perClass = samples.keys.sorted().map { label in
            TrainingLog.ClassAccuracy(label: label, samples: samples[label]!,
                                      accuracy: Double(correct[label] ?? 0) / Double(samples[label]!))
        }
        return (Double(correct.values.reduce(0, +)) / Double(max(labels.count, 1)), perClass)
    }

    private static func centeredGram(_ x: Matrix<Double>) throws -> Matrix<Double> {
        x.centeringColumns().outerGram()
    }

    /// Writes the log as JSON (see ``TrainingLog/json()``), atomically.
    public func writeLog(to url: URL) throws {
        try log.json().write(to: url, options: .atomic)
    }
}

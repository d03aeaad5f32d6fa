import Foundation

/// Everything a monitor recorded, as its JSON log holds it.
public struct TrainingLog: Codable, Sendable {
    /// What the file holds (absent from logs written before it was recorded).
    public var format: ResultsFormat? = ResultsFormat(kind: .training)
    public var recipe: String
    public var architecture: String
    public var parameters: Int
    public var seed: UInt64
    public var probeSet: String
    public var samples: Int
    public var layers: [String]
    public var reference: String
    public var records: [Record]
    /// Cross-validation folds of the layers' linear probes (absent from logs written before
    /// it was recorded, which all used 5).
    public var probeFolds: Int?
    /// Lines for the report's header: how to reproduce the run, the checkpoint written.
    public var notes: [String]?

    public struct Record: Codable, Sendable {
        public var step: Int
        public var epoch: Double
        /// The mean training loss since the previous record (`nil` before any step).
        public var loss: Double?
        public var probeSetAccuracy: Double
        /// The model's accuracy on each class of the probe set (absent from logs written
        /// before it was recorded).
        public var classAccuracy: [ClassAccuracy]?
        public var layers: [LayerRecord]

        public init(step: Int, epoch: Double, loss: Double? = nil, probeSetAccuracy: Double, classAccuracy: [ClassAccuracy]? = nil, layers: [LayerRecord]) {
            self.step = step
            self.epoch = epoch
            self.loss = loss
            self.probeSetAccuracy = probeSetAccuracy
            self.classAccuracy = classAccuracy
            self.layers = layers
        }
    }

    public struct ClassAccuracy: Codable, Sendable, Equatable {
        public var label: Int
        public var samples: Int
        public var accuracy: Double

        public init(label: Int, samples: Int, accuracy: Double) {
            self.label = label
            self.samples = samples
            self.accuracy = accuracy
        }
    }

    /// The log as JSON (``ResultsFormat/encode(_:)``).
    public func json() throws -> Data { try ResultsFormat.encode(self) }

    public struct LayerRecord: Codable, Sendable {
        public var name: String
        public var ckaToReference: Double
        public var probeAccuracy: Double
        public var participationRatio: Double

        public init(name: String, ckaToReference: Double, probeAccuracy: Double, participationRatio: Double) {
            self.name = name
            self.ckaToReference = ckaToReference
            self.probeAccuracy = probeAccuracy
            self.participationRatio = participationRatio
        }
    }

    public init(recipe: String, architecture: String, parameters: Int, seed: UInt64, probeSet: String, samples: Int, layers: [String], reference: String, records: [Record], probeFolds: Int? = nil, notes: [String]? = nil) {
        self.recipe = recipe
        self.architecture = architecture
        self.parameters = parameters
        self.seed = seed
        self.probeSet = probeSet
        self.samples = samples
        self.layers = layers
        self.reference = reference
        self.records = records
        self.probeFolds = probeFolds
        self.notes = notes
    }
}

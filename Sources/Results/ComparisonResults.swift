import Analysis

/// Every number of a model comparison, in the layout of `results.json` (snake_case keys).
///
/// Matrices are rows of values with their row and column labels; values that are not finite
/// (a degenerate layer) are `null`. Layers are named by module path where the exporter left
/// one, else by tensor name.
public struct ComparisonResults: Sendable, Codable, Equatable {
    /// A layer × layer matrix with its labels.
    public struct LayerMatrix: Sendable, Codable, Equatable {
        public var layersA: [String]
        public var layersB: [String]
        public var matrix: [[Double?]]

        enum CodingKeys: String, CodingKey {
            case layersA = "layers_a", layersB = "layers_b", matrix
        }

        public init(layersA: [String], layersB: [String], values: [[Double]]) {
            self.layersA = layersA
            self.layersB = layersB
            matrix = values.map { $0.map { $0.isFinite ? $0 : nil } }
        }

        /// The values with `nil` as NaN.
        public var values: [[Double]] { matrix.map { $0.map { $0 ?? .nan } } }
    }

    /// The best match in B of one layer of A.
    public struct Correspondence: Sendable, Codable, Equatable {
        public var layer: String
        public var bestMatch: String
        public var cka: Double
        /// Bootstrap percentile interval of `cka` (resampling the probe set).
        public var lower: Double?
        public var upper: Double?
        public var runnerUp: String?
        public var runnerUpCKA: Double?
        /// The highest CKA of this layer with any layer of a randomly initialised copy of B.
        public var randomBaseline: Double?

        enum CodingKeys: String, CodingKey {
            case layer, bestMatch = "best_match", cka, lower, upper, runnerUp = "runner_up", runnerUpCKA = "runner_up_cka"
            case randomBaseline = "random_baseline"
        }

        public init(layer: String, bestMatch: String, cka: Double, lower: Double? = nil, upper: Double? = nil, runnerUp: String? = nil, runnerUpCKA: Double? = nil, randomBaseline: Double? = nil) {
            self.layer = layer
            self.bestMatch = bestMatch
            self.cka = cka
            self.lower = lower
            self.upper = upper
            self.runnerUp = runnerUp
            self.runnerUpCKA = runnerUpCKA
            self.randomBaseline = randomBaseline
        }
    }

    /// One model's per-layer measurements.
    public struct LayerSummary: Sendable, Codable, Equatable {
        public var layer: String
        /// Features after the reduction.
        public var width: Int
        /// `(Σλ)² / Σλ²` of the covariance eigenvalues: the number of dimensions in use.
        public var participationRatio: Double?
        /// Components needed for 90 % of the variance.
        public var components90: Int?
        /// Explained-variance ratios of the leading components (at most 50).
        public var explainedVarianceRatio: [Double]
        /// Cross-validated linear-probe accuracy, its standard deviation over folds, and the
        /// same probe on shuffled labels; present when the probe set has labels.
        public var probeAccuracy: Double?
        public var probeAccuracySD: Double?
        public var shuffledLabelAccuracy: Double?

        enum CodingKeys: String, CodingKey {
            case layer, width, participationRatio = "participation_ratio", components90 = "components_90"
            case explainedVarianceRatio = "explained_variance_ratio", probeAccuracy = "probe_accuracy"
            case probeAccuracySD = "probe_accuracy_sd", shuffledLabelAccuracy = "shuffled_label_accuracy"
        }

        public init(layer: String, width: Int, participationRatio: Double? = nil, components90: Int? = nil, explainedVarianceRatio: [Double], probeAccuracy: Double? = nil, probeAccuracySD: Double? = nil, shuffledLabelAccuracy: Double? = nil) {
            self.layer = layer
            self.width = width
            self.participationRatio = participationRatio
            self.components90 = components90
            self.explainedVarianceRatio = explainedVarianceRatio
            self.probeAccuracy = probeAccuracy
            self.probeAccuracySD = probeAccuracySD
            self.shuffledLabelAccuracy = shuffledLabelAccuracy
        }
    }

    /// A sample whose removal moves CKA the most.
    public struct InfluentialSample: Sendable, Codable, Equatable {
        public var sample: Int
        public var label: Int?
        /// The layer pair (A layer, its best match in B) where leaving it out matters most.
        public var layerA: String
        public var layerB: String
        public var cka: Double
        public var ckaWithout: Double

        enum CodingKeys: String, CodingKey {
            case sample, label, layerA = "layer_a", layerB = "layer_b", cka, ckaWithout = "cka_without"
        }

        public init(sample: Int, label: Int? = nil, layerA: String, layerB: String, cka: Double, ckaWithout: Double) {
            self.sample = sample
            self.label = label
            self.layerA = layerA
            self.layerB = layerB
            self.cka = cka
            self.ckaWithout = ckaWithout
        }
    }

    /// The first layer's filters, `[out, in, kh, kw]`, row-major.
    public struct Filters: Sendable, Codable, Equatable {
        public var layer: String
        public var shape: [Int]
        public var values: [Float]

        public init(layer: String, shape: [Int], values: [Float]) {
            self.layer = layer
            self.shape = shape
            self.values = values
        }
    }

    /// A 2-D PCA projection of one layer, one point per sample.
    public struct Projection: Sendable, Codable, Equatable {
        public var model: String
        public var layer: String
        public var points: [[Double]]
        /// Variance explained by the two axes.
        public var explained: [Double]

        public init(model: String, layer: String, points: [[Double]], explained: [Double]) {
            self.model = model
            self.layer = layer
            self.points = points
            self.explained = explained
        }
    }

    /// Sanity checks: things that must hold whatever the models.
    public struct Checks: Sendable, Codable, Equatable {
        /// Largest |CKA(layer, same layer) − 1| over both models' self-comparisons; absent
        /// when the tables within the models were not computed (joined statistics that kept
        /// the pairs across only).
        public var selfSimilarityMaxDeviation: Double?
        /// Mean over A's layers of the best CKA with a randomly initialised copy of B, when
        /// one could be made.
        public var randomBaselineMean: Double?
        /// Why there is no random baseline, if there is none.
        public var randomBaselineNote: String?
        /// Layers of A and of B left out because they are identical on every input of the
        /// probe set (their similarity with anything is undefined); `nil` when there are none.
        public var constantLayersA: [String]?
        public var constantLayersB: [String]?

        enum CodingKeys: String, CodingKey {
            case selfSimilarityMaxDeviation = "self_similarity_max_deviation", randomBaselineMean = "random_baseline_mean"
            case randomBaselineNote = "random_baseline_note"
            case constantLayersA = "constant_layers_a", constantLayersB = "constant_layers_b"
        }

        public init(selfSimilarityMaxDeviation: Double?, randomBaselineMean: Double? = nil, randomBaselineNote: String? = nil,
                    constantLayersA: [String]? = nil, constantLayersB: [String]? = nil) {
            self.selfSimilarityMaxDeviation = selfSimilarityMaxDeviation
            self.randomBaselineMean = randomBaselineMean
            self.randomBaselineNote = randomBaselineNote
            self.constantLayersA = constantLayersA
            self.constantLayersB = constantLayersB
        }
    }

    /// Where the numbers came from.
    public struct Provenance: Sendable, Codable, Equatable {
        public struct File: Sendable, Codable, Equatable {
            public var role: String
            public var name: String
            public var format: String
            public var sha256: String

            public init(role: String, name: String, format: String, sha256: String) {
                self.role = role
                self.name = name
                self.format = format
                self.sha256 = sha256
            }
        }

        /// Wall-clock seconds since `start`.
        public static func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }

        public var files: [File]
        public var probeSet: String
        public var samples: Int
        public var reduction: String
        public var estimator: String
        public var kernel: String
        public var dtype: String
        public var seed: UInt64
        public var bootstrapResamples: Int
        /// Confidence level of the bootstrap intervals (absent in results written before it
        /// was recorded, which all used 0.95).
        public var confidence: Double?
        /// Cross-validation folds of the linear probes (absent in results written before it
        /// was recorded, which all used 5).
        public var probeFolds: Int?
        public var repprobeVersion: String
        /// Wall-clock seconds of the whole run (the one value that differs between runs).
        public var seconds: Double
        /// The shards whose statistics were joined, when the results come from them
        /// (`repprobe merge`, `mpirun`) rather than from every activation in memory: then
        /// only what the statistics hold is here (CKA, correspondences, spectra).
        public var joinedShards: Int?

        enum CodingKeys: String, CodingKey {
            case files, probeSet = "probe_set", samples, reduction, estimator, kernel, dtype, seed
            case bootstrapResamples = "bootstrap_resamples", confidence, probeFolds = "probe_folds", repprobeVersion = "repprobe_version", seconds
            case joinedShards = "joined_shards"
        }

        public init(files: [File], probeSet: String, samples: Int, reduction: String, estimator: String, kernel: String, dtype: String, seed: UInt64, bootstrapResamples: Int, confidence: Double? = nil, probeFolds: Int? = nil, repprobeVersion: String, seconds: Double,
                    joinedShards: Int? = nil) {
            self.files = files
            self.probeSet = probeSet
            self.samples = samples
            self.reduction = reduction
            self.estimator = estimator
            self.kernel = kernel
            self.dtype = dtype
            self.seed = seed
            self.bootstrapResamples = bootstrapResamples
            self.confidence = confidence
            self.probeFolds = probeFolds
            self.repprobeVersion = repprobeVersion
            self.seconds = seconds
            self.joinedShards = joinedShards
        }
    }

    /// What the file holds (absent from files written before it was recorded).
    public var format: ResultsFormat? = ResultsFormat(kind: .comparison)
    public var modelA: String
    public var modelB: String
    /// The V1 model's settings, when B is the V1 model.
    public var v1Model: V1Model.Settings?
    public var cka: LayerMatrix
    /// The tables within A and within B (absent from joined statistics that kept only the
    /// pairs across).
    public var ckaAA: LayerMatrix?
    public var ckaBB: LayerMatrix?
    public var ckaRandomB: LayerMatrix?
    public var correspondences: [Correspondence]
    public var layersA: [LayerSummary]
    public var layersB: [LayerSummary]
    public var chance: Double?
    public var classNames: [String]?
    public var projections: [Projection]
    public var projectionLabels: [Int]?
    public var filtersA: Filters?
    public var filtersB: Filters?
    public var influentialSamples: [InfluentialSample]
    /// Receptive-field analyses of A and of B (when B is a network), when asked for.
    public var receptiveFieldsA: ReceptiveFieldResults?
    public var receptiveFieldsB: ReceptiveFieldResults?
    public var checks: Checks
    public var provenance: Provenance

    enum CodingKeys: String, CodingKey {
        case format, modelA = "model_a", modelB = "model_b", v1Model = "v1_model", cka, ckaAA = "cka_a_a", ckaBB = "cka_b_b", ckaRandomB = "cka_a_random_b"
        case correspondences, layersA = "layers_a", layersB = "layers_b", chance, classNames = "class_names"
        case projections, projectionLabels = "projection_labels", filtersA = "filters_a", filtersB = "filters_b"
        case influentialSamples = "influential_samples", receptiveFieldsA = "receptive_fields_a"
        case receptiveFieldsB = "receptive_fields_b", checks, provenance
    }

    public init(modelA: String, modelB: String, v1Model: V1Model.Settings? = nil, cka: LayerMatrix, ckaAA: LayerMatrix?, ckaBB: LayerMatrix?, ckaRandomB: LayerMatrix? = nil, correspondences: [Correspondence], layersA: [LayerSummary], layersB: [LayerSummary], chance: Double? = nil, classNames: [String]? = nil, projections: [Projection], projectionLabels: [Int]? = nil, filtersA: Filters? = nil, filtersB: Filters? = nil, influentialSamples: [InfluentialSample], receptiveFieldsA: ReceptiveFieldResults? = nil, receptiveFieldsB: ReceptiveFieldResults? = nil, checks: Checks, provenance: Provenance) {
        self.modelA = modelA
        self.modelB = modelB
        self.v1Model = v1Model
        self.cka = cka
        self.ckaAA = ckaAA
        self.ckaBB = ckaBB
        self.ckaRandomB = ckaRandomB
        self.correspondences = correspondences
        self.layersA = layersA
        self.layersB = layersB
        self.chance = chance
        self.classNames = classNames
        self.projections = projections
        self.projectionLabels = projectionLabels
        self.filtersA = filtersA
        self.filtersB = filtersB
        self.influentialSamples = influentialSamples
        self.receptiveFieldsA = receptiveFieldsA
        self.receptiveFieldsB = receptiveFieldsB
        self.checks = checks
        self.provenance = provenance
    }
}

import Analysis

/// Every number of a receptive-field analysis of one model, in the layout of `results.json`
/// (snake_case keys): Gabor fits of the first-layer filters, grating tuning of the units of
/// each layer, and the CKA of each layer with a model of V1.
public struct ReceptiveFieldResults: Sendable, Codable, Equatable {
    /// One fitted filter plane.
    public struct FilterFit: Sendable, Codable, Equatable {
        public var filter: Int
        /// The input channel's index, or `mean` for the luminance filter of a colour filter.
        public var channel: String
        /// Orientation of the wave vector, degrees in [0, 180); 0° = vertical stripes.
        public var thetaDeg: Double
        /// Cycles per pixel.
        public var frequency: Double
        /// Envelope σ along the wave vector and along the stripes, pixels.
        public var sigmaX: Double
        public var sigmaY: Double
        public var phaseDeg: Double
        /// Envelope centre, pixels from the kernel's centre (y up).
        public var x0: Double
        public var y0: Double
        public var amplitude: Double
        public var offset: Double
        public var r2: Double
        public var wellFit: Bool
        /// Ringach's (2002) `nx = σx·f` and `ny = σy·f`: the envelope's size in cycles
        /// across and along the stripes.
        public var nx: Double
        public var ny: Double

        enum CodingKeys: String, CodingKey {
            case filter, channel, thetaDeg = "theta_deg", frequency, sigmaX = "sigma_x", sigmaY = "sigma_y"
            case phaseDeg = "phase_deg", x0, y0, amplitude, offset, r2, wellFit = "well_fit", nx, ny
        }

        /// The fitted function.
        public var gabor: Gabor {
            Gabor(amplitude: amplitude, x0: x0, y0: y0, sigmaX: sigmaX, sigmaY: sigmaY, theta: thetaDeg * .pi / 180,
                  frequency: frequency, phase: phaseDeg * .pi / 180, offset: offset)
        }

        public init(filter: Int, channel: String, thetaDeg: Double, frequency: Double, sigmaX: Double, sigmaY: Double, phaseDeg: Double, x0: Double, y0: Double, amplitude: Double, offset: Double, r2: Double, wellFit: Bool, nx: Double, ny: Double) {
            self.filter = filter
            self.channel = channel
            self.thetaDeg = thetaDeg
            self.frequency = frequency
            self.sigmaX = sigmaX
            self.sigmaY = sigmaY
            self.phaseDeg = phaseDeg
            self.x0 = x0
            self.y0 = y0
            self.amplitude = amplitude
            self.offset = offset
            self.r2 = r2
            self.wellFit = wellFit
            self.nx = nx
            self.ny = ny
        }
    }

    /// The fits of one layer's filters.
    public struct FilterFits: Sendable, Codable, Equatable {
        public var layer: String
        /// `[out, in, kh, kw]`.
        public var shape: [Int]
        /// The weights, row-major.
        public var values: [Float]
        public var threshold: Double
        /// Every input channel of every filter, and for several input channels the mean too.
        public var fits: [FilterFit]
        /// Why there are no fits (kernels smaller than 2 × 2), if there are none.
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case layer, shape, values, threshold, fits, note
        }

        /// One fit per filter: the luminance (mean) fit of colour filters, else the only channel.
        public var summaryFits: [FilterFit] {
            let single = (shape.count == 4 ? shape[1] : 1) == 1
            return fits.filter { single || $0.channel == "mean" }
        }

        /// The planes of filter `filter` that are fitted, labelled as fits are: each input
        /// channel (`"0"`, `"1"`, …) and, for several channels, their mean (`"mean"`).
        public func planes(ofFilter filter: Int) -> [(channel: String, values: [Double])] {
            let (ins, plane) = (shape[1], shape[2] * shape[3])
            var planes: [(channel: String, values: [Double])] = (0..<ins).map { c in
                (String(c), values[((filter * ins + c) * plane)..<((filter * ins + c + 1) * plane)].map(Double.init))
            }
            if ins > 1 {
                planes.append(("mean", (0..<plane).map { p in planes.reduce(0) { $0 + $1.values[p] } / Double(ins) }))
            }
            return planes
        }

        /// The plane that `fit` describes: its input channel, or the mean over channels.
        public func plane(of fit: FilterFit) -> [Double] {
            planes(ofFilter: fit.filter).first { $0.channel == fit.channel }?.values ?? []
        }

        public var wellFitFraction: Double? {
            let summary = summaryFits
            return summary.isEmpty ? nil : Double(summary.filter(\.wellFit).count) / Double(summary.count)
        }

        public init(layer: String, shape: [Int], values: [Float], threshold: Double, fits: [FilterFit], note: String? = nil) {
            self.layer = layer
            self.shape = shape
            self.values = values
            self.threshold = threshold
            self.fits = fits
            self.note = note
        }
    }

    /// The grating tuning of one layer's units.
    public struct LayerTuning: Sendable, Codable, Equatable {
        public var layer: String
        /// Whether each unit's response varied at all across the gratings; the medians and
        /// fractions below are over responsive units.
        public var responsive: [Bool]
        public var units: [OrientationTuning.Unit]
        public var medianCircularVariance: Double?
        public var medianOSI: Double?
        public var medianBandwidth: Double?
        /// Fraction of responsive units with F1/F0 > 1 (simple-cell-like).
        public var simpleFraction: Double?
        /// Fraction of responsive units with circular variance below 0.5 (clearly tuned).
        public var tunedFraction: Double?

        /// A responsive unit counts as orientation-tuned below this circular variance.
        public static let tunedCircularVariance = 0.5

        /// Indices of the responsive units that are orientation-tuned.
        public var tunedUnits: [Int] {
            units.indices.filter { responsive[$0] && units[$0].circularVariance < Self.tunedCircularVariance }
        }

        enum CodingKeys: String, CodingKey {
            case layer, responsive, units, medianCircularVariance = "median_circular_variance", medianOSI = "median_osi"
            case medianBandwidth = "median_bandwidth_deg", simpleFraction = "simple_fraction", tunedFraction = "tuned_fraction"
        }

        public init(layer: String, responsive: [Bool], units: [OrientationTuning.Unit], medianCircularVariance: Double? = nil, medianOSI: Double? = nil, medianBandwidth: Double? = nil, simpleFraction: Double? = nil, tunedFraction: Double? = nil) {
            self.layer = layer
            self.responsive = responsive
            self.units = units
            self.medianCircularVariance = medianCircularVariance
            self.medianOSI = medianOSI
            self.medianBandwidth = medianBandwidth
            self.simpleFraction = simpleFraction
            self.tunedFraction = tunedFraction
        }
    }

    /// Grating tuning of every analysed layer.
    public struct Tuning: Sendable, Codable, Equatable {
        public var probeSet: String
        /// How a unit was read from a feature map (`center`: each channel at the central position).
        public var reduction: String
        public var orientations: [Double]
        public var frequencies: [Double]
        public var phases: [Double]
        public var layers: [LayerTuning]

        enum CodingKeys: String, CodingKey {
            case probeSet = "probe_set", reduction, orientations = "orientations_deg", frequencies, phases = "phases_deg", layers
        }

        public init(probeSet: String, reduction: String, orientations: [Double], frequencies: [Double], phases: [Double], layers: [LayerTuning]) {
            self.probeSet = probeSet
            self.reduction = reduction
            self.orientations = orientations
            self.frequencies = frequencies
            self.phases = phases
            self.layers = layers
        }
    }

    /// CKA of each layer with the V1 model's simple and complex cells on one input set.
    public struct V1Similarity: Sendable, Codable, Equatable {
        public var probeSet: String
        public var samples: Int
        public var reduction: String
        public var model: V1Model.Settings
        public var layers: [String]
        public var simple: [Double?]
        public var complex: [Double?]

        enum CodingKeys: String, CodingKey {
            case probeSet = "probe_set", samples, reduction, model = "v1_model", layers, simple, complex
        }

        public init(probeSet: String, samples: Int, reduction: String, model: V1Model.Settings, layers: [String], simple: [Double?], complex: [Double?]) {
            self.probeSet = probeSet
            self.samples = samples
            self.reduction = reduction
            self.model = model
            self.layers = layers
            self.simple = simple
            self.complex = complex
        }
    }

    public struct Provenance: Sendable, Codable, Equatable {
        public var files: [ComparisonResults.Provenance.File]
        public var repprobeVersion: String
        /// Wall-clock seconds of the whole run (the one value that differs between runs).
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case files, repprobeVersion = "repprobe_version", seconds
        }

        public init(files: [ComparisonResults.Provenance.File], repprobeVersion: String, seconds: Double) {
            self.files = files
            self.repprobeVersion = repprobeVersion
            self.seconds = seconds
        }
    }

    /// What the file holds (absent from files written before it was recorded).
    public var format: ResultsFormat? = ResultsFormat(kind: .receptiveFields)
    public var model: String
    public var filters: FilterFits?
    public var tuning: Tuning?
    public var v1: V1Similarity?
    public var provenance: Provenance

    public init(model: String, filters: FilterFits? = nil, tuning: Tuning? = nil, v1: V1Similarity? = nil, provenance: Provenance) {
        self.model = model
        self.filters = filters
        self.tuning = tuning
        self.v1 = v1
        self.provenance = provenance
    }
}

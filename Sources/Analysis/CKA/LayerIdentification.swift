import LinearAlgebra

/// Can a similarity measure tell which layer of one network corresponds to which layer of
/// another network of the same architecture trained from a different seed? (Kornblith et
/// al. 2019, section 6.1 and Table 2.)
///
/// For every ordered pair of distinct networks (A, B) and every layer ℓ of A, the layer of
/// B most similar to A's layer ℓ is found; the identification is correct when it is B's
/// layer ℓ. The accuracy is the fraction of correct identifications over all pairs and
/// layers. The paper reports 99.3 % for linear CKA, 1.4 % for CCA (mean ρ), 9.9 % for
/// SVCCA and 11.1 % for PWCCA on ten Tiny-10 networks trained on CIFAR-10.
public enum LayerIdentification {
    public enum Measure: String, CaseIterable, Sendable, Codable {
        /// Linear CKA, biased estimator.
        case linearCKA = "linear CKA"
        /// RBF CKA, the bandwidth a fraction of the median distance (as ``CKA/rbf(_:_:threshold:estimator:)``
        /// takes it).
        case rbfCKA = "RBF CKA"
        /// Mean canonical correlation ρ̄.
        case cca = "CCA (mean ρ)"
        /// SVCCA keeping 99 % of each layer's variance, mean ρ.
        case svcca = "SVCCA"
        /// PWCCA, weights from the layer being identified (A's).
        case pwcca = "PWCCA"
    }

    public struct Result: Sendable, Codable {
        public var measure: Measure
        /// The fraction of (pair, layer) identifications that found the corresponding layer.
        public var accuracy: Double
        /// The fraction that found the corresponding layer or one of its neighbours: how
        /// near the misses fall.
        public var withinOneLayer: Double
        /// The same per layer of A, over all ordered pairs.
        public var layerAccuracy: [Double]
        /// `identified[p][ℓ]`: the layer of B chosen for A's layer ℓ in ordered pair `p`
        /// (pairs in the order of ``pairs``).
        public var identified: [[Int]]
        /// The ordered pairs (A, B) of network indices.
        public var pairs: [[Int]]
    }

    /// Identification accuracy of `measure` for networks given as their layers' samples ×
    /// features matrices (every network the same number of layers, every matrix the same
    /// samples).
    ///
    /// - Throws: ``AnalysisError`` for fewer than two networks, networks of different depths
    ///   or sample counts, and what the measure itself refuses (CCA with no more samples than
    ///   features).
    public static func evaluate(_ networks: [[Matrix<Double>]], measure: Measure, rbfThreshold: Double = 0.8) throws -> Result {
        guard networks.count >= 2 else {
            throw AnalysisError.invalidArgument("layer identification needs at least two networks, got \(networks.count)")
        }
        let depth = networks[0].count
        guard depth >= 1, networks.allSatisfy({ $0.count == depth }) else {
            throw AnalysisError.invalidArgument("layer identification needs networks of the same depth, got \(networks.map(\.count))")
        }
        let samples = networks[0][0].rows
        for network in networks { for layer in network { try AnalysisError.checkSameSamples(samples, layer.rows, "layer identification") } }

        var similarity = try SimilarityTable(networks, measure: measure, rbfThreshold: rbfThreshold)
        var pairs: [[Int]] = [], identified: [[Int]] = []
        var correctPerLayer = [Int](repeating: 0, count: depth)
        var nearMisses = 0
        for a in networks.indices { for b in networks.indices where a != b {
            var choices: [Int] = []
            for layer in 0..<depth {
                let scores = try (0..<depth).map { try similarity.value(a, layer, b, $0) }
                // The first of equal maxima; a NaN score never wins.
                var best = 0
                for candidate in 1..<depth where scores[candidate] > scores[best] || scores[best].isNaN { best = candidate }
                choices.append(best)
                if best == layer { correctPerLayer[layer] += 1 } else if abs(best - layer) == 1 { nearMisses += 1 }
            }
            pairs.append([a, b])
            identified.append(choices)
        } }
        let total = Double(pairs.count), correct = correctPerLayer.reduce(0, +)
        return Result(measure: measure, accuracy: Double(correct) / (total * Double(depth)),
                      withinOneLayer: Double(correct + nearMisses) / (total * Double(depth)),
                      layerAccuracy: correctPerLayer.map { Double($0) / total }, identified: identified, pairs: pairs)
    }

    /// Similarities between layers of different networks, with each layer prepared once
    /// (its Gram matrix for CKA, its basis for the CCA family) and each symmetric value
    /// computed once.
    private struct SimilarityTable {
        let measure: Measure
        var grams: [[Matrix<Double>]] = []
        var representations: [[CCARepresentation]] = []
        var cache: [Key: Double] = [:]

        struct Key: Hashable { let a: Int, la: Int, b: Int, lb: Int }

        init(_ networks: [[Matrix<Double>]], measure: Measure, rbfThreshold: Double) throws {
            self.measure = measure
            switch measure {
            case .linearCKA:
                grams = networks.map { $0.map { $0.centeringColumns().outerGram() } }
            case .rbfCKA:
                grams = networks.map { $0.map { KernelMatrix.rbf($0, threshold: rbfThreshold) } }
            case .cca, .pwcca:
                representations = try networks.map { try $0.map { try CCARepresentation($0, context: measure.rawValue) } }
            case .svcca:
                representations = try networks.map { try $0.map { try CCARepresentation.reducing($0) } }
            }
        }

        mutating func value(_ a: Int, _ la: Int, _ b: Int, _ lb: Int) throws -> Double {
            // PWCCA is weighted by its first argument; the others are symmetric.
            let key = measure == .pwcca || (a, la) < (b, lb) ? Key(a: a, la: la, b: b, lb: lb) : Key(a: b, la: lb, b: a, lb: la)
            if let known = cache[key] { return known }
            let value: Double
            switch measure {
            case .linearCKA, .rbfCKA:
                value = try CKA.fromGrams(grams[key.a][key.la], grams[key.b][key.lb])
            case .cca:
                value = try CCA.canonicalCorrelations(representations[key.a][key.la], representations[key.b][key.lb]).meanCorrelation
            case .svcca:
                value = try CCA.svcca(representations[key.a][key.la], representations[key.b][key.lb]).similarity
            case .pwcca:
                value = try CCA.pwcca(representations[key.a][key.la], representations[key.b][key.lb]).similarity
            }
            cache[key] = value
            return value
        }
    }
}

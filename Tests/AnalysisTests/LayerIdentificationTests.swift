import Analysis
import LinearAlgebra
import Testing

/// Layer identification (Kornblith et al. 2019, Table 2) on networks whose correspondence is
/// known by construction, checked against pair-by-pair calls of the measures.
@Suite struct LayerIdentificationTests {
    /// `count` networks of `depth` layers on the same samples. Layer ℓ of every network is a
    /// different random linear map of one shared signal Sℓ, plus a little noise; the Sℓ are
    /// independent, so only corresponding layers share information.
    static func scaled(_ m: Matrix<Double>, _ factor: Double) -> Matrix<Double> {
        var result = m
        result.scale(by: factor)
        return result
    }

    static func networks(count: Int, depth: Int, samples: Int = 120, width: Int = 6, seed: UInt64 = 1) -> [[Matrix<Double>]] {
        var generator = SeededGenerator(seed: seed)
        func gaussian(_ rows: Int, _ columns: Int) -> Matrix<Double> {
            Matrix(rows: rows, columns: columns, columnMajor: (0..<(rows * columns)).map { _ in generator.nextGaussian() })
        }
        let signals = (0..<depth).map { _ in gaussian(samples, width) }
        return (0..<count).map { _ in
            signals.map { signal in signal.multiplied(by: gaussian(width, width + 2)) + scaled(gaussian(samples, width + 2), 0.05) }
        }
    }

    @Test(arguments: LayerIdentification.Measure.allCases)
    func correspondingLayersAreFound(measure: LayerIdentification.Measure) throws {
        let result = try LayerIdentification.evaluate(Self.networks(count: 3, depth: 4), measure: measure)
        #expect(result.pairs.count == 6)
        #expect(result.accuracy == 1)
        #expect(result.layerAccuracy == [1, 1, 1, 1])
        #expect(result.withinOneLayer == 1)
    }

    @Test func choicesAreThoseOfPairByPairCalls() throws {
        // Layers that share their signal with a neighbour, so that choices are not trivial.
        var networks = Self.networks(count: 2, depth: 4, seed: 5)
        for n in networks.indices { networks[n][2] = networks[n][1] + Self.scaled(networks[n][2], 0.5) }
        for measure in LayerIdentification.Measure.allCases {
            let result = try LayerIdentification.evaluate(networks, measure: measure)
            for (p, pair) in result.pairs.enumerated() {
                for layer in 0..<4 {
                    let x = networks[pair[0]][layer]
                    let scores = try (0..<4).map { candidate -> Double in
                        let y = networks[pair[1]][candidate]
                        switch measure {
                        case .linearCKA: return try CKA.linear(x, y)
                        case .rbfCKA: return try CKA.rbf(x, y, threshold: 0.8)
                        case .cca: return try CCA.canonicalCorrelations(x, y).meanCorrelation
                        case .svcca: return try CCA.svcca(x, y).similarity
                        case .pwcca: return try CCA.pwcca(x, y).similarity
                        }
                    }
                    let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }
                    #expect(result.identified[p][layer] == best, "\(measure), pair \(pair), layer \(layer): \(scores)")
                }
            }
            let choices = result.identified.flatMap { $0.enumerated() }
            let exact = choices.filter { $0.offset == $0.element }.count
            let near = choices.filter { abs($0.offset - $0.element) <= 1 }.count
            #expect(result.accuracy == Double(exact) / Double(choices.count))
            #expect(result.withinOneLayer == Double(near) / Double(choices.count))
        }
    }

    @Test func badInputsAreRefused() throws {
        let two = Self.networks(count: 2, depth: 3)
        #expect(throws: AnalysisError.self) { try LayerIdentification.evaluate([two[0]], measure: .linearCKA) }
        #expect(throws: AnalysisError.self) { try LayerIdentification.evaluate([two[0], Array(two[1].prefix(2))], measure: .linearCKA) }
        // CCA needs more samples than features.
        let wide = Self.networks(count: 2, depth: 2, samples: 5, width: 6)
        #expect(throws: AnalysisError.self) { try LayerIdentification.evaluate(wide, measure: .cca) }
    }
}

import Foundation

/// The `manifest.json` that `make_data.py` writes beside the data: file names, sizes and
/// repetition counts. Both benchmark programs read only this and the files it names.
struct Manifest: Decodable {
    struct Floor: Decodable {
        var size: Int
    }

    struct CKAData: Decodable {
        var n: Int
        var d: Int
        var xF64: String
        var yF64: String
        var xF32: String
        var yF32: String
    }

    struct LayerSet: Decodable {
        var n: Int
        var widths: [Int]
        var layers: [String]
    }

    struct PCAData: Decodable {
        var n: Int
        var d: Int
        var x: String
        var components: Int?
        var oversampling: Int?
    }

    struct ProbeData: Decodable {
        var n: Int
        var d: Int
        var classes: Int
        var x: String
        var labels: String
        var folds: String
        var alphas: [Double]
        var c: [Double]
    }

    var mode: String
    var threads: Int
    /// Timed repetitions per task kind (`"default"` for the rest), after one warm-up call.
    var repeats: [String: Int]
    var floor: Floor
    var cka: CKAData
    var ckaMatrix: LayerSet
    var pcaExact: PCAData
    var pcaRandomized: PCAData
    /// How many leading explained variances the agreement check compares.
    var pcaCompareTop: Int
    var probe: ProbeData

    static func read(_ url: URL) throws -> Manifest {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Manifest.self, from: Data(contentsOf: url))
    }
}

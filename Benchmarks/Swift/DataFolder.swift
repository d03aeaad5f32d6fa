import Foundation
import RepProbeKit

/// The folder `make_data.py` wrote: `manifest.json` and one `.npy` file per array
/// (samples × features, C order; labels and folds as int64).
struct DataFolder {
    let url: URL

    func manifest() throws -> Manifest {
        try Manifest.read(url.appendingPathComponent("manifest.json"))
    }

    func matrix(_ name: String) throws -> Matrix<Double> {
        let array = try read(name)
        let (rows, columns) = try matrixShape(array, name)
        return Matrix(rows: rows, columns: columns, rowMajor: array.doubles())
    }

    func floatMatrix(_ name: String) throws -> Matrix<Float> {
        let array = try read(name)
        let (rows, columns) = try matrixShape(array, name)
        return Matrix(rows: rows, columns: columns, rowMajor: array.floats())
    }

    func integers(_ name: String) throws -> [Int] {
        guard let values = try read(name).int64s() else {
            throw BenchmarkDataError(description: "\(name): expected integers")
        }
        return values.map { Int($0) }
    }

    private func read(_ name: String) throws -> NumericArray {
        try NPY.read(url.appendingPathComponent(name))
    }

    private func matrixShape(_ array: NumericArray, _ name: String) throws -> (Int, Int) {
        guard array.shape.count == 2 else {
            throw BenchmarkDataError(description: "\(name): expected a matrix, got shape \(array.shape)")
        }
        return (array.shape[0], array.shape[1])
    }
}

struct BenchmarkDataError: Error, CustomStringConvertible {
    var description: String
}

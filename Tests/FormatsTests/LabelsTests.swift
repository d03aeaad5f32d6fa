import Activations
import Foundation
import Formats
import Testing

@Suite("Labels")
struct LabelsTests {
    static func labelsError(_ url: URL, name: String? = nil) -> ActivationError? {
        thrownError(ActivationError.self) { try Labels.load(url, name: name) }
    }

    @Test("reads an int64 vector written by NumPy")
    func int64Vector() throws {
        #expect(try Labels.load(Fixtures.formats("i64_vector.npy")) == [3, -1, 7, 0, 2])
    }

    @Test("reads an N×1 int32 array and integral floats")
    func columnAndFloats() throws {
        try withTemporaryDirectory { folder in
            let column = folder.appendingPathComponent("column.npy")
            try NPY.write(NumericArray(shape: [3, 1], int32: [2, 0, 1]), to: column)
            #expect(try Labels.load(column) == [2, 0, 1])
            let floats = folder.appendingPathComponent("floats.npy")
            try NPY.write(NumericArray(shape: [3], float32: [1, 0, -4]), to: floats)
            #expect(try Labels.load(floats) == [1, 0, -4])
        }
    }

    @Test("refuses non-integral values", arguments: [0.5, Double.nan, .infinity, 1e30])
    func nonIntegral(value: Double) throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("y.npy")
            try NPY.write(NumericArray(shape: [3], float64: [1, value, 2]), to: url)
            let error = Self.labelsError(url)
            guard case let .nonIntegralLabel(file, name, index, found)? = error else {
                Issue.record("expected nonIntegralLabel, got \(String(describing: error))")
                return
            }
            #expect(file == url.path && name == "y" && index == 1)
            #expect(found.isNaN == value.isNaN && (value.isNaN || found == value))
            #expect(error?.description.contains("y.npy") == true)
        }
    }

    @Test("refuses arrays that are not vectors")
    func wrongShape() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("y.npy")
            try NPY.write(NumericArray(shape: [2, 2], int64: [0, 1, 1, 0]), to: url)
            let error = Self.labelsError(url)
            #expect(error == .labelShape(file: url.path, name: "y", shape: [2, 2]))
            #expect(error?.description.contains("y.npy") == true)
        }
    }

    @Test("needs a name when the file holds several arrays")
    func severalArrays() throws {
        let url = Fixtures.formats("stored.npz")
        let error = Self.labelsError(url)
        #expect(error == .ambiguousLabels(file: url.path, available: ["first", "second", "third"]))
        #expect(error?.description.contains("stored.npz") == true)
        #expect(try Labels.load(url, name: "second") == [0, 1, 2])
        #expect(Self.labelsError(url, name: "labels") == .unknownName(file: url.path, name: "labels", available: ["first", "second", "third"]))
    }
}

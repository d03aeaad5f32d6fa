import Foundation
import Formats
import LinearAlgebra
import Analysis
import Testing

/// Reference data made by the scripts under `Tests/Fixtures/` (NumPy, SciPy, scikit-learn).
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func matrix(_ name: String, folder: String = "analysis") throws -> Matrix<Double> {
        let array = try NPY.read(root.appendingPathComponent(folder).appendingPathComponent(name))
        guard array.shape.count == 2 else { throw FixtureError("\(name) is not 2-D") }
        return Matrix(rows: array.shape[0], columns: array.shape[1], rowMajor: array.doubles())
    }

    static func integers(_ name: String) throws -> [Int] {
        let array = try NPY.read(root.appendingPathComponent("analysis").appendingPathComponent(name))
        return array.doubles().map { Int($0) }
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent(path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FixtureError("\(path) is not a JSON object")
        }
        return object
    }

    /// `expected.json` of the analysis fixtures.
    nonisolated(unsafe) static let expected: [String: Any] = (try? json("analysis/expected.json")) ?? [:]

    /// A value at a key path such as `["cka", "X_Y", "linear"]`.
    static func value(_ keys: String...) throws -> Any {
        var node: Any = expected
        for key in keys {
            guard let dictionary = node as? [String: Any], let next = dictionary[key] else {
                throw FixtureError("missing key \(keys.joined(separator: "."))")
            }
            node = next
        }
        return node
    }

    static func number(_ keys: String...) throws -> Double {
        var node: Any = expected
        for key in keys { node = (node as? [String: Any])?[key] as Any }
        guard let value = node as? Double else { throw FixtureError("no number at \(keys.joined(separator: "."))") }
        return value
    }

    static func numbers(_ keys: String...) throws -> [Double] {
        var node: Any = expected
        for key in keys { node = (node as? [String: Any])?[key] as Any }
        guard let value = node as? [Double] else { throw FixtureError("no number list at \(keys.joined(separator: "."))") }
        return value
    }

    /// A list of rows at a key path.
    static func rows(_ keys: String...) throws -> [[Double]] {
        var node: Any = expected
        for key in keys { node = (node as? [String: Any])?[key] as Any }
        guard let value = node as? [[Double]] else { throw FixtureError("no matrix at \(keys.joined(separator: "."))") }
        return value
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Checks shape first, then every element within `atol + rtol·|expected|`.
func expectClose(
    _ actual: [Double], _ expected: [Double], rtol: Double = 1e-8, atol: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "lengths differ: \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
        Issue.record("element \(i): \(a) vs expected \(e) (|Δ| = \(abs(a - e)))", sourceLocation: sourceLocation)
        return
    }
}

func expectClose(
    _ actual: Double, _ expected: Double, rtol: Double = 1e-8, atol: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectClose([actual], [expected], rtol: rtol, atol: atol, sourceLocation: sourceLocation)
}

func expectClose(
    _ actual: Matrix<Double>, _ expectedRows: [[Double]], rtol: Double = 1e-8, atol: Double = 1e-12,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let columns = expectedRows.first?.count ?? 0
    #expect(actual.rows == expectedRows.count && actual.columns == columns,
            "shape \(actual.rows)×\(actual.columns) vs expected \(expectedRows.count)×\(columns)", sourceLocation: sourceLocation)
    guard actual.rows == expectedRows.count && actual.columns == columns else { return }
    expectClose(actual.rowMajorElements, expectedRows.flatMap { $0 }, rtol: rtol, atol: atol, sourceLocation: sourceLocation)
}

/// Deterministic Gaussian test matrices.
func gaussianMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<Double> {
    var generator = SeededGenerator(seed: seed)
    return Matrix(rows: rows, columns: columns, columnMajor: (0..<(rows * columns)).map { _ in generator.nextGaussian() })
}

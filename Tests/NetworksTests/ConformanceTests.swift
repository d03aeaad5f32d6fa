import Foundation
import Testing
@testable import Networks

/// Runs ONNX's own backend node tests (generated from the `onnx` package by
/// scripts/generate-onnx-conformance.sh) for every operator the runtime supports, prints a
/// pass/fail table per operator, and fails on any case that is not a documented known
/// limitation (Tests/Fixtures/onnx-conformance/known-limitations.txt).
@Suite struct ConformanceTests {
    static let limitationsFile = GeneratedData.packageRoot.appendingPathComponent("Tests/Fixtures/onnx-conformance/known-limitations.txt")

    /// The folder of generated cases: `$REPPROBE_ONNX_CONFORMANCE` or `.build/onnx-conformance`.
    static var casesFolder: URL { GeneratedData.folder(environment: "REPPROBE_ONNX_CONFORMANCE", default: "onnx-conformance") }

    /// Generates the cases if they are not there yet.
    static func ensureCases() throws -> URL {
        let folder = casesFolder
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("node").path) { return folder }
        let script = GeneratedData.packageRoot.appendingPathComponent("scripts/generate-onnx-conformance.sh")
        try GeneratedData.run(["/bin/bash", script.path, folder.path])
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("node").path) else {
            throw KernelError("generating the ONNX conformance cases failed (scripts/generate-onnx-conformance.sh \(folder.path))")
        }
        return folder
    }

    struct Outcome {
        var passed: [String] = []
        var failed: [(name: String, reason: String)] = []
    }

    @Test func backendNodeTestsOfSupportedOperators() throws {
        let folder = try Self.ensureCases().appendingPathComponent("node")
        let limitations = try Self.knownLimitations()
        let cases = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("test_") }.sorted()
        let supported = Set(OperatorRegistry.supported)
        var graphs: [String: Graph] = [:]
        for name in cases {
            graphs[name] = try? ONNXImporter.load(folder.appendingPathComponent(name).appendingPathComponent("model.onnx"))
        }
        var outcomes: [String: Outcome] = [:]
        var unexpected: [String] = []
        var stale: [String] = []
        for name in cases {
            guard let graph = graphs[name] else { continue }
            let caseFolder = folder.appendingPathComponent(name)
            let modelURL = caseFolder.appendingPathComponent("model.onnx")
            // A case tests the operator of its single node; an `_expanded` case (the operator's
            // function body as a graph of other operators) tests the operator of its base case.
            var op = graph.nodes.count == 1 ? graph.nodes[0].opType : graph.nodes.first?.opType ?? "?"
            if let range = name.range(of: "_expanded") {
                guard let base = graphs[String(name[..<range.lowerBound])], base.nodes.count == 1 else { continue }
                op = base.nodes[0].opType
            }
            guard supported.contains(op) else { continue }
            let result = Self.runCase(caseFolder, graph: graph, file: modelURL.path)
            if let reason = result {
                outcomes[op, default: Outcome()].failed.append((name, reason))
                if limitations[name] == nil { unexpected.append("\(name): \(reason.prefix(240))") }
            } else {
                outcomes[op, default: Outcome()].passed.append(name)
                if limitations[name] != nil { stale.append(name) }
            }
        }
        print(Self.table(outcomes, limitations: limitations))
        #expect(!outcomes.isEmpty, "no conformance case ran")
        #expect(unexpected.isEmpty, "cases failing that are not known limitations:\n\(unexpected.joined(separator: "\n"))")
        #expect(stale.isEmpty, "cases listed as known limitations that now pass (remove them): \(stale.joined(separator: ", "))")
    }

    /// Runs one case; `nil` if every output matches, else the reason.
    static func runCase(_ folder: URL, graph: Graph, file: String) -> String? {
        do {
            let network = try Network(graph: graph, file: file)
            let dataSets = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasPrefix("test_data_set_") }.sorted()
            guard !dataSets.isEmpty else { return "no test data" }
            let tolerance = Self.tolerance(folder)
            for dataSet in dataSets {
                let dataFolder = folder.appendingPathComponent(dataSet)
                let inputs = try tensors(in: dataFolder, prefix: "input_")
                let expected = try tensors(in: dataFolder, prefix: "output_")
                var feed: [String: Tensor] = [:]
                for (input, tensor) in zip(graph.inputs, inputs) { feed[input.name] = tensor }
                let results = try network.run(feed)
                for (name, reference) in zip(graph.outputs, expected) {
                    guard let actual = results[name] else { return "output '\(name)' missing" }
                    if let mismatch = compare(actual, reference, tolerance: tolerance) { return "\(dataSet) output '\(name)': \(mismatch)" }
                }
            }
            return nil
        } catch let error as LocalizedError {
            return error.errorDescription.map { $0.replacingOccurrences(of: file + ": ", with: "") } ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    static func tensors(in folder: URL, prefix: String) throws -> [Tensor] {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
            .sorted { Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0 < Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0 }
        return try files.map { file in
            let url = folder.appendingPathComponent(file)
            return try ONNXImporter.decodeTensor(Data(contentsOf: url), file: url.path).tensor
        }
    }

    /// The tolerance ONNX's own runner applies to the case: `tolerance.json` beside the model
    /// (written by the generator when the case sets its own), else rtol 1e-3, atol 1e-7.
    static func tolerance(_ folder: URL) -> (rtol: Double, atol: Double) {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("tolerance.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double],
              let rtol = object["rtol"], let atol = object["atol"] else { return (1e-3, 1e-7) }
        return (rtol, atol)
    }

    /// Same type and shape, and values within `|a − b| ≤ atol + rtol·|b|` (NaN matching NaN).
    static func compare(_ actual: Tensor, _ expected: Tensor, tolerance: (rtol: Double, atol: Double)) -> String? {
        guard actual.dataType == expected.dataType else { return "type \(actual.dataType), expected \(expected.dataType)" }
        guard actual.shape == expected.shape else { return "shape \(actual.shape), expected \(expected.shape)" }
        func close(_ a: [Double], _ b: [Double]) -> String? {
            for (index, (x, y)) in zip(a, b).enumerated() {
                if x.isNaN && y.isNaN { continue }
                if x == y { continue }
                if !(abs(x - y) <= tolerance.atol + tolerance.rtol * abs(y)) { return "element \(index) is \(x), expected \(y)" }
            }
            return nil
        }
        switch (actual.storage, expected.storage) {
        case let (.float32(a), .float32(b)): return close(a.map(Double.init), b.map(Double.init))
        case let (.float64(a), .float64(b)): return close(a, b)
        case let (.int64(a), .int64(b)): return a == b ? nil : "integers differ"
        case let (.int32(a), .int32(b)): return a == b ? nil : "integers differ"
        case let (.int8(a), .int8(b)): return a == b ? nil : "integers differ"
        case let (.uint8(a), .uint8(b)): return a == b ? nil : "integers differ"
        case let (.bool(a), .bool(b)): return a == b ? nil : "booleans differ"
        default: return "type mismatch"
        }
    }

    static func knownLimitations() throws -> [String: String] {
        guard let text = try? String(contentsOf: limitationsFile, encoding: .utf8) else { return [:] }
        var table: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            table[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return table
    }

    static func table(_ outcomes: [String: Outcome], limitations: [String: String]) -> String {
        var lines = ["ONNX backend node tests by operator", "operator                  passed  failed  known", String(repeating: "-", count: 48)]
        var totals = (0, 0, 0)
        for op in outcomes.keys.sorted() {
            let outcome = outcomes[op] ?? Outcome()
            let known = outcome.failed.filter { limitations[$0.name] != nil }.count
            totals.0 += outcome.passed.count
            totals.1 += outcome.failed.count
            totals.2 += known
            lines.append(op.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%6d  %6d  %5d", outcome.passed.count, outcome.failed.count, known))
        }
        lines.append(String(repeating: "-", count: 48))
        lines.append("total".padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%6d  %6d  %5d", totals.0, totals.1, totals.2))
        return lines.joined(separator: "\n")
    }
}

import Foundation
import Testing

/// ARCHITECTURE.md's module graph is the one Package.swift declares.
@Suite struct ArchitectureDocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Left out of the picture: the umbrella and the C shims.
    static let omitted: Set<String> = ["RepProbeKit", "CLAPACK", "CAllocator", "CImageCodecs", "CMPI"]

    struct Edge: Hashable, CustomStringConvertible {
        var from: String, to: String
        var description: String { "\(from) --> \(to)" }
    }

    /// Library targets and their dependencies on other targets, from the manifest's text.
    static func declaredEdges() throws -> Set<Edge> {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var edges = Set<Edge>()
        let target = try Regex(#"\.target\(\s*name:\s*"(\w+)",\s*dependencies:\s*\[([^\]]*)\]"#)
        let product = try Regex(#"\.product\([^)]*\)"#)
        let quoted = try Regex(#""(\w+)""#)
        for match in manifest.matches(of: target) {
            guard let name = match.output[1].substring.map(String.init), let list = match.output[2].substring,
                  !omitted.contains(name) else { continue }
            for dependency in String(list).replacing(product, with: "").matches(of: quoted) {
                guard let to = dependency.output[1].substring.map(String.init), !omitted.contains(to) else { continue }
                edges.insert(Edge(from: name, to: to))
            }
        }
        return edges
    }

    static func drawnEdges() throws -> Set<Edge> {
        let document = try String(contentsOf: root.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
        let arrow = try Regex(#"^\s*(\w+) --> (\w+)\s*$"#).anchorsMatchLineEndings()
        return Set(document.matches(of: arrow).compactMap { match in
            guard let from = match.output[1].substring, let to = match.output[2].substring else { return nil }
            return Edge(from: String(from), to: String(to))
        })
    }

    @Test func theModuleGraphMatchesThePackage() throws {
        let declared = try Self.declaredEdges(), drawn = try Self.drawnEdges()
        #expect(declared.count > 20)
        #expect(declared.subtracting(drawn).isEmpty, "missing from ARCHITECTURE.md: \(declared.subtracting(drawn))")
        #expect(drawn.subtracting(declared).isEmpty, "not in Package.swift: \(drawn.subtracting(declared))")
    }
}

import Foundation
@testable import Networks

/// Data that tests generate or fetch once into `.build` (never committed), by the
/// repository's scripts.
enum GeneratedData {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$variable` if set, else `.build/name` in the package.
    static func folder(environment variable: String, default name: String) -> URL {
        if let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent(".build/\(name)")
    }

    /// Runs a command (the first element an absolute executable path) and throws with the
    /// command line if it fails.
    static func run(_ command: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NetworkError.invalidModel(file: command.last ?? "", problem: "setting up test data failed: \(command.joined(separator: " "))")
        }
    }
}

import Foundation
import Formats
import Testing

/// Files under `Tests/Fixtures/formats`, made by `make_format_fixtures.py`, and under
/// `Tests/Fixtures/pytorch`, made by `make_pytorch_fixtures.py`.
enum Fixtures {
    /// The repository root: this file is `Tests/FormatsTests/TestSupport.swift`.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func formats(_ name: String) -> URL {
        root.appendingPathComponent("Tests/Fixtures/formats").appendingPathComponent(name)
    }

    static func pytorch(_ name: String) -> URL {
        root.appendingPathComponent("Tests/Fixtures/pytorch").appendingPathComponent(name)
    }
}

/// Runs `body` with a fresh empty folder that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-formats-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder)
}

/// Writes `bytes` to `name` in `folder` and returns its URL.
@discardableResult
func writeFile(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// The files in `folder`, hidden ones included, sorted.
func contents(of folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
}

/// A hand-made `.npy` file: magic, version, header length (`declaredLength` or the real
/// one), `header`, then `data`.
func npyBytes(_ header: String, data: [UInt8] = [], version: UInt8 = 1, declaredLength: Int? = nil) -> [UInt8] {
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? headerBytes.count
    bytes += version == 1
        ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
        : (0..<4).map { UInt8(length >> (8 * $0) & 0xFF) }
    return bytes + headerBytes + data
}

/// A hand-made safetensors file: length (`declaredLength` or the real one), JSON, data.
func safetensorsBytes(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    let length = declaredLength ?? UInt64(headerBytes.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) } + headerBytes + data
}

/// Little-endian bytes of some floats.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * UInt32($0))) } }
}

/// The error `body` throws, which must be of type `E`; records an issue otherwise.
func thrownError<E: Error, T>(
    _: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T
) -> E? {
    do {
        _ = try body()
        Issue.record("expected \(E.self) to be thrown", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The ``FormatError`` `body` throws.
func formatError<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) -> FormatError? {
    thrownError(FormatError.self, sourceLocation: sourceLocation, body)
}

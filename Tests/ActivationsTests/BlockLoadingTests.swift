@testable import Activations
import Formats
import Foundation
import LinearAlgebra
import Testing

/// Files whose rows can be read in place load a block at a time into their matrices: the
/// same matrices, and the same errors, as reading them whole.
@Suite struct BlockLoadingTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/formats")

    /// The matrix of each array of `url` read whole, as files that cannot be read by rows are.
    static func wholeRead(_ url: URL, reduction: Reduction = .flatten) throws -> [Matrix<Double>] {
        try ArrayFile.read(url).map { try ActivationSet.matrix(from: $0.array, name: $0.name, reduction: reduction, file: url.path) }
    }

    @Test(arguments: ["f32_c.npy", "f64_fortran.npy", "f8_big_endian.npy", "v2.npy", "v3.npy"])
    func filesLoadAsReadWhole(name: String) throws {
        let url = Self.fixtures.appendingPathComponent(name)
        let set = try ActivationSet.load(url)
        #expect(set.layers.map(\.matrix) == (try Self.wholeRead(url).filter { $0.rows == set.sampleCount }), "\(name)")
    }

    @Test func blocksOfEveryReductionFillTheMatrix() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-blocks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var values: [Float] = (0..<(37 * 4 * 5)).map { (k: Int) -> Float in Float((k * 7919) % 113) / 7 - 8 }
        let url = folder.appendingPathComponent("acts.safetensors")
        try ArrayFile.write([("conv", NumericArray(shape: [37, 4, 5], float32: values)), ("fc", NumericArray(shape: [37, 3], float32: Array(values.prefix(111))))],
                            to: url, format: .safetensors)
        for reduction in [Reduction.flatten, .mean, .max, .project(dimensions: 3, seed: 2)] {
            let stream = try ActivationStream(url, reduction: reduction)
            let whole = try Self.wholeRead(url, reduction: reduction)
            // Blocks of a few samples, one sample, and all of them.
            for blockBytes in [200, 1, 1 << 20] {
                #expect(try stream.matrix(layer: 0, blockBytes: blockBytes) == whole[0], "\(reduction) in blocks of \(blockBytes) bytes")
            }
            #expect(try ActivationSet.load(url, reduction: reduction).layers.map(\.matrix) == whole, "\(reduction)")
        }
        // Layers come in the order asked for, a layer named twice once, whichever way the file is read.
        let npz = folder.appendingPathComponent("acts.npz")
        try ArrayFile.write(try ArrayFile.read(url), to: npz, format: .npz)
        for file in [url, npz] {
            #expect(try ActivationSet.load(file, layers: ["fc", "conv", "fc"]).layers.map(\.name) == ["fc", "conv"], "\(file.lastPathComponent)")
        }
        // A NaN is reported where reading the file whole reports it.
        values[23 * 20 + 7] = .nan
        let broken = folder.appendingPathComponent("broken.npy")
        try NPY.write(NumericArray(shape: [37, 4, 5], float32: values), to: broken)
        var whole = "", blocks = ""
        do { _ = try Self.wholeRead(broken) } catch { whole = "\(error)" }
        do { _ = try ActivationSet.load(broken) } catch { blocks = "\(error)" }
        #expect(!whole.isEmpty && blocks == whole, "\(blocks)")
    }

    /// A `.npy` whose rows are read in place is refused, naming the file, when it is cut
    /// short, longer than its header says, or its header claims rows beyond any file.
    @Test func damagedNPYFilesAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("repprobe-hostile-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.npy")
        try NPY.write(NumericArray(shape: [100, 8], float32: [Float](repeating: 1, count: 800)), to: good)
        let bytes = try Data(contentsOf: good)
        let header = String(decoding: bytes.prefix(128), as: UTF8.self)
        let lying = Data(header.replacingOccurrences(of: "(100, 8)", with: "(999999999999, 8)").utf8) + bytes.dropFirst(128)
        let cases: [(String, Data)] = [("truncated.npy", bytes.dropLast(50)), ("trailing.npy", bytes + Data(count: 32)), ("lying.npy", lying)]
        for (name, contents) in cases {
            let url = folder.appendingPathComponent(name)
            try contents.write(to: url)
            for read in [{ _ = try ActivationSet.load(url) }, { _ = try ActivationStream(url) }] as [() throws -> Void] {
                #expect(throws: (any Error).self, "\(name)") { try read() }
                do { try read() } catch { #expect("\(error)".contains(name), "\(name): \(error)") }
            }
        }
    }
}

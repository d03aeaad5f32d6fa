import Foundation
import RepProbeKit
import Testing
import ZIPFoundation

/// Every file of `Tests/Fixtures/hostile/` (made by its `make_hostile.py`), and two bombs made
/// here, given to the command a user would give it: repprobe exits with an error that names
/// the file and the problem, does not crash, stays within 1.5 GB of address space, and
/// creates or deletes no file.
@Suite(.serialized) struct HostileFileTests {
    let cli = CLITests()
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile")
    static let mlp = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/networks/mlp.onnx")
    /// The address space a run may take: a third of what inflating a bomb whole would need.
    static let addressSpace = 1_500_000_000
    /// The bound, unless a sanitizer (scripts/sanitize.sh) reserves terabytes of address
    /// space for its shadow memory.
    static var launcher: [String] {
        let environment = ProcessInfo.processInfo.environment
        let sanitized = environment["ASAN_OPTIONS"] != nil || environment["TSAN_OPTIONS"] != nil
        return sanitized ? [] : ["prlimit", "--as=\(addressSpace)"]
    }

    /// The files in `folder` and below, with their sizes.
    static func snapshot(_ folder: URL) -> [String: Int] {
        var files: [String: Int] = [:]
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey])
        while let url = enumerator?.nextObject() as? URL {
            files[url.path] = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? -1
        }
        return files
    }

    /// Runs `repprobe arguments` (with `FILE` standing for `file`, copied into a fresh
    /// folder that is also the working folder's stand-in) and checks the outcome.
    func expectRefused(_ file: URL, _ arguments: [String], mentioning words: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let copy = work.appendingPathComponent(file.lastPathComponent)
        try FileManager.default.copyItem(at: file, to: copy)
        let before = Self.snapshot(work)
        let arguments = arguments.map { $0 == "FILE" ? copy.path : $0.replacingOccurrences(of: "WORK", with: work.path) }
        let result = try cli.run(arguments, under: Self.launcher)
        let context = "repprobe \(arguments.joined(separator: " ")): status \(result.status), \(result.stderr)"
        #expect(!result.signalled && result.status != 0, "\(context)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(copy.path), "the message does not name the file: \(context)", sourceLocation: sourceLocation)
        for word in words {
            #expect(result.stderr.contains(word), "the message does not say '\(word)': \(context)", sourceLocation: sourceLocation)
        }
        #expect(Self.snapshot(work) == before, "files changed: \(context)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        ("tile.onnx", ["layers", "FILE"], ["'/huge/Tile'", "4 TiB", "elements any tensor may have"]),
        ("two-writers.onnx", ["layers", "FILE"], ["'/second'", "single static assignment"]),
        ("opset-999.onnx", ["layers", "FILE"], ["operator set 999"]),
        ("deep.pt", ["layers", "FILE", "--graph", mlp.path], ["data.pkl", "nest more than 100 levels", "REPPROBE_LIMITS=pickle-depth=200 raises it"]),
        ("flipped-byte.npz", ["cka", "FILE"], ["layer.npy", "CRC-32", "damaged"]),
        ("huge-header.npy", ["cka", "FILE"], ["header declares 2000000000 bytes", "REPPROBE_LIMITS=npy-header=2G raises it"]),
        ("short.npy", ["cka", "FILE"], ["truncated"]),
        ("constant.npy", ["pca", "FILE"], ["constant", "zero variance"]),
        ("nan.npy", ["cka", "FILE", "FILE"], ["nan", "[7, 2]"]),
        ("escape.yaml", ["stimuli", "FILE", "--shape", "1,8,8", "-o", "WORK/out.npy"], ["leads outside the probe set's folder"]),
        ("lying-header.safetensors", ["cka", "FILE"], ["unknown format", "not .npy, .npz, .safetensors"]),
    ])
    func hostileFile(_ name: String, _ arguments: [String], _ words: [String]) throws {
        try expectRefused(Self.hostile.appendingPathComponent(name), arguments, mentioning: words)
    }

    /// A real file beyond a limit is read once the limit is raised as its error says.
    @Test func theRaiseTheErrorSuggestsReadsTheFile() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        // A valid 40 × 6 float64 array whose header is padded to 2 MiB.
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (40, 6), }"
        header += String(repeating: " ", count: (2 << 20) - header.utf8.count - 1) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
        bytes += withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian, Array.init) + Array(header.utf8)
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<240 { bytes += withUnsafeBytes(of: generator.nextGaussian().bitPattern.littleEndian, Array.init) }
        let file = work.appendingPathComponent("padded.npy")
        try Data(bytes).write(to: file)

        let refused = try cli.run(["pca", file.path])
        #expect(refused.status != 0 && refused.stderr.contains(file.path), "\(refused.stderr)")
        let suggestion = try #require(refused.stderr.firstMatch(of: /REPPROBE_LIMITS=(\S+) raises it/)?.1, "\(refused.stderr)")
        #expect(suggestion == "npy-header=2M")
        let read = try cli.run(["pca", file.path], environment: ["REPPROBE_LIMITS": String(suggestion)])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("padded"), "\(read.stdout)")

        let listed = try cli.run(["limits"], environment: ["REPPROBE_LIMITS": "npy-header=4M"])
        #expect(listed.stdout.contains("npy-header          4 MiB     a .npy header (raised from 1 MiB)"), "\(listed.stdout)")
        let bad = try cli.run(["limits"], environment: ["REPPROBE_LIMITS": "npy-heder=4M"])
        #expect(bad.status != 0 && bad.stderr.contains("'npy-heder=4M' is not NAME=VALUE"), "\(bad.stderr)")
    }

    @Test func aZipBombIsRefusedOnItsHeaderWithinBoundedMemory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bomb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        // A (4,) float32 header, then 2 GiB of zeros: a few megabytes deflated.
        let header = Array(try NPY.encode(NumericArray(shape: [4], elementType: .float32, storage: .float32([0, 0, 0, 0]))).prefix(128))
        let zeros = 2 << 30
        let bomb = folder.appendingPathComponent("bomb.npz")
        let archive = try Archive(url: bomb, accessMode: .create)
        try archive.addEntry(with: "layer.npy", type: .file, uncompressedSize: Int64(header.count + zeros), compressionMethod: .deflate,
                             bufferSize: 1 << 20) { position, size in
            var chunk = Data(count: size)
            let start = Int(position)
            for index in start..<max(start, min(start + size, header.count)) { chunk[index - start] = header[index] }
            return chunk
        }
        try expectRefused(bomb, ["cka", "FILE"], mentioning: ["layer.npy", "the header describes 16 data bytes but 2147483648 follow it"])
    }

    @Test func tenThousandLayersAreRefusedSayingWhatFits() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("many-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let many = folder.appendingPathComponent("many.npz")
        let members = (0..<10_000).map { (name: "l\($0)", array: NumericArray(shape: [3, 2], float64: [1, 2, 3, 4, 5, Double($0)])) }
        try NPZ.write(members, to: many)
        try expectRefused(many, ["cka", "FILE", "--memory", "64M"], mentioning: ["--layers"])
    }
}

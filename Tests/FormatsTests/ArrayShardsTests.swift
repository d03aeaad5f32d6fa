import Activations
import Foundation
import Testing
@testable import Formats

/// Arrays split by rows over safetensors shards with an index read back as one file, in
/// place and in any block of rows; damaged sets are refused by file.
@Suite struct ArrayShardsTests {
    /// `rows` rows of three arrays: ids, a float32 matrix and a float64 array of rank 3.
    static func arrays(rows: Int) -> [(entry: ArrayShards.Entry, array: NumericArray)] {
        let ids = (0..<rows).map { Int64($0 * 7 + 3) }
        let a = (0..<(rows * 5)).map { Float(sin(Double($0) * 0.37)) }
        let b = (0..<(rows * 6)).map { cos(Double($0) * 0.11) * 1e3 }
        return [
            (.init(name: "sample_ids", elementType: .int64, rowShape: []), NumericArray(shape: [rows], int64: ids)),
            (.init(name: "layer.a", elementType: .float32, rowShape: [5]), NumericArray(shape: [rows, 5], float32: a)),
            (.init(name: "layer/b", elementType: .float64, rowShape: [2, 3]), NumericArray(shape: [rows, 2, 3], float64: b)),
        ]
    }

    /// Writes `arrays` in blocks of `block` rows, array by array within each block, as a
    /// capture does.
    static func write(_ arrays: [(entry: ArrayShards.Entry, array: NumericArray)], to url: URL, rows: Int, maxShardBytes: Int,
                      block: Int) throws -> ArrayShardWriter {
        let writer = try ArrayShardWriter(url, entries: arrays.map(\.entry), rows: rows, maxShardBytes: maxShardBytes)
        for start in stride(from: 0, to: rows, by: block) {
            let range = start..<min(rows, start + block)
            for (k, item) in arrays.enumerated() {
                let bytes = item.entry.rowBytes
                let all = try ElementCoding.encode(item.array, name: item.entry.name, file: "test")
                all.withUnsafeBytes { raw in
                    try? writer.write(array: k, rows: range, bytes: UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound * bytes)..<(range.upperBound * bytes)]))
                }
            }
        }
        return writer
    }

    @Test func shardsReadBackAsOneFileInAnyBlockOfRows() throws {
        try withTemporaryDirectory { folder in
            let rows = 103
            let arrays = Self.arrays(rows: rows)
            let url = folder.appendingPathComponent("acts.safetensors")
            // 8 + 20 + 48 = 76 bytes a row; shards of at most 1 kB hold 13 rows: 8 shards.
            let writer = try Self.write(arrays, to: url, rows: rows, maxShardBytes: 1000, block: 10)
            #expect(try contents(of: folder).allSatisfy { $0.hasPrefix(".") }, "nothing in place before finishing")
            try writer.finish()
            #expect(try contents(of: folder) == ["acts-00001-of-00008.safetensors", "acts-00002-of-00008.safetensors", "acts-00003-of-00008.safetensors",
                                                 "acts-00004-of-00008.safetensors", "acts-00005-of-00008.safetensors", "acts-00006-of-00008.safetensors",
                                                 "acts-00007-of-00008.safetensors", "acts-00008-of-00008.safetensors", "acts.safetensors.index.json"])
            // Each shard is plain safetensors with its rows of every array.
            let third = try Safetensors.read(folder.appendingPathComponent("acts-00003-of-00008.safetensors"))
            #expect(third.tensors.map(\.array.shape) == [[13], [13, 5], [13, 2, 3]])
            #expect(third.tensors[0].array.int64s() == (25..<38).map { Int64($0 * 7 + 3) })

            // Named by the shards' common name or by the index, the set is one file.
            for name in ["acts.safetensors", "acts.safetensors.index.json"] {
                let read = try ArrayFile.read(folder.appendingPathComponent(name))
                #expect(read.map(\.name) == arrays.map(\.entry.name))
                #expect(zip(read, arrays).allSatisfy { $0.array == $1.array })
                #expect(try ArrayFile.names(folder.appendingPathComponent(name)) == arrays.map(\.entry.name))
            }
            let set = try ArrayShards(index: try #require(ArrayShards.index(for: url)))
            let block = try set.rows(11..<40, of: "layer/b")
            #expect(block.shape == [29, 2, 3] && block.doubles() == Array(arrays[2].array.doubles()[(11 * 6)..<(40 * 6)]))
            #expect(throws: FormatError.self) { try set.rows(0..<1, of: "missing") }
            let activations = try ActivationSet.load(url, reduction: .mean)
            #expect(activations.layerNames == ["layer.a", "layer/b"] && activations.sampleCount == rows)

            // Written again smaller, the set is one file and the shards are gone.
            try Self.write(Self.arrays(rows: 4), to: url, rows: 4, maxShardBytes: 1000, block: 3).finish()
            #expect(try contents(of: folder) == ["acts.safetensors"])
            #expect(try ArrayFile.read(url)[0].array.int64s() == [3, 10, 17, 24])
        }
    }

    @Test func unfinishedOrIncompleteWritesLeaveNothing() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("acts.safetensors")
            do {
                _ = try Self.write(Self.arrays(rows: 50), to: url, rows: 50, maxShardBytes: 1000, block: 7)
            }
            #expect(try contents(of: folder).isEmpty)
            let partial = try ArrayShardWriter(url, entries: Self.arrays(rows: 50).map(\.entry), rows: 50, maxShardBytes: 1000)
            #expect(throws: FormatError.self) { try partial.finish() }
            #expect(try contents(of: folder).isEmpty)
        }
    }

    @Test func damagedSetsAreRefusedByFile() throws {
        try withTemporaryDirectory { root in
            let folder = root.appendingPathComponent("set")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let url = folder.appendingPathComponent("acts.safetensors")
            try Self.write(Self.arrays(rows: 40), to: url, rows: 40, maxShardBytes: 1000, block: 40).finish()
            let index = URL(fileURLWithPath: url.path + ".index.json")
            let text = try String(contentsOf: index, encoding: .utf8)
            func refusal(_ edit: (String) -> String, removing: String? = nil) throws -> String {
                let copy = root.appendingPathComponent("copy-\(UUID().uuidString)")
                try FileManager.default.copyItem(at: folder, to: copy)
                defer { try? FileManager.default.removeItem(at: copy) }
                try Data(edit(text).utf8).write(to: copy.appendingPathComponent("acts.safetensors.index.json"))
                if let removing { try FileManager.default.removeItem(at: copy.appendingPathComponent(removing)) }
                do {
                    _ = try ArrayFile.read(copy.appendingPathComponent("acts.safetensors"))
                    return "read"
                } catch {
                    return "\(error)"
                }
            }
            #expect(try refusal({ $0 }, removing: "acts-00002-of-00004.safetensors").contains("acts-00002-of-00004.safetensors"))
            #expect(try refusal { $0.replacingOccurrences(of: "\"rows\" : 40", with: "\"rows\" : 41") }.contains("do not add up"))
            #expect(try refusal { $0.replacingOccurrences(of: "\"rows\" : 10", with: "\"rows\" : 11") }.contains("do not add up"))
            #expect(try refusal { $0.replacingOccurrences(of: "acts-00001-of-00004", with: "../acts-00001-of-00004") }.contains("not a file beside the index"))
            #expect(try refusal { $0.replacingOccurrences(of: "\"F32\"", with: "\"F64\"") }.contains("where the index has F64"))
            #expect(try refusal { $0.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2") }.contains("2"))
            #expect(try refusal { String($0.dropLast(10)) }.contains("not an index of array shards"))
            // Row counts whose sum overflows, and nesting where a shard entry should be.
            #expect(try refusal { $0.replacingOccurrences(of: "\"rows\" : 10", with: "\"rows\" : \(Int.max)") }.contains("do not add up"))
            #expect(try refusal { $0.replacingOccurrences(of: "\"shards\" : [", with: "\"shards\" : [[[[") }.contains("not an index of array shards"))
            // A shard cut short: its header promises more than the file holds.
            let copy = root.appendingPathComponent("truncated")
            try FileManager.default.copyItem(at: folder, to: copy)
            let shard = copy.appendingPathComponent("acts-00003-of-00004.safetensors")
            let bytes = try Data(contentsOf: shard)
            try bytes.prefix(bytes.count - 7).write(to: shard)
            #expect {
                try ArrayFile.read(copy.appendingPathComponent("acts.safetensors"))
            } throws: { "\($0)".contains("acts-00003-of-00004.safetensors") }
            // A header that declares more bytes than the file has.
            var lying = bytes
            lying.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
            try lying.write(to: shard)
            #expect {
                try ArrayFile.read(copy.appendingPathComponent("acts.safetensors"))
            } throws: { "\($0)".contains("acts-00003-of-00004.safetensors") }
        }
    }
}

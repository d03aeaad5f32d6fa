import Foundation
@testable import Formats
import Testing

/// The limits on untrusted input: how they are written, how an error says to raise one, that
/// the README lists each, and that the nesting limits can be raised to their ceiling without
/// running out of stack.
@Suite struct ResourceLimitTests {
    @Test func pairsAreReadAsNamesAndSizesOrCounts() throws {
        let parsed = try ResourceLimit.parse(" npy-header=4M, pickle-depth=500,,tensor=1.5G,labels=64KB ,image=300")
        #expect(parsed.map(\.limit.name) == ["npy-header", "pickle-depth", "tensor", "labels", "image"])
        #expect(parsed.map(\.value) == [4 << 20, 500, 3 << 29, 64 << 10, 300])
        #expect(try ResourceLimit.parse("").isEmpty)
    }

    @Test(arguments: [
        ("bogus=1", "is not NAME=VALUE"),
        ("npy-header", "is not NAME=VALUE"),
        ("npy-header=abc", "a size in bytes"),
        ("npy-header=0", "a size in bytes"),
        ("pickle-depth=-3", "a positive whole number"),
        ("pickle-depth=2.5", "a positive whole number"),
        ("pickle-depth=4K", "a positive whole number"),
        ("json-depth=1001", "above 1000"),
        ("npy-header=2M,bogus=1", "'bogus=1'"),
    ])
    func badPairsAreRefusedNamingThem(_ text: String, _ words: String) {
        #expect {
            _ = try ResourceLimit.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.hasPrefix("REPPROBE_LIMITS: ") && message.contains(words)
        }
    }

    @Test func nothingIsSetUnlessEveryPairIsValid() {
        let before = ResourceLimit.npyHeader.value
        #expect(throws: ResourceLimit.SpecificationError.self) { try ResourceLimit.apply("npy-header=7M,bogus=1") }
        #expect(ResourceLimit.npyHeader.value == before)
    }

    @Test func theMessageSuggestsAValueThatCoversWhatTheFileNeeds() {
        let header = ResourceLimit("npy-header", "a .npy header", bytes: 1 << 20)
        #expect(header.exceeded(needing: 2_000_000_000) == "(1 MiB; REPPROBE_LIMITS=npy-header=2G raises it)")
        #expect(header.exceeded(needing: (3 << 20) + 1) == "(1 MiB; REPPROBE_LIMITS=npy-header=4M raises it)")
        #expect(header.exceeded(needing: 1500) == "(1 MiB; REPPROBE_LIMITS=npy-header=2K raises it)")
        #expect(header.exceeded == "(1 MiB; REPPROBE_LIMITS=npy-header=2M raises it)")
        let depth = ResourceLimit("json-depth", "levels of nesting", count: 32, ceiling: 1000)
        #expect(depth.exceeded(needing: 150) == "(32; REPPROBE_LIMITS=json-depth=150 raises it)")
        #expect(depth.exceeded(needing: 300_000) == "(32; REPPROBE_LIMITS=json-depth=1000 raises it)")
        depth.value = 5000
        #expect(depth.value == 1000)
    }

    @Test func sizesAreWrittenInPowersOf1024() {
        #expect(ByteSize.binary(1 << 20) == "1 MiB")
        #expect(ByteSize.binary(100_000_000) == "95.4 MiB")
        #expect(ByteSize.binary(300) == "300 bytes")
        #expect(ByteSize.binary(3 << 39) == "1.5 TiB")
        #expect(ByteSize.binary(1536 << 10, compact: true) == "1536K")
        #expect(ByteSize.binary(1 << 30, compact: true) == "1G")
        #expect(ByteSize.binary(1000, compact: true) == "1000")
        for bytes in [1536 << 10, 1 << 30, 1000, 7 << 40] { #expect(ByteSize.parse(ByteSize.binary(bytes, compact: true)) == bytes) }
        // Sizes a damaged archive may declare, up to the largest Int, are written without overflow.
        #expect(ByteSize.binary(Int.max) == "8388608.0 TiB")
        #expect(ByteSize.binary(Int.max, compact: true) == String(Int.max))
        #expect(ByteSize.binary((1 << 40) - 1) == "1024.0 GiB")
        #expect(ResourceLimit.archive.exceeded(needing: Int.max).contains("REPPROBE_LIMITS=archive=\(Int.max) raises it"))
        #expect(ByteSize.parse("0.1") == nil)
        #expect(ByteSize.parse("9000000T") == nil)
    }

    /// The README's table of limits names every limit with its default, and nothing else.
    @Test func theReadmeListsEveryLimitWithItsDefault() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Untrusted files and limits").dropFirst().first)
        let rows = section.components(separatedBy: "\n").filter { $0.hasPrefix("| `") }
        var listed: [String: String] = [:]
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            listed[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[2]
        }
        #expect(Set(listed.keys) == Set(ResourceLimit.all.map(\.name)))
        for limit in ResourceLimit.all {
            let expected = limit.defaultValue == ByteSize.defaultBudget ? "three quarters of RAM" : limit.readable
            #expect(listed[limit.name] == expected, "README row of \(limit.name)")
        }
        #expect(Set(ResourceLimit.all.map(\.name)).count == ResourceLimit.all.count)
    }

    /// At the ceiling a limit may be raised to, nesting that deep parses on a test thread,
    /// whose stack is no larger than the command line's.
    @Test func nestingAtTheCeilingParsesWithoutRunningOutOfStack() throws {
        let levels = ResourceLimit.jsonDepth.ceiling
        let json = Array(String(repeating: "[", count: levels) + String(repeating: "]", count: levels)).map { UInt8(ascii: $0.unicodeScalars.first!) }
        #expect(throws: Never.self) { try JSONValue.parse(json, maximumDepth: levels) }
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(json, maximumDepth: levels - 2) }
        let lists = ResourceLimit.pickleDepth.ceiling
        let pickle = [UInt8](repeating: 0x5D, count: lists) + [UInt8](repeating: 0x61, count: lists - 1) + [0x2E]
        #expect(throws: Never.self) { try PyTorchPickle.decode(Data(pickle), maximumDepth: lists) }
        #expect(throws: FormatError.self) { try PyTorchPickle.decode(Data(pickle), maximumDepth: lists - 2) }
    }
}

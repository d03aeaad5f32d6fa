import Foundation
@testable import Formats
import Testing
import ZIPFoundation

/// Deflated members that expand to far more than their array: the header is read from the
/// first bytes, and the member is refused on what it declares, not after inflating it.
/// The bombs are made here, at test time, never stored.
@Suite struct ZipBombTests {
    /// An archive with one deflated member `name`: `header` followed by `zeros` zero bytes.
    static func bomb(at url: URL, name: String = "layer.npy", header: [UInt8], zeros: Int) throws {
        let archive = try Archive(url: url, accessMode: .create)
        let total = header.count + zeros
        try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(total), compressionMethod: .deflate) { position, size in
            var chunk = Data(count: size)
            let start = Int(position)
            for index in start..<max(start, min(start + size, header.count)) { chunk[index - start] = header[index] }
            return chunk
        }
    }

    static let vectorOfFour = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }\n")

    @Test func aSmallHeaderBeforeAHugeBodyIsRefusedOnTheHeader() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("bomb.npz")
            try Self.bomb(at: url, header: Self.vectorOfFour, zeros: 64 << 20)
            #expect(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? .max < 1 << 20)
            let error = formatError { try NPZ.read(url) }
            #expect(error == .member(file: url.path, member: "layer.npy",
                                     error: .trailingData(file: "layer.npy", expected: 16, actual: 64 << 20)))
            #expect(error?.description.contains("bomb.npz") == true)
        }
    }

    @Test func aMemberBeyondTheLimitIsRefusedBeforeInflating() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("large.npz")
            let header = npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (\(4 << 20),), }\n")
            try Self.bomb(at: url, header: header, zeros: 16 << 20)
            let archive = try Archive(url: url, accessMode: .read)
            let entry = try #require(archive.makeIterator().next())
            let size = try NPZ.sizeOfFile(url)
            #expect {
                _ = try NPZ.decodeMember(entry, from: archive, file: url.path, fileSize: size, limit: ResourceLimit("member", "an inflated member", bytes: 1 << 20))
            } throws: { error in
                // 16 MiB of elements and the header's 128 bytes, rounded up to a size to write.
                "\(error)".contains("inflates to 16.0 MiB, more than an inflated member may be (1 MiB; REPPROBE_LIMITS=member=17M raises it)")
            }
            // Within the limit the same member is read, straight into its array.
            let array = try NPZ.decodeMember(entry, from: archive, file: url.path, fileSize: size)
            #expect(array.shape == [4 << 20])
            #expect(array.floats().allSatisfy { $0 == 0 })
        }
    }

    @Test func aHeaderLongerThanAnyRealOneIsRefused() throws {
        try withTemporaryDirectory { folder in
            let url = folder.appendingPathComponent("long-header.npz")
            var header: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
            header += [0, 0, 0, 0x40]  // a header length of 1 GiB
            try Self.bomb(at: url, header: header, zeros: 1 << 20)
            let error = formatError { try NPZ.read(url) }
            #expect(error?.description.contains("more than a .npy header may be (1 MiB; REPPROBE_LIMITS=npy-header=1G raises it)") == true)
        }
    }

    /// Members held at once are added up before any is inflated; a sum past 2⁶⁴ does not wrap.
    @Test func membersHeldTogetherMustFitTogether() throws {
        let limit = ResourceLimit("archive", "the members of one archive read at once", bytes: 3 << 20)
        #expect(throws: Never.self) { try NPZ.requireTotal([1 << 20, 2 << 20], file: "a.npz", limit: limit) }
        #expect {
            try NPZ.requireTotal([2 << 20, 2 << 20], file: "a.npz", limit: limit)
        } throws: { error in
            "\(error)" == "a.npz: its 2 members inflate to 4 MiB in all, more than the members of one archive read at once may be "
                + "(3 MiB; REPPROBE_LIMITS=archive=4M raises it)"
        }
        #expect {
            try NPZ.requireTotal([UInt64.max, 2], file: "a.npz", limit: limit)
        } throws: { error in
            "\(error)".contains("more than 2⁶⁴ bytes in all") && "\(error)".contains("REPPROBE_LIMITS=archive=6M raises it")
        }
    }
}

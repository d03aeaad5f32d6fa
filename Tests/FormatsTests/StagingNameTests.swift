import Foundation
import Formats
import Testing

/// What a killed writer leaves beside its destination is removed by the next write there;
/// what a live writer is still using is left alone.
@Suite struct StagingNameTests {
    /// A process id that no process has (beyond Linux's largest).
    static let deadProcess: Int32 = 2_147_483_000

    @Test func leftoversOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
        try withTemporaryDirectory { folder in
            let target = folder.appendingPathComponent("acts.npz")
            let own = ProcessInfo.processInfo.processIdentifier
            let staleFile = folder.appendingPathComponent(".acts.npz.tmp-\(Self.deadProcess)-0badcafe")
            let staleParts = folder.appendingPathComponent(".acts.npz.parts-\(Self.deadProcess)-0badcafe")
            let liveParts = folder.appendingPathComponent(".acts.npz.parts-\(own)-0badcafe")
            let unrelated = folder.appendingPathComponent(".other.npz.parts-\(Self.deadProcess)-0badcafe")
            try Data("partial".utf8).write(to: staleFile)
            for part in [staleParts, liveParts, unrelated] {
                try FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
                try Data("0".utf8).write(to: part.appendingPathComponent("0.npy"))
            }
            let writer = try NPZStreamWriter(target)
            try writer.begin("x", shape: [2], elementType: .float32)
            try writer.append("x", NumericArray(shape: [2], elementType: .float32, storage: .float32([1, 2])))
            try writer.finish()
            let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
            #expect(left == ["acts.npz", liveParts.lastPathComponent, unrelated.lastPathComponent])
            #expect(try NPZ.read(target).map(\.name) == ["x"])
        }
    }

    @Test func stagingNamesCarryTheProcessId() {
        let url = StagingName.url(beside: URL(fileURLWithPath: "/data/y.npy"), kind: "tmp")
        #expect(url.deletingLastPathComponent().path == "/data")
        #expect(url.lastPathComponent.hasPrefix(".y.npy.tmp-\(ProcessInfo.processInfo.processIdentifier)-"))
    }
}

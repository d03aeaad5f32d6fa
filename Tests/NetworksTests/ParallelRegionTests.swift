import Dispatch
import Synchronization
import Testing
@testable import Networks

/// The runtime's parallel regions (`Parallel.forEach` over `repprobe_parallel`): every part
/// runs once, whatever the number of parts, when a part starts a region of its own, and
/// when several threads start regions at the same time (the helpers serve one, the others
/// run their parts themselves).
@Suite struct ParallelRegionTests {
    /// How many times each part ran.
    final class Counts: Sendable {
        let slots: Mutex<[Int]>
        init(_ count: Int) { slots = Mutex([Int](repeating: 0, count: count)) }
        func record(_ part: Int) { slots.withLock { $0[part] += 1 } }
        var all: [Int] { slots.withLock { $0 } }
    }

    @Test(arguments: [0, 1, 2, 3, 17, 1000])
    func everyPartRunsOnce(parts: Int) {
        let counts = Counts(parts)
        // Parts of uneven length, so that the threads take them in changing turns.
        Parallel.forEach(parts) { part in
            var x = 0.0
            for i in 0..<(part % 7) * 500 { x += Double(i) }
            if x < 0 { print(x) }
            counts.record(part)
        }
        #expect(counts.all == [Int](repeating: 1, count: parts))
    }

    @Test func aRegionStartedInsideAPartRunsItsPartsToo() {
        let counts = Counts(8 * 5)
        Parallel.forEach(8) { outer in
            Parallel.forEach(5) { inner in counts.record(outer * 5 + inner) }
        }
        #expect(counts.all == [Int](repeating: 1, count: 40))
    }

    @Test func regionsStartedFromSeveralThreadsAtOnceRunEveryPart() {
        let callers = 4, rounds = 200, parts = 6
        let counts = Counts(callers * rounds * parts)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for round in 0..<rounds {
                let base = (caller * rounds + round) * parts
                Parallel.forEach(parts) { counts.record(base + $0) }
            }
        }
        #expect(counts.all == [Int](repeating: 1, count: callers * rounds * parts))
    }

    /// A region after the helpers have gone to sleep (they spin for 0.2 ms) wakes them and
    /// still runs every part.
    @Test func regionsAfterAPauseRunEveryPart() async throws {
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(5))
            let counts = Counts(64)
            Parallel.forEach(64) { counts.record($0) }
            #expect(counts.all == [Int](repeating: 1, count: 64))
        }
    }
}

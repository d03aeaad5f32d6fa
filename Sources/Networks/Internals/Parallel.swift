import CVectorMath

/// The runtime's parallel regions: parts of one operation shared between the calling thread
/// and helper threads that wait, spinning for a while, for the next region.
///
/// A forward pass has dozens of regions of a tenth of a millisecond or less. Handing work
/// to Dispatch's workers, which sleep between regions, cost 40–60 µs each time, as much as
/// a small linear layer's half; the helpers (`repprobe_parallel`, in C) take a part within
/// a microsecond while they spin.
package enum Parallel {
    /// The threads that share a region's parts: the caller and the helpers, one per further
    /// core the process may run on.
    package static let threads = repprobe_parallel_threads()

    /// Runs `body(part)` for every part in `0..<parts` and returns when all have run. Each
    /// part must write only what it owns; parts run on any thread, in any order, so the
    /// results must not depend on which. Called from inside a part, or while another thread
    /// runs a region, it runs the parts on the calling thread one after another.
    package static func forEach(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 1 else {
            if parts == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafeMutablePointer(to: &body) { pointer in
                repprobe_parallel(parts, pointer) { context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part)
                }
            }
        }
    }
}

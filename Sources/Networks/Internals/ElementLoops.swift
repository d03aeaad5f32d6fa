/// The loops under the element-wise operators: a map, and a broadcasting binary loop that
/// walks contiguous runs instead of building index maps.
///
/// Every function takes its operation as a closure and is `@inline(__always)`, so each
/// caller gets a loop specialised for its operation and element types.
///
/// Design note: the loops write through pointers obtained by array-to-pointer conversion
/// (`run(&result, a, b, …)`), not inside the closure of `Array(unsafeUninitializedCapacity:)`
/// or `withUnsafeBufferPointer`. When such a closure holds a large loop the optimiser may
/// keep it out of line, and the operation then reaches the loop as a function value,
/// called once per element (measured: 4–5 ns per element instead of about 1 for a
/// broadcast float32 addition).
package enum ElementLoops {
    /// `f` applied to every element.
    @inline(__always)
    static func map<T, R: BitwiseCopyable>(_ x: [T], _ f: (T) -> R) -> [R] {
        var result: [R] = uninitialized(x.count)
        map(&result, x, x.count, f)
        return result
    }

    /// Tensors with at least this many elements are split between two threads by the
    /// loops that take it (the transcendental functions, softmax, layer normalisation,
    /// gathers and transposes). Below it the hand-over costs more than the second core saves.
    package static let parallelThreshold = 1 << 15

    /// Runs `body` over `0..<count`, in two halves on two threads when the elements it
    /// touches (`elements`, by default `count`) reach `threshold`. `body` must
    /// only write what its own range owns.
    ///
    /// `body` reaches the worker threads as a function value, and so does any closure it
    /// captures: the operation inside should be a generic function or method, which is
    /// specialised with the caller, not a closure parameter (the loops above would then
    /// call it once per element).
    package static func inHalves(_ count: Int, elements: Int? = nil, threshold: Int = parallelThreshold, _ body: (Range<Int>) -> Void) {
        guard count >= 2, (elements ?? count) >= threshold else {
            body(0..<count)
            return
        }
        let half = count / 2
        Parallel.forEach(2) { part in body(part == 0 ? 0..<half : half..<count) }
    }

    /// `f` applied element by element to two operands broadcast together (ONNX's
    /// multidirectional broadcasting).
    ///
    /// Dimensions of size 1 are dropped and neighbouring dimensions that both operands
    /// traverse alike are merged, so the innermost loop runs over the longest contiguous
    /// stretch with each operand either advancing or held. A bias of shape `[D]` added to
    /// `[B, T, D]` is `B·T` runs of `D` contiguous pairs; a per-channel `[C, 1, 1]` against
    /// `[N, C, H, W]` is `N·C` runs of `H·W` elements against one value.
    ///
    /// - Throws: ``KernelError`` if the shapes do not broadcast.
    @inline(__always)
    static func binary<A, B, R: BitwiseCopyable>(
        _ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int], _ f: (A, B) -> R
    ) throws -> (elements: [R], shape: [Int]) {
        if aShape == bShape {
            var result: [R] = uninitialized(a.count)
            run(&result, a, b, a.count, true, true, f)
            return (result, aShape)
        }
        let shape = try Broadcast.shape([aShape, bShape])
        let count = Tensor.count(shape)
        var result: [R] = uninitialized(count)
        broadcast(&result, a, b, count, BroadcastRuns(output: shape, aShape, bShape), f)
        return (result, shape)
    }

    /// An array of `count` elements that the caller overwrites before anyone reads it.
    ///
    /// Skips the pass that would zero the memory first. Sound for bitwise-copyable elements
    /// only: for them uninitialised memory holds unspecified values, not broken objects.
    @inline(__always)
    package static func uninitialized<R: BitwiseCopyable>(_ count: Int) -> [R] {
        [R](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    @inline(__always)
    private static func map<T, R>(_ out: UnsafeMutablePointer<R>, _ x: UnsafePointer<T>, _ n: Int, _ f: (T) -> R) {
        for i in 0..<n { out[i] = f(x[i]) }
    }

    /// One run of `n` results, each operand walked or held.
    @inline(__always)
    private static func run<A, B, R>(
        _ out: UnsafeMutablePointer<R>, _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ n: Int,
        _ aAdvances: Bool, _ bAdvances: Bool, _ f: (A, B) -> R
    ) {
        switch (aAdvances, bAdvances) {
        case (true, true):
            for i in 0..<n { out[i] = f(a[i], b[i]) }
        case (true, false):
            let y = b.pointee
            for i in 0..<n { out[i] = f(a[i], y) }
        case (false, true):
            let x = a.pointee
            for i in 0..<n { out[i] = f(x, b[i]) }
        case (false, false):
            let value = f(a.pointee, b.pointee)
            for i in 0..<n { out[i] = value }
        }
    }

    /// All runs, their starting offsets given by an odometer over the outer dimensions.
    @inline(__always)
    private static func broadcast<A, B, R>(
        _ out: UnsafeMutablePointer<R>, _ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ count: Int,
        _ runs: BroadcastRuns, _ f: (A, B) -> R
    ) {
        var counter = [Int](repeating: 0, count: runs.outer.count)
        var aBase = 0, bBase = 0, position = 0
        while position < count {
            run(out + position, a + aBase, b + bBase, runs.length, runs.aAdvances, runs.bAdvances, f)
            position += runs.length
            var axis = runs.outer.count - 1
            while axis >= 0 {
                counter[axis] += 1
                aBase += runs.aStrides[axis]
                bBase += runs.bStrides[axis]
                if counter[axis] < runs.outer[axis] { break }
                aBase -= runs.aStrides[axis] * runs.outer[axis]
                bBase -= runs.bStrides[axis] * runs.outer[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Two operands broadcast to `output`, as runs: within a run each operand either steps by
/// one element or stays put, and the outer dimensions (with each operand's stride along
/// them) say where the next run starts.
struct BroadcastRuns {
    /// The elements in a run.
    let length: Int
    /// Whether a run walks through `a` (else it repeats one element of `a`).
    let aAdvances: Bool
    let bAdvances: Bool
    /// The outer dimensions, outermost first, and each operand's stride along them.
    let outer: [Int]
    let aStrides: [Int]
    let bStrides: [Int]

    /// - Precondition: both shapes broadcast to `output`.
    init(output: [Int], _ aShape: [Int], _ bShape: [Int]) {
        let aOwn = Broadcast.strides(of: aShape, in: output)
        let bOwn = Broadcast.strides(of: bShape, in: output)
        // Innermost first: merge a dimension into the one inside it when both operands
        // continue straight on (or both stay put) across the boundary.
        var dims: [Int] = [], aStrides: [Int] = [], bStrides: [Int] = []
        for axis in output.indices.reversed() where output[axis] != 1 {
            if let last = dims.indices.last,
               aOwn[axis] == aStrides[last] * dims[last], bOwn[axis] == bStrides[last] * dims[last] {
                dims[last] *= output[axis]
            } else {
                dims.append(output[axis])
                aStrides.append(aOwn[axis])
                bStrides.append(bOwn[axis])
            }
        }
        length = dims.first ?? 1
        // The innermost dimension left has stride 1 in an operand that spans it, 0 in one
        // that is broadcast along it.
        aAdvances = (aStrides.first ?? 0) != 0
        bAdvances = (bStrides.first ?? 0) != 0
        outer = Array(dims.dropFirst().reversed())
        self.aStrides = Array(aStrides.dropFirst().reversed())
        self.bStrides = Array(bStrides.dropFirst().reversed())
    }
}

extension Optional where Wrapped == [Float] {
    /// The array's buffer start, or nil for no array.
    func withUnsafeBufferPointerOrNil<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

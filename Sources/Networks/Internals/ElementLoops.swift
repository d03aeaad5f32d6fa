/// The loops under the element-wise operators: a map, and a broadcasting binary loop that
/// walks contiguous runs instead of building index maps.
///
/// Every function takes its operation as a closure and is `@inline(__always)`, so each
/// caller gets a loop specialised for its operation and element types.
enum ElementLoops {
    /// `f` applied to every element.
    @inline(__always)
    static func map<T, R>(_ x: [T], _ f: (T) -> R) -> [R] {
        [R](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { x in
                for i in 0..<x.count { out.initializeElement(at: i, to: f(x[i])) }
            }
            initialized = x.count
        }
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
    static func binary<A, B, R>(
        _ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int], _ f: (A, B) -> R
    ) throws -> (elements: [R], shape: [Int]) {
        if aShape == bShape {
            let result = [R](unsafeUninitializedCapacity: a.count) { out, initialized in
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        for i in 0..<a.count { out.initializeElement(at: i, to: f(a[i], b[i])) }
                    }
                }
                initialized = a.count
            }
            return (result, aShape)
        }
        let shape = try Broadcast.shape([aShape, bShape])
        let count = Tensor.count(shape)
        let runs = BroadcastRuns(output: shape, aShape, bShape)
        let n = runs.length
        let result = [R](unsafeUninitializedCapacity: count) { out, initialized in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    var position = 0
                    runs.forEach { aBase, bBase in
                        switch (runs.aAdvances, runs.bAdvances) {
                        case (true, true):
                            for i in 0..<n { out.initializeElement(at: position + i, to: f(a[aBase + i], b[bBase + i])) }
                        case (true, false):
                            let y = b[bBase]
                            for i in 0..<n { out.initializeElement(at: position + i, to: f(a[aBase + i], y)) }
                        case (false, true):
                            let x = a[aBase]
                            for i in 0..<n { out.initializeElement(at: position + i, to: f(x, b[bBase + i])) }
                        case (false, false):
                            let value = f(a[aBase], b[bBase])
                            for i in 0..<n { out.initializeElement(at: position + i, to: value) }
                        }
                        position += n
                    }
                }
            }
            initialized = count
        }
        return (result, shape)
    }
}

/// Two operands broadcast to `output`, as runs: an odometer over the outer dimensions gives
/// each run's starting offset in both operands, and within a run each operand either steps
/// by one element or stays put.
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

    /// Calls `body` with the offsets in `a` and `b` at which each run starts, in order.
    @inline(__always)
    func forEach(_ body: (_ aBase: Int, _ bBase: Int) -> Void) {
        if outer.contains(0) || length == 0 { return }
        var counter = [Int](repeating: 0, count: outer.count)
        var aBase = 0, bBase = 0
        while true {
            body(aBase, bBase)
            var axis = outer.count - 1
            while axis >= 0 {
                counter[axis] += 1
                aBase += aStrides[axis]
                bBase += bStrides[axis]
                if counter[axis] < outer[axis] { break }
                aBase -= aStrides[axis] * outer[axis]
                bBase -= bStrides[axis] * outer[axis]
                counter[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

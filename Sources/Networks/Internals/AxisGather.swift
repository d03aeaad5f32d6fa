/// A copy that picks source elements independently along each output axis: the data
/// movement behind Transpose, Slice, Split, Expand, Tile, Pad, Gather, DepthToSpace and
/// nearest-neighbour Resize.
///
/// Output element `[i₀, …, iₙ₋₁]` (row-major) is
///
///     source[base + offsets[0][i₀] + … + offsets[n−1][iₙ₋₁]]
///
/// where `offsets[k]` holds, for each index along output axis `k`, the source offset it
/// contributes (a source index times that axis's stride). An offset of `AxisGather.outside`
/// marks a position that lies outside the source; it takes the fill value.
///
/// The copy walks rows of the innermost axis: a row whose offsets are consecutive is one
/// block copy, any other row a tight loop over precomputed offsets. Short innermost axes
/// are merged with their neighbours first, so a transpose that ends in a small dimension
/// still copies long rows.
struct AxisGather {
    /// Marks an output position outside the source.
    static let outside = -1

    var offsets: [[Int]]
    var base = 0

    /// The output shape.
    var shape: [Int] { offsets.map(\.count) }

    init(offsets: [[Int]], base: Int = 0) {
        self.offsets = offsets
        self.base = base
    }

    /// A gather over a source of shape `source` that keeps its axes in order: along axis
    /// `k`, output index `i` reads source index `indices[k][i]` (or `outside`).
    init(source: [Int], indices: [[Int]]) {
        let strides = Tensor.strides(source)
        self.init(offsets: zip(indices, strides).map { indices, stride in
            indices.map { $0 == AxisGather.outside ? AxisGather.outside : $0 * stride }
        })
    }

    /// Output axis `k` is source axis `permutation[k]`.
    static func transpose(_ source: [Int], permutation: [Int]) -> AxisGather {
        let strides = Tensor.strides(source)
        return AxisGather(offsets: permutation.map { axis in
            (0..<source[axis]).map { $0 * strides[axis] }
        })
    }

    /// `source` broadcast to `output` (which it must broadcast to).
    static func broadcast(_ source: [Int], to output: [Int]) -> AxisGather {
        let strides = Broadcast.strides(of: source, in: output)
        return AxisGather(offsets: zip(output, strides).map { count, stride in
            (0..<count).map { $0 * stride }
        })
    }

    /// Applies the gather to elements laid out row-major.
    func apply<T>(_ source: [T], fill: T? = nil) -> [T] {
        let count = Tensor.count(shape)
        guard count > 0 else { return [] }
        precondition(fill != nil || !offsets.contains { $0.contains(AxisGather.outside) },
                     "a gather that reaches outside its source needs a fill value")
        let offsets = mergingShortRows()
        guard let inner = offsets.last else { return [source[base]] }
        let rowLength = inner.count
        let rows = count / rowLength
        let outer = Array(offsets.dropLast())
        let start = inner[0]
        let consecutive = start >= 0 && inner.indices.allSatisfy { inner[$0] == start + $0 }
        let innerOutside = inner.contains(AxisGather.outside)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let destination = buffer.baseAddress else { return }
            source.withUnsafeBufferPointer { source in
                inner.withUnsafeBufferPointer { inner in
                    guard let source = source.baseAddress else { return }
                    // Rows are independent: two threads take half of them each when there are
                    // enough elements, each starting its odometer at its first row.
                    ElementLoops.inHalves(rows, elements: count) { part in
                        var counter = [Int](repeating: 0, count: outer.count)
                        var rest = part.lowerBound
                        for axis in outer.indices.reversed() {
                            (rest, counter[axis]) = rest.quotientAndRemainder(dividingBy: outer[axis].count)
                        }
                        for row in part {
                            let out = destination + row * rowLength
                            var rowBase = base
                            var rowOutside = false
                            for axis in outer.indices {
                                let offset = outer[axis][counter[axis]]
                                if offset == AxisGather.outside { rowOutside = true }
                                rowBase += offset
                            }
                            if rowOutside, let fill {
                                out.initialize(repeating: fill, count: rowLength)
                            } else if consecutive {
                                out.initialize(from: source + rowBase + start, count: rowLength)
                            } else if innerOutside, let fill {
                                for i in 0..<rowLength {
                                    let offset = inner[i]
                                    (out + i).initialize(to: offset == AxisGather.outside ? fill : source[rowBase + offset])
                                }
                            } else {
                                for i in 0..<rowLength { (out + i).initialize(to: source[rowBase + inner[i]]) }
                            }
                            var axis = outer.count - 1
                            while axis >= 0 {
                                counter[axis] += 1
                                if counter[axis] < outer[axis].count { break }
                                counter[axis] = 0
                                axis -= 1
                            }
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// Applies the gather to a tensor's elements, whatever their type; `fill` (one element
    /// of the tensor's type) is needed only if some offsets are `outside`.
    func apply(_ tensor: Tensor, fill: TensorStorage? = nil) -> Tensor {
        Tensor(shape: shape, storage: tensor.storage.visit(Visitor(gather: self, fill: fill)))
    }

    private struct Visitor: StorageVisitor {
        let gather: AxisGather
        let fill: TensorStorage?
        func visit<T: TensorElement>(_ elements: [T]) -> TensorStorage {
            T.storage(gather.apply(elements, fill: fill.flatMap { T.elements(of: $0)?.first }))
        }
    }

    /// The offsets with the innermost axes merged while rows are short: merging axes `a`
    /// and `b` gives one axis of every sum `a[i] + b[j]`, so fewer, longer rows.
    private func mergingShortRows() -> [[Int]] {
        var offsets = self.offsets
        while offsets.count >= 2, let inner = offsets.last, inner.count < 64 {
            let outer = offsets[offsets.count - 2]
            guard outer.count * inner.count <= 1 << 16 else { break }
            var merged: [Int] = []
            merged.reserveCapacity(outer.count * inner.count)
            for a in outer {
                for b in inner {
                    merged.append(a == AxisGather.outside || b == AxisGather.outside ? AxisGather.outside : a + b)
                }
            }
            offsets.removeLast(2)
            offsets.append(merged)
        }
        return offsets
    }
}

/// Scaled dot-product attention from a query-key-value product, one kernel for the chain
/// that ``FusedChain`` finds (`attentions`): for each image `b` and head `h`,
///
///     O[b, :, h, :] = softmax(scale · Q Kᵀ) V,
///
/// with `Q`, `K` and `V` read where the product `[B, N, 3·H·D]` holds them (rows `3·H·D`
/// floats apart) and `O` written into `[B, N, H, D]`. The heads, or bands of their query
/// rows when the heads alone would leave a thread idle, run on the runtime's threads, each
/// band's scores in a buffer of its own.
///
/// The products are the own kernel's, whose sums do not depend on where the operands lie
/// or how the rows are cut, and the scale and softmax are one call per row
/// (`VectorMath.softmax`) whose rounded products are the Mul's and whose softmax is the
/// Softmax operator's row: the result has the bits of the nodes run one by one.
/// Anything else — another element type, a shape that is not the chain's, a CPU without
/// the kernel — runs the nodes' own operators.
struct FusedAttention: Operator {
    /// The nodes' operators and constants, wired as the graph wires them.
    struct Nodes {
        let reshape, split: any Operator
        /// The queries', keys' and values' Gathers and their index tensors.
        let gathers: [any Operator]
        let indices: [Tensor]
        let keysTransposed, scores, scale: any Operator
        let factor: Tensor
        /// Whether the factor is the Mul's first operand.
        let factorFirst: Bool
        let softmax, mix, merge: any Operator

        /// The nodes after the `Reshape`, from its output.
        func run(_ reshaped: Tensor) throws -> [Tensor] {
            let heads = try split.run([reshaped])[0]
            let (q, k, v) = try (gathers[0].run([heads, indices[0]])[0], gathers[1].run([heads, indices[1]])[0],
                                 gathers[2].run([heads, indices[2]])[0])
            let scores = try self.scores.run([q, keysTransposed.run([k])[0]])[0]
            let scaled = try scale.run(factorFirst ? [factor, scores] : [scores, factor])[0]
            return try merge.run([mix.run([softmax.run([scaled])[0], v])[0]])
        }
    }

    /// The indices (0, 1 or 2 along the product's third axis) of the queries, keys and values.
    let roles: [Int]
    /// The scores' factor, when it is a float32 constant.
    let scale: Float?
    let unfused: Nodes

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let product = try inputs.required(0), shape = try inputs.required(1)
        let reshaped = try unfused.reshape.run([product, shape])[0]
        let dims = reshaped.shape
        guard RowMajorGEMM.ownKernel, let scale, let values = product.floats, product.rank == 3, dims.count == 5, dims[2] == 3,
              dims[0] == product.shape[0], dims[1] == product.shape[1] else {
            return try unfused.run(reshaped)
        }
        let (batch, tokens, heads, depth) = (dims[0], dims[1], dims[3], dims[4])
        let width = heads * depth
        var output: [Float] = ElementLoops.uninitialized(batch * tokens * width)
        if !output.isEmpty {
            values.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { out in
                    attend(x.baseAddress!, into: out.baseAddress!, scale: scale, batch: batch, tokens: tokens, heads: heads,
                           depth: depth)
                }
            }
        }
        return [Tensor(shape: [batch, tokens, heads, depth], elements: output)]
    }

    private func attend(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, scale: Float, batch: Int,
                        tokens n: Int, heads: Int, depth d: Int) {
        let width = heads * d, pitch = 3 * width
        let (queries, keys, values) = (roles[0] * width, roles[1] * width, roles[2] * width)
        RowMajorGEMM.forEachBand(batch * heads, rows: n, work: batch * heads * n * n * d) { pair, rows in
            guard !rows.isEmpty else { return }
            let (b, h) = pair.quotientAndRemainder(dividingBy: heads)
            let base = x + b * n * pitch + h * d
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * n)
            defer { scores.deallocate() }
            RowMajorGEMM.kernelProduct(transposeA: false, transposeB: true, m: rows.count, n: n, k: d,
                                       a: base + queries + rows.lowerBound * pitch, lda: pitch, b: base + keys, ldb: pitch,
                                       accumulate: false, c: scores, ldc: n)
            for row in 0..<rows.count { VectorMath.softmax(scores + row * n, scores + row * n, n, scale: scale) }
            RowMajorGEMM.kernelProduct(transposeA: false, transposeB: false, m: rows.count, n: d, k: n,
                                       a: scores, lda: n, b: base + values, ldb: pitch, accumulate: false,
                                       c: out + (b * n + rows.lowerBound) * width + h * d, ldc: width)
        }
    }
}

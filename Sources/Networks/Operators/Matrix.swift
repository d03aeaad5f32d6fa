import LinearAlgebra

/// Gemm and MatMul, through BLAS.
enum MatrixOperators {
    static let factories: [String: OperatorFactory] = [
        "Gemm": { context in
            let alpha = try context.float("alpha", default: 1)
            let beta = try context.float("beta", default: 1)
            let transA = try context.int("transA", default: 0) != 0
            let transB = try context.int("transB", default: 0) != 0
            return ClosureOperator { inputs in
                try [gemm(inputs.required(0), inputs.required(1), inputs.optional(2),
                          alpha: alpha, beta: beta, transA: transA, transB: transB)]
            }
        },
        "MatMul": { _ in ClosureOperator { inputs in try [matmul(inputs.required(0), inputs.required(1))] } },
    ]

    /// `alpha · op(A) · op(B) + beta · C` for 2-D `A`, `B` and `C` broadcast to the result.
    static func gemm(_ a: Tensor, _ b: Tensor, _ c: Tensor?, alpha: Float, beta: Float,
                     transA: Bool, transB: Bool) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else { throw KernelError("A and B must be matrices, not \(a.shape) and \(b.shape)") }
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else {
            throw KernelError("op(A) is \(m)×\(k) and op(B) is \(kb)×\(n): inner dimensions differ")
        }
        _ = try Tensor.checkedCount([m, n], elementBytes: a.dataType.elementBytes)
        switch (a.storage, b.storage) {
        case let (.float32(x), .float32(y)):
            let bias = try c.map { try broadcastBias($0.requireFloats("C"), shape: $0.shape, m: m, n: n) }
            return Tensor(shape: [m, n], elements: gemm(x, y, bias, m: m, n: n, k: k, alpha: alpha, beta: beta, transA: transA, transB: transB))
        case let (.float64(x), .float64(y)):
            let bias: [Double]? = try c.map {
                guard let values = $0.elements(as: Double.self) else { throw KernelError("C must be float64 like A") }
                return try broadcastBias(values, shape: $0.shape, m: m, n: n)
            }
            return Tensor(shape: [m, n], elements: gemm(x, y, bias, m: m, n: n, k: k, alpha: Double(alpha), beta: Double(beta), transA: transA, transB: transB))
        default:
            throw KernelError("A and B must both be float32 or both float64, not \(a.dataType) and \(b.dataType)")
        }
    }

    static func broadcastBias<T: TensorElement>(_ values: [T], shape: [Int], m: Int, n: Int) throws -> [T] {
        if shape == [m, n] { return values }
        let target = try Broadcast.shape([shape, [m, n]])
        guard target == [m, n] else { throw KernelError("C of shape \(shape) does not broadcast to \([m, n])") }
        return Broadcast.indexMap(of: shape, in: [m, n]).map { values[$0] }
    }

    static func gemm<T: BLASScalar & TensorElement>(
        _ a: [T], _ b: [T], _ c: [T]?, m: Int, n: Int, k: Int, alpha: T, beta: T, transA: Bool, transB: Bool
    ) -> [T] {
        var result = (beta != 0 ? c : nil) ?? [T](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { r in
                    RowMajorGEMM.multiply(
                        transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha,
                        a: a.baseAddress!, lda: transA ? m : k, b: b.baseAddress!, ldb: transB ? k : n,
                        beta: c != nil ? beta : 0, c: r.baseAddress!, ldc: n)
                }
            }
        }
        return result
    }

    /// NumPy `matmul`: 1-D operands are promoted (and the added axis removed afterwards),
    /// leading dimensions broadcast. When `B` is a single matrix, the batch of `A` folds into
    /// its rows and one BLAS call does the whole product.
    static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        switch (a.storage, b.storage) {
        case let (.float32(x), .float32(y)):
            let (shape, values) = try matmul(x, a.shape, y, b.shape)
            return Tensor(shape: shape, elements: values)
        case let (.float64(x), .float64(y)):
            let (shape, values) = try matmul(x, a.shape, y, b.shape)
            return Tensor(shape: shape, elements: values)
        default:
            throw KernelError("operands must both be float32 or both float64, not \(a.dataType) and \(b.dataType)")
        }
    }

    static func matmul<T: BLASScalar & TensorElement & BitwiseCopyable>(
        _ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int]
    ) throws -> ([Int], [T]) {
        guard !aShape.isEmpty, !bShape.isEmpty else { throw KernelError("MatMul operands cannot be scalars") }
        let aMatrix = aShape.count == 1 ? [1] + aShape : aShape
        let bMatrix = bShape.count == 1 ? bShape + [1] : bShape
        let m = aMatrix[aMatrix.count - 2], k = aMatrix[aMatrix.count - 1]
        let kb = bMatrix[bMatrix.count - 2], n = bMatrix[bMatrix.count - 1]
        guard k == kb else { throw KernelError("shapes \(aShape) and \(bShape) do not fit: \(k) ≠ \(kb)") }
        let aBatch = Array(aMatrix.dropLast(2)), bBatch = Array(bMatrix.dropLast(2))
        let batch = try Broadcast.shape([aBatch, bBatch])
        let shape = batch + [m, n]
        _ = try Tensor.checkedCount(shape, elementBytes: MemoryLayout<T>.size)
        let batches = Tensor.count(batch)
        // With nothing to sum over the product is zero; otherwise the products write every element.
        guard k > 0 else { return (matmulShape(shape, aShape, bShape), [T](repeating: 0, count: batches * m * n)) }
        var result: [T] = ElementLoops.uninitialized(batches * m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { r in
                    guard let pa = a.baseAddress, let pb = b.baseAddress, let pr = r.baseAddress else { return }
                    if Tensor.count(bBatch) == 1 && aBatch == batch {
                        RowMajorGEMM.multiply(m: batches * m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: pr, ldc: n)
                        return
                    }
                    let aIndex = Broadcast.indexMap(of: aBatch, in: batch)
                    let bIndex = Broadcast.indexMap(of: bBatch, in: batch)
                    if T.self == Float.self {
                        let fa = UnsafeRawPointer(pa).assumingMemoryBound(to: Float.self)
                        let fb = UnsafeRawPointer(pb).assumingMemoryBound(to: Float.self)
                        let fr = UnsafeMutableRawPointer(pr).assumingMemoryBound(to: Float.self)
                        RowMajorGEMM.multiplyEach(batches, m: m, n: n, k: k, lda: k, ldb: n, ldc: n) { i in
                            (fa + aIndex[i] * m * k, fb + bIndex[i] * k * n, fr + i * m * n)
                        }
                        return
                    }
                    for i in 0..<batches {
                        RowMajorGEMM.multiply(m: m, n: n, k: k, a: pa + aIndex[i] * m * k, lda: k,
                                              b: pb + bIndex[i] * k * n, ldb: n, c: pr + i * m * n, ldc: n)
                    }
                }
            }
        }
        return (matmulShape(shape, aShape, bShape), result)
    }

    /// The product's shape without the axes that promoted 1-D operands added.
    private static func matmulShape(_ full: [Int], _ aShape: [Int], _ bShape: [Int]) -> [Int] {
        var shape = full
        if bShape.count == 1 { shape.removeLast() }
        if aShape.count == 1 { shape.remove(at: shape.count - (bShape.count == 1 ? 1 : 2)) }
        return shape
    }
}

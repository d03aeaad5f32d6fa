import Foundation
import Networks

extension Variable {
    /// `x·Wᵀ + b` for `x` of shape `[N, in]`, `weight` of `[out, in]` (PyTorch's and ONNX
    /// Gemm's layout) and `bias` of `[out]`.
    ///
    /// Backward: `∂x = ∂y·W`, `∂W = ∂yᵀ·x`, `∂b = Σₙ ∂y`, each one `sgemm`.
    public func dense(weight: Variable, bias: Variable?) -> Variable {
        precondition(shape.count == 2 && weight.shape.count == 2 && weight.shape[1] == shape[1],
                     "dense: input \(shape) and weight \(weight.shape) do not fit")
        let n = shape[0], inputs = shape[1], outputs = weight.shape[0]
        let x = values, w = weight.values
        var y = [Float](repeating: 0, count: n * outputs)
        if let bias {
            precondition(bias.shape == [outputs], "dense: bias \(bias.shape) should be [\(outputs)]")
            let b = bias.values
            for row in 0..<n { for j in 0..<outputs { y[row * outputs + j] = b[j] } }
        }
        RowMajorGEMM.multiply(transposeB: true, m: n, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                              beta: bias == nil ? 0 : 1, c: &y, ldc: outputs)
        let (input, weightIndex, biasIndex) = (index, weight.index, bias?.index)
        return tape.record(y, shape: [n, outputs]) { dy, tape in
            if tape.needsGradient(input) {
                var dx: [Float] = ElementLoops.uninitialized(n * inputs)
                RowMajorGEMM.multiply(m: n, n: inputs, k: outputs, a: dy, lda: outputs, b: w, ldb: inputs, c: &dx, ldc: inputs)
                tape.accumulate(dx, into: input)
            }
            var dw: [Float] = ElementLoops.uninitialized(outputs * inputs)
            RowMajorGEMM.multiply(transposeA: true, m: outputs, n: inputs, k: n, a: dy, lda: outputs, b: x, ldb: inputs,
                                  c: &dw, ldc: inputs)
            tape.accumulate(dw, into: weightIndex)
            if let biasIndex {
                var db = [Float](repeating: 0, count: outputs)
                for row in 0..<n { for j in 0..<outputs { db[j] += dy[row * outputs + j] } }
                tape.accumulate(db, into: biasIndex)
            }
        }
    }

    /// The mean over the batch of softmax cross-entropy between `[N, K]` logits and class
    /// indices in `0..<K`: `−(1/N) Σₙ log softmax(xₙ)[labelₙ]`.
    ///
    /// Backward: `(softmax(xₙ) − onehot(labelₙ)) / N`.
    public func softmaxCrossEntropy(labels: [Int]) -> Variable {
        precondition(shape.count == 2 && shape[0] == labels.count,
                     "cross-entropy: logits \(shape) and \(labels.count) labels do not fit")
        let n = shape[0], classes = shape[1]
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "cross-entropy: a label is outside 0..<\(classes)")
        let x = values
        var probabilities = [Float](repeating: 0, count: n * classes)
        var total = 0.0
        for row in 0..<n {
            let logits = x[(row * classes)..<((row + 1) * classes)]
            let largest = logits.max() ?? 0
            var sum = 0.0
            for (j, v) in logits.enumerated() {
                let e = Foundation.exp(Double(v - largest))
                probabilities[row * classes + j] = Float(e)
                sum += e
            }
            for j in 0..<classes { probabilities[row * classes + j] = Float(Double(probabilities[row * classes + j]) / sum) }
            total += Foundation.log(sum) - Double(x[row * classes + labels[row]] - largest)
        }
        let input = index
        return tape.record([Float(total / Double(n))], shape: []) { gradient, tape in
            var dx = probabilities
            for row in 0..<n { dx[row * classes + labels[row]] -= 1 }
            let scale = gradient[0] / Float(n)
            for i in dx.indices { dx[i] *= scale }
            tape.accumulate(dx, into: input)
        }
    }
}

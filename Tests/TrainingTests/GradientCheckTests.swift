import Foundation
import Testing
@testable import Training

/// Every operation's backward pass against central finite differences of its forward pass.
///
/// The loss is `Σ rᵢ·yᵢ` with fixed random weights `r`, so its gradient with respect to the
/// output is `r` and the check reaches every output element. Inputs are drawn so that no
/// finite-difference step crosses a kink (ReLU's zero, a tie in a max-pool window).
@Suite struct GradientCheckTests {
    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    struct Input {
        var values: [Float]
        var shape: [Int]
    }

    /// Compares the tape's gradient of every input element with `(L(x + h) − L(x − h))/2h`.
    static func check(_ inputs: [Input], step: Float = 1e-2, tolerance: Double = 2e-3,
                      sourceLocation: SourceLocation = #_sourceLocation,
                      _ build: ([Variable]) -> Variable) {
        func loss(_ inputs: [Input], keeping: Bool) -> (Double, [[Float]]) {
            let tape = Tape(training: true)
            let variables = inputs.map { tape.constant($0.values, shape: $0.shape) }
            let y = build(variables)
            let weights = values(y.count, seed: 99)
            let l = y.weightedSum(weights)
            guard keeping else { return (Double(l.values[0]), []) }
            tape.propagate(from: l, keepingConstants: true)
            let gradients = variables.map { tape.constantGradients[$0.index] ?? Array(repeating: 0, count: $0.count) }
            return (Double(l.values[0]), gradients)
        }
        let (_, analytic) = loss(inputs, keeping: true)
        var scale = 0.0
        for g in analytic { for v in g { scale = max(scale, Double(abs(v))) } }
        for (which, input) in inputs.enumerated() {
            for i in input.values.indices {
                var plus = inputs, minus = inputs
                plus[which].values[i] += step
                minus[which].values[i] -= step
                let numeric = (loss(plus, keeping: false).0 - loss(minus, keeping: false).0) / Double(2 * step)
                let difference = abs(numeric - Double(analytic[which][i]))
                if difference > tolerance * max(1, scale) {
                    Issue.record("input \(which), element \(i): tape \(analytic[which][i]), finite differences \(numeric)",
                                 sourceLocation: sourceLocation)
                    return
                }
            }
        }
    }

    /// Values at least `gap` away from zero.
    static func awayFromZero(_ count: Int, seed: UInt64, gap: Float = 0.1) -> [Float] {
        values(count, seed: seed).map { $0 >= 0 ? $0 + gap : $0 - gap }
    }

    @Test func dense() {
        Self.check([Input(values: Self.values(12, seed: 1), shape: [3, 4]),
                    Input(values: Self.values(20, seed: 2), shape: [5, 4]),
                    Input(values: Self.values(5, seed: 3), shape: [5])]) { v in
            v[0].dense(weight: v[1], bias: v[2])
        }
    }

    /// Stride 1 multiplies shifted planes of the padded input; larger strides unroll it.
    @Test(arguments: [(1, 0, 3), (1, 1, 3), (2, 1, 3), (2, 0, 3), (1, 2, 5), (1, 0, 1)])
    func convolution(stride: Int, padding: Int, kernel: Int) {
        Self.check([Input(values: Self.values(2 * 3 * 6 * 5, seed: 4), shape: [2, 3, 6, 5]),
                    Input(values: Self.values(4 * 3 * kernel * kernel, seed: 5), shape: [4, 3, kernel, kernel]),
                    Input(values: Self.values(4, seed: 6), shape: [4])]) { v in
            v[0].conv2d(weight: v[1], bias: v[2], stride: stride, padding: padding)
        }
    }

    @Test func batchNormalisationInTraining() {
        Self.check([Input(values: Self.values(3 * 2 * 4 * 4, seed: 7).map { $0 * 2 + 0.3 }, shape: [3, 2, 4, 4]),
                    Input(values: [1.5, -0.7], shape: [2]),
                    Input(values: [0.2, 0.4], shape: [2])], step: 1e-2, tolerance: 3e-3) { v in
            v[0].batchNorm(scale: v[1], shift: v[2], statistics: RunningStatistics(channels: 2))
        }
    }

    @Test func reluAndGelu() {
        let input = Input(values: Self.awayFromZero(40, seed: 8, gap: 0.05), shape: [4, 10])
        Self.check([input]) { v in v[0].relu() }
        Self.check([Input(values: Self.values(40, seed: 9).map { $0 * 3 }, shape: [4, 10])]) { v in v[0].gelu() }
    }

    @Test func pooling() {
        // Distinct values at least 0.05 apart: no step changes a window's maximum.
        let distinct: [Float] = (0..<144).map { (i: Int) -> Float in Float((i * 37) % 144) * 0.05 - 3.6 }
        Self.check([Input(values: distinct, shape: [2, 2, 6, 6])], step: 1e-2) { v in v[0].maxPool2d(kernel: 2) }
        Self.check([Input(values: distinct, shape: [2, 2, 6, 6])], step: 1e-2) { v in v[0].maxPool2d(kernel: 3, stride: 2) }
        Self.check([Input(values: Self.values(72, seed: 10), shape: [2, 1, 6, 6])]) { v in v[0].averagePool2d(kernel: 2) }
        Self.check([Input(values: Self.values(72, seed: 11), shape: [2, 4, 3, 3])]) { v in v[0].globalAveragePool() }
    }

    @Test func residualSumAndReshapes() {
        Self.check([Input(values: Self.values(24, seed: 12), shape: [2, 3, 2, 2]),
                    Input(values: Self.values(24, seed: 13), shape: [2, 3, 2, 2])]) { v in
            (v[0] + v[1] + v[0]).flattened()
        }
    }

    @Test func softmaxCrossEntropy() {
        Self.check([Input(values: Self.values(15, seed: 14).map { $0 * 4 }, shape: [3, 5])]) { v in
            v[0].softmaxCrossEntropy(labels: [4, 0, 2])
        }
    }

    @Test func smallNetworkEndToEnd() {
        // conv → BN → GELU → max-pool → residual → global pool → dense → cross-entropy. A
        // weight moves every activation, so the step is small enough that no max-pool window
        // changes its winner (at 1e-2 one does, and the check rightly fails there).
        Self.check([Input(values: Self.values(2 * 1 * 6 * 6, seed: 15), shape: [2, 1, 6, 6]),
                    Input(values: Self.values(3 * 1 * 3 * 3, seed: 16), shape: [3, 1, 3, 3]),
                    Input(values: Self.values(3 * 3 * 3 * 3, seed: 17).map { $0 * 0.5 }, shape: [3, 3, 3, 3]),
                    Input(values: Self.values(4 * 3, seed: 18), shape: [4, 3])], step: 1e-3, tolerance: 5e-3) { v in
            let statistics = RunningStatistics(channels: 3)
            let h = v[0].conv2d(weight: v[1], bias: nil, padding: 1)
                .batchNorm(scale: v[0].tape.constant([1, 1, 1], shape: [3]),
                           shift: v[0].tape.constant([0.1, 0.2, 0.3], shape: [3]), statistics: statistics)
                .gelu().maxPool2d(kernel: 2)
            let r = (h + h.conv2d(weight: v[2], bias: nil, padding: 1)).globalAveragePool().flattened()
            return r.dense(weight: v[3], bias: nil).softmaxCrossEntropy(labels: [1, 3])
        }
    }

    @Test func parametersReceiveTheirGradientAcrossUses() {
        let weight = Parameter(name: "w", shape: [2, 3], value: [1, 2, 3, -1, 0.5, 2], decays: true)
        let tape = Tape()
        let x = tape.constant([1, -1, 2, 0.5, 0.5, -2], shape: [2, 3])
        let w = tape.read(weight)
        // Read twice: the gradients of both uses add up.
        let y = x.dense(weight: w, bias: nil) + x.dense(weight: tape.read(weight), bias: nil)
        tape.backward(from: y.weightedSum([1, 0, 0, 1]))
        // ∂/∂W of 2·(x₀·W₀ + x₁·W₁) is 2·x₀ for row 0 and 2·x₁ for row 1.
        #expect(weight.gradient == [2, -2, 4, 1, 1, -4])
        weight.zeroGradient()
        #expect(weight.gradient == [0, 0, 0, 0, 0, 0])
    }

    @Test(arguments: [true, false])
    func tapesAreFreedWithTheirLastVariable(backward: Bool) {
        // Backward closures must not hold variables (which hold the tape): every step of a
        // training loop would otherwise keep its whole tape alive.
        weak var released: Tape?
        do {
            let model = Architectures.digitNet(residual: true, blocks: 1, width: 4, seed: 0)
            let tape = Tape(training: backward)
            released = tape
            let loss = model.logits(Self.values(2 * 256, seed: 1), batch: 2, on: tape).softmaxCrossEntropy(labels: [1, 2])
            if backward { tape.backward(from: loss) }
        }
        #expect(released == nil)
    }
}

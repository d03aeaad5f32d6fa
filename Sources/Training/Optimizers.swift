import Foundation

/// An update rule for parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// The learning rate, which a schedule may change between steps.
    var learningRate: Float { get set }
    /// Updates every parameter from its gradient (which it leaves in place).
    func step(_ parameters: [Parameter])
}

/// Stochastic gradient descent with momentum, PyTorch's `SGD` rule:
/// `g = ∇ + λ·w` (weight decay for parameters that decay), `b = μ·b + g` (`b = g` at the
/// first step), `w ← w − η·b` (or `w − η·(g + μ·b)` with Nesterov momentum).
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    public let nesterov: Bool
    private var buffers: [ObjectIdentifier: [Float]] = [:]

    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            let decay = parameter.decays ? weightDecay : 0
            var g = parameter.gradient
            if decay != 0 { for i in g.indices { g[i] += decay * parameter.value[i] } }
            if momentum != 0 {
                let key = ObjectIdentifier(parameter)
                var buffer = buffers[key] ?? g
                if buffers[key] != nil { for i in buffer.indices { buffer[i] = momentum * buffer[i] + g[i] } }
                buffers[key] = buffer
                if nesterov { for i in g.indices { g[i] += momentum * buffer[i] } } else { g = buffer }
            }
            for i in parameter.value.indices { parameter.value[i] -= learningRate * g[i] }
        }
    }
}

/// Adam (Kingma & Ba 2015), PyTorch's `Adam` rule: `g = ∇ + λ·w` for parameters that
/// decay, `m = β₁m + (1 − β₁)g`, `v = β₂v + (1 − β₂)g²`,
/// `w ← w − η/(1 − β₁ᵗ) · m/(√v/√(1 − β₂ᵗ) + ε)`; with `decoupled`, AdamW: the decay is
/// `w ← w − ηλw` instead of part of `g`.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupled: Bool
    private var moments: [ObjectIdentifier: (m: [Float], v: [Float])] = [:]
    private var steps = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public func step(_ parameters: [Parameter]) {
        steps += 1
        let correction1 = Float(1 - pow(Double(beta1), Double(steps)))
        let correction2Root = Float((1 - pow(Double(beta2), Double(steps))).squareRoot())
        for parameter in parameters {
            let decay = parameter.decays ? weightDecay : 0
            var g = parameter.gradient
            if decay != 0 {
                if decoupled {
                    for i in parameter.value.indices { parameter.value[i] *= 1 - learningRate * decay }
                } else {
                    for i in g.indices { g[i] += decay * parameter.value[i] }
                }
            }
            let key = ObjectIdentifier(parameter)
            var (m, v) = moments[key] ?? (Array(repeating: 0, count: g.count), Array(repeating: 0, count: g.count))
            let stepSize = learningRate / correction1
            for i in g.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                parameter.value[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
            }
            moments[key] = (m, v)
        }
    }
}

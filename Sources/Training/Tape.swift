import Networks

/// Reverse-mode automatic differentiation on a tape.
///
/// A forward pass through ``Variable``s records, for every operation, its value and a
/// closure that turns the gradient of its output into gradients of its inputs. Walking the
/// record backwards from a scalar loss gives the gradient of every recorded value, and
/// every ``Parameter`` read during the pass receives its share. Layers are written as
/// forward passes only; each primitive operation (a matrix product, a convolution, batch
/// normalisation, …) has its derivative written once, around the BLAS kernels.
///
/// A tape serves one forward and one backward pass. Recording is cheap (one array append
/// per operation); the values are kept until the tape is dropped, as reverse mode needs.
///
/// Design note: Swift's own differentiable programming (`_Differentiation`) works in this
/// toolchain for concrete types, but it does not differentiate through existential values,
/// so a network held as a list of `any Layer` (what recipes, checkpoints and users build)
/// could not be differentiated; a tape can differentiate any composition, and keeps the
/// derivative of each kernel next to the kernel.
public final class Tape {
    struct Entry {
        var value: [Float]
        var shape: [Int]
        /// Adds the gradients of the inputs, given the gradient of this entry's value.
        var backward: ((_ gradient: [Float], _ tape: Tape) -> Void)?
        /// The parameter this entry reads, which receives its gradient.
        var parameter: Parameter?
    }

    var entries: [Entry] = []
    /// The gradient of each entry, filled from the loss backwards.
    private var gradients: [[Float]?] = []

    /// Whether operations record batch statistics and dropout-like behaviour of training
    /// (`true`) or use running statistics (`false`).
    public let isTraining: Bool

    public init(training: Bool = true) {
        isTraining = training
        // Each step allocates and frees megabytes of values and gradients: keep the pages.
        _ = AllocatorSettings.applied
    }

    /// A value that needs no gradient (an input, labels turned into values, a constant).
    public func constant(_ values: [Float], shape: [Int]) -> Variable {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        return record(values, shape: shape, backward: nil)
    }

    /// The current value of `parameter`, recorded so that it receives a gradient.
    public func read(_ parameter: Parameter) -> Variable {
        entries.append(Entry(value: parameter.value, shape: parameter.shape, backward: nil, parameter: parameter))
        return Variable(tape: self, index: entries.count - 1)
    }

    /// Records the result of an operation.
    func record(_ values: [Float], shape: [Int], backward: ((_ gradient: [Float], _ tape: Tape) -> Void)?) -> Variable {
        entries.append(Entry(value: values, shape: shape, backward: backward, parameter: nil))
        return Variable(tape: self, index: entries.count - 1)
    }

    /// Adds `gradient` to the gradient of entry `index` (during the backward pass).
    ///
    /// Backward closures name their inputs by index, never by ``Variable``: a variable
    /// holds its tape, so a closure holding one would keep the tape, and everything on it,
    /// alive forever.
    func accumulate(_ gradient: [Float], into index: Int) {
        if var existing = gradients[index] {
            gradients[index] = nil
            precondition(existing.count == gradient.count, "accumulate: \(gradient.count) gradients for \(existing.count) values")
            existing.withUnsafeMutableBufferPointer { sum in
                gradient.withUnsafeBufferPointer { gradient in
                    for i in sum.indices { sum[i] += gradient[i] }
                }
            }
            gradients[index] = existing
        } else {
            gradients[index] = gradient
        }
    }

    /// Whether the backward pass wants the gradient of entry `index`: an operation's
    /// result or a parameter does, a constant (an input batch) only when a gradient check
    /// keeps them. Operations skip computing what nobody reads.
    func needsGradient(_ index: Int) -> Bool {
        entries[index].backward != nil || entries[index].parameter != nil || keepingConstants
    }

    private var keepingConstants = false

    /// Back-propagates from `loss`, a scalar, and adds every parameter's gradient to
    /// ``Parameter/gradient``.
    public func backward(from loss: Variable) {
        propagate(from: loss, keepingConstants: false)
    }

    /// The gradients that reached constants in the last backward pass that kept them
    /// (the gradient of a loss with respect to the inputs, for gradient checks).
    private(set) var constantGradients: [Int: [Float]] = [:]

    func propagate(from loss: Variable, keepingConstants: Bool) {
        precondition(loss.tape === self, "the loss belongs to another tape")
        precondition(entries[loss.index].value.count == 1, "the loss must be a scalar, not shape \(entries[loss.index].shape)")
        self.keepingConstants = keepingConstants
        gradients = Array(repeating: nil, count: entries.count)
        gradients[loss.index] = [1]
        for index in stride(from: loss.index, through: 0, by: -1) {
            guard let gradient = gradients[index] else { continue }
            // An entry's gradient is complete once every later entry has passed its share on.
            gradients[index] = nil
            let entry = entries[index]
            if let backward = entry.backward {
                backward(gradient, self)
            } else if let parameter = entry.parameter {
                parameter.addGradient(gradient)
            } else if keepingConstants {
                constantGradients[index] = gradient
            }
        }
        gradients = []
    }
}

/// A value recorded on a tape: an index into it, with the value's shape.
public struct Variable {
    let tape: Tape
    let index: Int

    /// The shape, outermost dimension first (`[N, C, H, W]` for images).
    public var shape: [Int] { tape.entries[index].shape }
    /// The values, row-major.
    public var values: [Float] { tape.entries[index].value }
    /// The number of values.
    public var count: Int { tape.entries[index].value.count }
}

/// A trainable array of weights with its gradient, shared by the layer that owns it, the
/// tapes that read it and the optimiser that updates it.
public final class Parameter {
    /// A name unique within its model (`layer1.0.conv1.weight`).
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    /// The sum of the gradients of the backward passes since the last ``zeroGradient()``.
    public private(set) var gradient: [Float]
    /// Whether weight decay applies (weights of convolutions and dense layers; not biases
    /// or normalisation scales, by the usual convention).
    public let decays: Bool

    public init(name: String, shape: [Int], value: [Float], decays: Bool) {
        precondition(value.count == shape.reduce(1, *), "\(value.count) values do not fill shape \(shape)")
        self.name = name
        self.shape = shape
        self.value = value
        self.decays = decays
        gradient = Array(repeating: 0, count: value.count)
    }

    func addGradient(_ g: [Float]) {
        for i in gradient.indices { gradient[i] += g[i] }
    }

    public func zeroGradient() {
        for i in gradient.indices { gradient[i] = 0 }
    }
}

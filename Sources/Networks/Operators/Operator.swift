/// A compiled node: attributes are parsed and checked once, when the network is loaded, so
/// running it only does arithmetic.
protocol Operator: Sendable {
    /// Computes the node's outputs from its inputs (`nil` for an omitted optional input).
    ///
    /// - Throws: ``KernelError`` when the inputs do not fit the operator.
    func run(_ inputs: [Tensor?]) throws -> [Tensor]
}

/// What an operator factory sees of its node: attributes with typed accessors, the operator
/// set version, and the file for messages.
struct NodeContext {
    let node: Node
    let opset: Int
    let file: String
    /// Inputs that are initializers (constants), available at load time.
    let constants: [Int: Tensor]

    /// An unsupported-operator error for this node.
    func unsupported(_ problem: String) -> NetworkError {
        .unsupportedOperator(file: file, node: node.displayName, opType: node.opType, problem: problem)
    }

    /// An invalid-attribute error for this node.
    func invalid(_ problem: String) -> NetworkError {
        .nodeFailed(file: file, node: node.displayName, opType: node.opType, problem: problem)
    }

    func has(_ name: String) -> Bool { node.attributes[name] != nil }

    func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    func int(_ name: String) throws -> Int? {
        switch node.attributes[name] {
        case nil: return nil
        case let .int(v)?: return v
        default: throw invalid("attribute '\(name)' should be an integer")
        }
    }

    func ints(_ name: String) throws -> [Int]? {
        switch node.attributes[name] {
        case nil: return nil
        case let .ints(v)?: return v
        case let .int(v)?: return [v]
        default: throw invalid("attribute '\(name)' should be a list of integers")
        }
    }

    func float(_ name: String, default value: Float) throws -> Float {
        switch node.attributes[name] {
        case nil: return value
        case let .float(v)?: return v
        case let .int(v)?: return Float(v)
        default: throw invalid("attribute '\(name)' should be a float")
        }
    }

    func floats(_ name: String) throws -> [Float]? {
        switch node.attributes[name] {
        case nil: return nil
        case let .floats(v)?: return v
        case let .float(v)?: return [v]
        default: throw invalid("attribute '\(name)' should be a list of floats")
        }
    }

    func string(_ name: String, default value: String) throws -> String {
        switch node.attributes[name] {
        case nil: return value
        case let .string(v)?: return v
        default: throw invalid("attribute '\(name)' should be a string")
        }
    }

    func tensor(_ name: String) throws -> Tensor? {
        switch node.attributes[name] {
        case nil: return nil
        case let .tensor(v)?: return v
        default: throw invalid("attribute '\(name)' should be a tensor")
        }
    }

    /// Throws if the node carries an attribute whose value changes the result in a way the
    /// kernel does not implement.
    func require(_ name: String, in allowed: Set<String>, default value: String) throws -> String {
        let v = try string(name, default: value)
        guard allowed.contains(v) else {
            throw unsupported("\(name) = '\(v)' is not supported (supported: \(allowed.sorted().joined(separator: ", ")))")
        }
        return v
    }
}

typealias OperatorFactory = @Sendable (NodeContext) throws -> any Operator

/// The operators the runtime implements, by ONNX `op_type` (default domain).
enum OperatorRegistry {
    static let factories: [String: OperatorFactory] = {
        var table: [String: OperatorFactory] = [:]
        for family in [
            ElementwiseOperators.factories, MatrixOperators.factories, ConvolutionOperators.factories,
            ShapeOperators.factories, NormalizationOperators.factories, PoolingOperators.factories,
            ReductionOperators.factories, ResizeOperators.factories,
        ] {
            table.merge(family) { first, _ in first }
        }
        return table
    }()

    /// The operator names, sorted.
    static var supported: [String] { factories.keys.sorted() }
}

/// A closure-backed operator, for operators whose compiled state is just captured values.
struct ClosureOperator: Operator {
    let body: @Sendable ([Tensor?]) throws -> [Tensor]
    func run(_ inputs: [Tensor?]) throws -> [Tensor] { try body(inputs) }
}

extension Array where Element == Tensor? {
    /// The input at `index`, which the operator requires.
    func required(_ index: Int) throws -> Tensor {
        guard index < count, let tensor = self[index] else { throw KernelError("input \(index) is missing") }
        return tensor
    }

    /// The optional input at `index`.
    func optional(_ index: Int) -> Tensor? { index < count ? self[index] : nil }
}

extension Tensor {
    /// The `float32` elements, or a kernel error naming the operand.
    func requireFloats(_ what: String = "input") throws -> [Float] {
        guard let values = floats else { throw KernelError("\(what) must be float32, not \(dataType)") }
        return values
    }

    /// The elements as integers (from int64, int32, int8 or uint8 tensors).
    func integers(_ what: String = "input") throws -> [Int] {
        switch storage {
        case let .int64(a): return a.map { Int($0) }
        case let .int32(a): return a.map { Int($0) }
        case let .int8(a): return a.map { Int($0) }
        case let .uint8(a): return a.map { Int($0) }
        default: throw KernelError("\(what) must hold integers, not \(dataType)")
        }
    }
}

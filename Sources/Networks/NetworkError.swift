import Foundation

/// What can go wrong loading or running a network. Every message names the model file,
/// and the node and its operator where one is involved.
public enum NetworkError: Error, Equatable, LocalizedError {
    /// The file is not a model repprobe can read, or its content is inconsistent.
    case invalidModel(file: String, problem: String)
    /// A node uses an operator (or an attribute value) that the runtime does not implement.
    case unsupportedOperator(file: String, node: String, opType: String, problem: String)
    /// A node's inputs do not fit its operator (shapes, types, attribute values).
    case nodeFailed(file: String, node: String, opType: String, problem: String)
    /// The inputs given to `run` do not match the graph's inputs.
    case invalidInput(file: String, problem: String)
    /// A tensor name that the graph does not have.
    case unknownTensor(file: String, name: String, available: [String])
    /// A weight file does not fit the graph it is applied to.
    case weightMismatch(file: String, problem: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidModel(file, problem):
            return "\(file): \(problem)"
        case let .unsupportedOperator(file, node, opType, problem):
            return "\(file): node '\(node)' (\(opType)): \(problem)"
        case let .nodeFailed(file, node, opType, problem):
            return "\(file): node '\(node)' (\(opType)): \(problem)"
        case let .invalidInput(file, problem):
            return "\(file): \(problem)"
        case let .unknownTensor(file, name, available):
            return "\(file): no tensor named '\(name)'; available: \(NetworkError.list(available))"
        case let .weightMismatch(file, problem):
            return "\(file): \(problem)"
        }
    }

    /// A list of names, cut after 40 with a count of the rest.
    static func list(_ names: [String]) -> String {
        let shown = names.prefix(40).joined(separator: ", ")
        return names.count > 40 ? "\(shown), … (\(names.count - 40) more)" : shown
    }
}

/// A problem found by a kernel; the executor adds the node, operator and file.
struct KernelError: Error {
    let problem: String
    init(_ problem: String) { self.problem = problem }
}

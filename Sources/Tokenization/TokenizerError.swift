import Foundation

/// What can go wrong reading a tokenizer. Every message names the file.
public enum TokenizerError: Error, Equatable, LocalizedError {
    /// The file is missing, unreadable, or not what it should be.
    case invalidFile(file: String, problem: String)
    /// The tokenizer uses a component repprobe does not implement.
    case unsupported(file: String, component: String, problem: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidFile(file, problem): return "\(file): \(problem)"
        case let .unsupported(file, component, problem): return "\(file): \(component): \(problem)"
        }
    }
}

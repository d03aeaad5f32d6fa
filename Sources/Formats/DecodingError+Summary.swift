import Foundation

extension DecodingError {
    /// One line for a user: what is wrong and at which key path (`at 'stimuli.size'`).
    public var summary: String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch self {
        case let .keyNotFound(key, context): return "missing key '\(key.stringValue)'\(path(context))"
        case let .typeMismatch(type, context): return "expected \(type)\(path(context)): \(context.debugDescription)"
        case let .valueNotFound(type, context): return "missing \(type) value\(path(context))"
        case let .dataCorrupted(context): return context.debugDescription + path(context)
        @unknown default: return "\(self)"
        }
    }
}
